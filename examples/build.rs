//! Generates the example services with protoc-gen-rsrpc's build.rs API.

fn main() -> std::io::Result<()> {
    protoc_gen_rsrpc::configure().compile(
        &["proto/helloworld.proto", "proto/route_guide.proto"],
        &["proto"],
    )
}
