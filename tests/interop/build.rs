//! Generates `grpc.testing` from the protos of Debian's `grpc-proto` package, installing
//! the package when it is missing and this build may (root with apt-get).

use std::path::Path;
use std::process::Command;

/// Where Debian's `grpc-proto` puts its protos.
const PROTO_ROOT: &str = "/usr/share/grpc-proto";
const TEST_PROTO: &str = "/usr/share/grpc-proto/grpc/testing/test.proto";

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed={TEST_PROTO}");
    if !Path::new(TEST_PROTO).exists() {
        install_grpc_proto();
    }
    if !Path::new(TEST_PROTO).exists() {
        panic!(
            "{TEST_PROTO} is missing: install Debian's grpc-proto package \
             (`apt-get update && apt-get install -y grpc-proto`)"
        );
    }
    // The descriptor set lets interop-server answer server reflection.
    protoc_gen_rsrpc::configure()
        .file_descriptor_set(true)
        .compile(&[TEST_PROTO], &[PROTO_ROOT])
}

/// Installs `grpc-proto` with apt-get, refreshing the package lists if the first try
/// fails. Failures are reported by the check that follows.
fn install_grpc_proto() {
    println!("cargo:warning=installing Debian package grpc-proto for the interop protos");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "grpc-proto"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    if !install() {
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        install();
    }
}
