//! Where the harness finds the package's files and keeps its cache.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::provision;

/// The `interop` package directory (`tests/interop`).
pub fn package_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The cargo workspace root, two levels above the package.
pub fn workspace_root() -> &'static Path {
    package_dir()
        .ancestors()
        .nth(2)
        .expect("the package is at tests/interop in the workspace")
}

/// The workspace `target/` directory: `CARGO_TARGET_DIR` when set (a relative one is
/// taken from the workspace root, where cargo is usually run), else `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The harness cache: peer binaries, venv, stubs, certificates and logs.
pub fn interop_dir() -> PathBuf {
    target_dir().join("interop")
}

/// Where the logs of provisioning steps and matrix cells go.
pub fn logs_dir() -> PathBuf {
    interop_dir().join("logs")
}

/// Empties `logs/<name>/` (a matrix cell's, or the h2spec run's) and returns it, with a
/// lock held until the returned file is dropped: another test process running the
/// same thing would clear the logs under it.
pub fn fresh_logs(name: &str) -> Result<(PathBuf, File), String> {
    let parent = logs_dir();
    fs::create_dir_all(&parent).map_err(|err| format!("creating {}: {err}", parent.display()))?;
    let lock = provision::lock(&parent.join(format!("{name}.lock")))?;
    let logs = parent.join(name);
    let _ = fs::remove_dir_all(&logs);
    fs::create_dir_all(&logs).map_err(|err| format!("creating {}: {err}", logs.display()))?;
    Ok((logs, lock))
}
