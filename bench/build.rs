//! Generates the benchmark services twice: for rsrpc (messages and services, into
//! `$OUT_DIR`) and for tonic (services only, into `$OUT_DIR/tonic`).
//!
//! tonic's services use the messages rsrpc generated, through `extern_path`, so both
//! stacks encode and decode the very same prost types and only the RPC layer differs.

use std::path::PathBuf;

const PROTOS: [&str; 2] = ["../examples/proto/helloworld.proto", "proto/bench.proto"];
const INCLUDES: [&str; 2] = ["../examples/proto", "proto"];

fn main() -> std::io::Result<()> {
    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(std::io::Error::other)?;

    protoc_gen_rsrpc::configure()
        .protoc(&protoc)
        .bytes(".bench")
        .compile(&PROTOS, &INCLUDES)?;

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let tonic_dir = out_dir.join("tonic");
    std::fs::create_dir_all(&tonic_dir)?;
    // The vendored protoc, so that no system protoc is needed (same as setting PROTOC).
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .out_dir(tonic_dir)
        .extern_path(".helloworld", "crate::proto::helloworld")
        .extern_path(".bench", "crate::proto::bench")
        .compile_with_config(config, &PROTOS, &INCLUDES)
}
