//! Generated code: messages and rsrpc services (protoc-gen-rsrpc), tonic services
//! (tonic-prost-build) over the same message types, and connect-rust's own messages and
//! services (connectrpc-build), which need buffa's types rather than prost's.

#![allow(missing_docs, clippy::all)]

/// `helloworld.Greeter`: messages, rsrpc server and client.
pub mod helloworld {
    rsrpc::include_proto!("helloworld");
}

/// `bench.Bench`: messages, rsrpc server and client.
pub mod bench {
    rsrpc::include_proto!("bench");
}

/// tonic servers and clients for the same services.
pub mod tonic {
    /// `helloworld.Greeter` on tonic.
    pub mod helloworld {
        include!(concat!(env!("OUT_DIR"), "/tonic/helloworld.rs"));
    }

    /// `bench.Bench` on tonic.
    pub mod bench {
        include!(concat!(env!("OUT_DIR"), "/tonic/bench.rs"));
    }
}

/// connect-rust's buffa messages and services for the same two protos.
pub mod connect {
    include!(concat!(env!("OUT_DIR"), "/connect/mod.rs"));
}
