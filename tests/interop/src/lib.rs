//! The gRPC interop test service (`grpc.testing`) on rsrpc: the server behaviour and the
//! client test cases of grpc/grpc's `doc/interop-test-descriptions.md`.

pub mod client;
pub mod flags;
pub mod server;

/// Generated from Debian's `grpc-proto` (`grpc/testing/{test,messages,empty}.proto`).
pub mod grpc {
    /// The `grpc.testing` package.
    pub mod testing {
        rsrpc::include_proto!("grpc.testing");
    }
}
