//! Generates the example services with protoc-gen-rsrpc's build.rs API, with the JSON
//! mapping of their messages for gRPC-Web and Connect clients that speak JSON.

fn main() -> std::io::Result<()> {
    protoc_gen_rsrpc::configure().json(true).compile(
        &["proto/helloworld.proto", "proto/route_guide.proto"],
        &["proto"],
    )
}
