//! Generates the benchmark services three times: for rsrpc (messages and services, into
//! `$OUT_DIR`), for tonic (services only, into `$OUT_DIR/tonic`) and for connect-rust
//! (its own buffa messages and services, into `$OUT_DIR/connect`).
//!
//! tonic's services use the messages rsrpc generated, through `extern_path`, so both
//! stacks encode and decode the very same prost types and only the RPC layer differs.
//! connect-rust's services need buffa's messages and views, so it gets its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use buffa_codegen::BytesRepr;
use connectrpc_build::CodeGenConfig;

const PROTOS: [&str; 2] = ["../examples/proto/helloworld.proto", "proto/bench.proto"];
const INCLUDES: [&str; 2] = ["../examples/proto", "proto"];
/// The same files as [`PROTOS`], named relative to their include directory.
const PROTO_NAMES: [&str; 2] = ["helloworld.proto", "bench.proto"];

fn main() -> std::io::Result<()> {
    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(std::io::Error::other)?;
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    protoc_gen_rsrpc::configure()
        .protoc(&protoc)
        .bytes(".bench")
        .compile(&PROTOS, &INCLUDES)?;

    let tonic_dir = out_dir.join("tonic");
    std::fs::create_dir_all(&tonic_dir)?;
    // The vendored protoc, so that no system protoc is needed (same as setting PROTOC).
    let mut config = prost_build::Config::new();
    config.protoc_executable(&protoc);
    tonic_prost_build::configure()
        .out_dir(tonic_dir)
        .extern_path(".helloworld", "crate::proto::helloworld")
        .extern_path(".bench", "crate::proto::bench")
        .compile_with_config(config, &PROTOS, &INCLUDES)?;

    generate_connect(&protoc, &out_dir)
}

/// connect-rust's messages and services, proto-only (its `json` feature is off).
/// connectrpc-build finds protoc through `PROTOC` only, so the descriptor set comes
/// from the vendored protoc here.
fn generate_connect(protoc: &Path, out_dir: &Path) -> std::io::Result<()> {
    let descriptors = out_dir.join("connect-descriptors.pb");
    let mut command = Command::new(protoc);
    command
        .args(["--include_imports", "--include_source_info"])
        .arg(format!("--descriptor_set_out={}", descriptors.display()));
    for include in INCLUDES {
        command.arg(format!("--proto_path={include}"));
    }
    let status = command.args(PROTOS).status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("protoc failed: {status}")));
    }
    // `bytes` fields as `Bytes`, as rsrpc's are, so that streamed payloads share a buffer.
    let mut messages = CodeGenConfig::default();
    messages.generate_json = false;
    messages.bytes_fields = vec![(".bench".to_owned(), BytesRepr::Bytes)];
    connectrpc_build::Config::new()
        .descriptor_set(&descriptors)
        .files(&PROTO_NAMES)
        .out_dir(out_dir.join("connect"))
        .buffa_config(messages)
        .include_file("mod.rs")
        // Its directive would watch the descriptor set written above, rerunning every build.
        .emit_rerun_directives(false)
        .compile()
        .map_err(std::io::Error::other)?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
