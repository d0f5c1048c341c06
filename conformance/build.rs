//! Generates the messages of the vendored conformance protos, the
//! `ConformanceService` server the conformance server implements and the client the
//! conformance client calls through, with protoc-gen-rsrpc's build.rs API, in protobuf
//! and JSON.

fn main() -> std::io::Result<()> {
    let dir = "proto/connectrpc/conformance/v1";
    let protos = [
        "config",
        "service",
        "client_compat",
        "server_compat",
        "suite",
    ]
    .map(|name| format!("{dir}/{name}.proto"));
    protoc_gen_rsrpc::configure()
        .json(true)
        .compile(&protos, &["proto"])
}
