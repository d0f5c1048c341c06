//! Compiles every `.proto` under `proto/corpus/`, `proto/e2e/` and the runtime's
//! `proto/` (the services it bundles, for their clients) with the rsrpc builder,
//! into one module tree (`protos.rs`), each package with its descriptor set for
//! server reflection, and every message with its JSON form.

use std::io;
use std::path::{Path, PathBuf};

/// Proto roots: each is an include directory, and all its `.proto` files
/// are compiled.
const ROOTS: &[&str] = &["proto/corpus", "proto/e2e", "../runtime/proto"];

fn main() -> io::Result<()> {
    // Cargo scans a directory recursively, so added protos rerun this too.
    for root in ROOTS {
        println!("cargo:rerun-if-changed={root}");
    }
    let roots: Vec<&Path> = ROOTS.iter().map(Path::new).collect();
    let mut protos = Vec::new();
    for root in &roots {
        collect_protos(root, &mut protos)?;
    }
    protos.sort();
    protoc_gen_rsrpc::configure()
        .include_file("protos.rs")
        .file_descriptor_set(true)
        .json(true)
        .compile(&protos, &roots)
}

/// Appends the `.proto` files under `dir`, recursively.
fn collect_protos(dir: &Path, protos: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, protos)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            protos.push(path);
        }
    }
    Ok(())
}
