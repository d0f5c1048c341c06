//! Where the harness finds the package's files and keeps its cache.

use std::path::{Path, PathBuf};

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
