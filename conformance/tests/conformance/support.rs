//! What the conformance tests share: the pinned suite version, and Go.

use std::path::Path;
use std::process::{Command, Stdio};

/// The `conformance/` directory, where the scripts, configs and protos are.
pub fn conformance_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The suite's version, as `conformance/install` pins it: one pin for the runner and
/// the vendored protos.
pub fn pinned_version() -> String {
    let script = std::fs::read_to_string(conformance_dir().join("install"))
        .expect("conformance/install is readable");
    script
        .lines()
        .find_map(|line| line.strip_prefix("version="))
        .expect("conformance/install pins `version=`")
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
