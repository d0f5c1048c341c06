//! External programs and files the tests use (h2load, nginx, grpc_health_probe, grpcurl,
//! ghz, buf, Debian's protos): each is installed under the workspace's `target/` by a
//! script of the repository, which a test runs when it is missing. What cannot be
//! installed fails the test, loudly. Also the protoc-gen-rsrpc binary, built by cargo for
//! tests outside its package.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

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
    installed_when(binary, script, |binary| runs(binary, check_arg))
}

/// `path` (relative to the workspace root) once `ready` says so; if it does not, runs
/// `script` (relative to the root) to install it first. Panics, with the script's own
/// message above, if it is still not ready.
fn installed_when(path: &str, script: &str, ready: impl Fn(&Path) -> bool) -> PathBuf {
    // Tests of one process share the install; two scripts writing one tree would clash.
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _installing = INSTALLING
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let path = workspace_root().join(path);
    if ready(&path) {
        return path;
    }
    eprintln!("installing {} with {script}", path.display());
    let status = Command::new(workspace_root().join(script))
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status();
    assert!(
        status.as_ref().is_ok_and(|status| status.success()),
        "{script} could not install {} ({status:?}; see its message above)",
        path.display()
    );
    assert!(
        ready(&path),
        "{script} succeeded but {} is not usable",
        path.display()
    );
    path
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

/// The buf of `tests/install-buf`.
pub fn buf() -> PathBuf {
    installed("target/tools/buf/bin/buf", "--version", "tests/install-buf")
}

/// The include directory of the gRPC and Google API protos Debian ships, as installed by
/// `tests/install-protos`.
pub fn debian_protos() -> PathBuf {
    let installed = installed_when("target/tools/protos", "tests/install-protos", |dir| {
        dir.join("installed").is_file()
    });
    installed.join("include")
}

/// The protoc-gen-rsrpc binary of this checkout. Cargo builds it (or finds it up to
/// date) once per test process, with the profile and target directory of the running
/// test, so a stale binary is never used.
pub fn protoc_gen_rsrpc() -> &'static Path {
    static PLUGIN: OnceLock<PathBuf> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        // The test runs from <target>/<profile>/deps/.
        let test = std::env::current_exe().expect("the test binary has a path");
        let profile_dir = test
            .parent()
            .and_then(Path::parent)
            .expect("the test binary is in <target>/<profile>/deps");
        let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => "dev",
            Some(name) => name,
            None => panic!("no profile in {}", profile_dir.display()),
        };
        let target_dir = profile_dir.parent().expect("<target>/<profile>");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "protoc-gen-rsrpc", "--bin"])
            .arg("protoc-gen-rsrpc")
            .args(["--profile", profile, "--target-dir"])
            .arg(target_dir)
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .status();
        assert!(
            status.as_ref().is_ok_and(|status| status.success()),
            "cargo could not build protoc-gen-rsrpc ({status:?})"
        );
        profile_dir.join("protoc-gen-rsrpc")
    })
}
