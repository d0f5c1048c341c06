//! The vendored protos are the suite's own: byte for byte the files of the pinned
//! `connectrpc.com/conformance` module, and all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{conformance_dir, pinned_version, require_go};

/// Where the protos are, in the module and in this repository.
const PROTO_DIR: &str = "proto/connectrpc/conformance/v1";

/// The module's directory in the Go module cache, downloaded if it is not there yet.
fn module_dir(version: &str) -> PathBuf {
    require_go("to download the conformance module with `go mod download`");
    let module = format!("connectrpc.com/conformance@{version}");
    let output = Command::new("go")
        .args(["mod", "download", "-json", &module])
        .output()
        .expect("go runs");
    assert!(
        output.status.success(),
        "go mod download {module} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let info: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("go mod download -json prints JSON");
    let dir = info["Dir"].as_str().expect("the module has a Dir");
    PathBuf::from(dir)
}

/// The `.proto` files of `dir`, by name, with their contents.
fn protos(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("a readable proto");
            (name, bytes)
        })
        .collect()
}

#[test]
fn vendored_protos_are_the_pinned_modules() {
    let version = pinned_version();
    let upstream = protos(&module_dir(&version).join(PROTO_DIR));
    let vendored = protos(&conformance_dir().join(PROTO_DIR));
    assert!(
        !upstream.is_empty(),
        "the module has no protos in {PROTO_DIR}"
    );
    assert_eq!(
        vendored.keys().collect::<Vec<_>>(),
        upstream.keys().collect::<Vec<_>>(),
        "the vendored protos are not the files of connectrpc.com/conformance@{version}"
    );
    for (name, bytes) in &upstream {
        assert!(
            vendored[name] == *bytes,
            "conformance/{PROTO_DIR}/{name} differs from connectrpc.com/conformance@{version}'s: copy it again"
        );
    }
}
