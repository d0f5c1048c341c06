//! The ConnectRPC conformance client and server, on rsrpc. The suite's runner,
//! `connectconformance`, starts them and drives them over stdin and stdout; see
//! `conformance/README.md`.
//!
//! - [`framing`]: the size-delimited messages the runner and the programs exchange;
//! - [`support`]: which of the suite's protocols, codecs, compressions and HTTP versions
//!   rsrpc speaks, and their rsrpc settings;
//! - [`any`]: packing and unpacking `google.protobuf.Any` by type name;
//! - [`headers`]: the suite's header lists as rsrpc metadata, and back;
//! - [`errors`]: the suite's `Error` as an rsrpc `Status`, with its details in
//!   `grpc-status-details-bin`, and back;
//! - [`server`]: the server under test, serving `ConformanceService`;
//! - [`client`]: the client under test, running the calls the runner asks for.

#![deny(missing_docs)]

pub mod any;
pub mod client;
pub mod errors;
pub mod framing;
pub mod headers;
pub mod server;
pub mod support;

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
