//! The HTTP transports gRPC runs over.

pub(crate) mod http2;
