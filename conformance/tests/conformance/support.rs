//! What the conformance tests share: the pinned suite version, Go, and the runner.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `conformance/` directory, where the scripts, configs and protos are.
pub fn conformance_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root, which the runner is installed under.
pub fn workspace_root() -> &'static Path {
    conformance_dir()
        .parent()
        .expect("conformance/ is in the workspace")
}

/// The suite's version, as `conformance/install` pins it: one pin for the runner and
/// the vendored protos.
pub fn pinned_version() -> String {
    let script = std::fs::read_to_string(conformance_dir().join("install"))
        .expect("conformance/install is readable");
    script
        .lines()
        .find_map(|line| line.strip_prefix("pinned="))
        .expect("conformance/install pins `pinned=`")
        .trim()
        .to_owned()
}

/// Fails the test, loudly, when Go is missing.
pub fn require_go(why: &str) {
    let found = Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "this test needs Go (https://go.dev/dl/) {why}, and no `go` runs here"
    );
}

/// The runner, installed by `conformance/install` unless the pinned one is there. The
/// script fails, naming Go, when it must install it and Go is missing.
pub fn runner() -> PathBuf {
    let status = Command::new(conformance_dir().join("install"))
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status();
    assert!(
        status.as_ref().is_ok_and(|status| status.success()),
        "conformance/install failed ({status:?}; see its message above)"
    );
    workspace_root().join("target/tools/connectconformance/connectconformance")
}
