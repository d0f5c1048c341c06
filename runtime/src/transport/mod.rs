//! The transports gRPC runs over: HTTP/2, in cleartext or over TLS.

pub(crate) mod http2;
mod tls;

pub use tls::{ClientTlsConfig, ServerTlsConfig};
