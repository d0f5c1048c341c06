//! Helpers shared by the integration tests: running protoc with the real
//! plugin binary on the corpus or the example protos, and reading back what
//! it wrote.

// Every test crate compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The include directory of the corpus protos, canonical so that protoc
/// (which compares paths as text) sees the protos inside it.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/proto/corpus")
        .canonicalize()
        .unwrap()
}

/// Every `.proto` under the corpus, sorted, as absolute paths.
pub fn corpus_protos() -> Vec<PathBuf> {
    let mut protos = Vec::new();
    collect_protos(&corpus_dir(), &mut protos);
    protos.sort();
    assert!(!protos.is_empty(), "the corpus has no protos");
    protos
}

fn collect_protos(dir: &Path, protos: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_protos(&path, protos);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            protos.push(path);
        }
    }
}

/// The include directory of the example protos, canonical like [`corpus_dir`].
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/proto")
        .canonicalize()
        .unwrap()
}

/// The protos the examples crate compiles, as absolute paths.
pub fn example_protos() -> [PathBuf; 2] {
    let dir = examples_dir();
    [dir.join("helloworld.proto"), dir.join("route_guide.proto")]
}

/// The plugin binary under test.
pub fn plugin_bin() -> &'static str {
    env!("CARGO_BIN_EXE_protoc-gen-rsrpc")
}

/// Runs the vendored protoc with the plugin on `protos` (found under
/// `include`), writing into `out_dir`, with `--rsrpc_opt=<parameter>`.
pub fn run_protoc(protos: &[PathBuf], include: &Path, parameter: &str, out_dir: &Path) -> Output {
    let protoc = protoc_bin_vendored::protoc_bin_path().unwrap();
    let well_known = protoc_bin_vendored::include_path().unwrap();
    Command::new(protoc)
        .arg(format!("--plugin=protoc-gen-rsrpc={}", plugin_bin()))
        .arg(format!("--rsrpc_out={}", out_dir.display()))
        .arg(format!("--rsrpc_opt={parameter}"))
        .arg("-I")
        .arg(include)
        .arg("-I")
        .arg(well_known)
        .args(protos)
        .output()
        .unwrap()
}

/// Runs the plugin on the whole corpus, asserting success, and returns the
/// generated files.
pub fn generate_corpus(parameter: &str) -> BTreeMap<String, String> {
    generate(&corpus_protos(), &corpus_dir(), parameter)
}

/// Runs the plugin on `protos` (found under `include`), asserting success,
/// and returns the generated files.
pub fn generate(protos: &[PathBuf], include: &Path, parameter: &str) -> BTreeMap<String, String> {
    let out = tempfile::tempdir().unwrap();
    let output = run_protoc(protos, include, parameter, out.path());
    assert!(
        output.status.success(),
        "protoc failed with `{parameter}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    read_files(out.path())
}

/// The files directly inside `dir`, by name.
pub fn read_files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}
