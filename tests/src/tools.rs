//! External programs the tests drive (h2load, nginx, grpc_health_probe, grpcurl, ghz):
//! each is installed under the workspace's `target/` by a script of the repository,
//! which a test runs when the program is missing. A program that cannot be installed
//! fails the test, loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The workspace root: the install scripts and their `target/` are relative to it.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package is at tests/ in the workspace")
}

/// `binary` (relative to the workspace root), once it runs with `check_arg`; if it does
/// not, runs `script` (relative to the root) to install it first. Panics, with the
/// script's own message above, if the program still does not run.
pub fn installed(binary: &str, check_arg: &str, script: &str) -> PathBuf {
    // Tests of one process share the install; two scripts writing one tree would clash.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let binary = workspace_root().join(binary);
    if runs(&binary, check_arg) {
        return binary;
    }
    eprintln!("installing {} with {script}", binary.display());
    let status = Command::new(workspace_root().join(script))
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status();
    assert!(
        status.as_ref().is_ok_and(|status| status.success()),
        "{script} could not install {} ({status:?}; see its message above)",
        binary.display()
    );
    assert!(
        runs(&binary, check_arg),
        "{script} succeeded but {} does not run",
        binary.display()
    );
    binary
}

/// Whether `binary check_arg` exits with success.
fn runs(binary: &Path, check_arg: &str) -> bool {
    Command::new(binary)
        .arg(check_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The h2load of `bench/install-h2load`.
pub fn h2load() -> PathBuf {
    installed(
        "target/bench-tools/h2load/bin/h2load",
        "--version",
        "bench/install-h2load",
    )
}

/// The nginx of `tests/install-nginx`.
pub fn nginx() -> PathBuf {
    installed("target/tools/nginx/bin/nginx", "-v", "tests/install-nginx")
}

/// The grpc_health_probe of `tests/install-grpc-health-probe`.
pub fn grpc_health_probe() -> PathBuf {
    installed(
        "target/tools/grpc-health-probe/grpc-health-probe",
        "-version",
        "tests/install-grpc-health-probe",
    )
}

/// The grpcurl of `tests/install-grpcurl`.
pub fn grpcurl() -> PathBuf {
    installed(
        "target/tools/grpcurl/grpcurl",
        "--version",
        "tests/install-grpcurl",
    )
}

/// The ghz of `tests/install-ghz`.
pub fn ghz() -> PathBuf {
    installed("target/tools/ghz/ghz", "--version", "tests/install-ghz")
}
