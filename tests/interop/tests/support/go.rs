//! Running `go` in one of the package's pinning Go modules: `go/` pins grpc-go,
//! `h2spec/` pins h2spec.

use std::path::Path;
use std::process::Command;

use super::provision;

/// What to do when `go` is missing.
pub const NOT_FOUND: &str =
    "go not found: install Go (https://go.dev/dl or apt-get install golang)";

/// `go args...` run in the module at `module_dir`, so that the module's `go.mod` and
/// `go.sum` pick every version.
pub fn in_module(module_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("go");
    command.args(args).current_dir(module_dir);
    command
}

/// The pin of the module at `module_dir`: its `go.mod` and `go.sum`, for the stamp of
/// what is built from it, so that a version bump rebuilds.
pub fn pin(module_dir: &Path) -> Result<String, String> {
    Ok(provision::input(&module_dir.join("go.mod"))?
        + &provision::input(&module_dir.join("go.sum"))?)
}
