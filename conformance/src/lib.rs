//! The ConnectRPC conformance client and server, on rsrpc. The suite's runner,
//! `connectconformance`, starts them and drives them over stdin and stdout; see
//! `conformance/README.md`.

#![deny(missing_docs)]

/// Generated from the vendored protos in `proto/` (see `build.rs`).
pub mod connectrpc {
    /// The `connectrpc.conformance` packages.
    pub mod conformance {
        /// The `connectrpc.conformance.v1` package: the service under test and the
        /// messages the runner exchanges with the client and server under test.
        #[allow(missing_docs)] // Some proto items carry no comments.
        pub mod v1 {
            rsrpc::include_proto!("connectrpc.conformance.v1");
        }
    }
}

/// The generated `connectrpc.conformance.v1` package, by a short name.
pub use connectrpc::conformance::v1 as proto;
