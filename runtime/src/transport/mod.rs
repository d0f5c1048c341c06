//! HTTP for gRPC to run over: HTTP/2 and HTTP/1.1, in cleartext or over TLS, one server
//! port serving both. This layer moves requests, responses, bodies and trailers; it
//! knows nothing of routes, messages or deadlines.

pub(crate) mod body;
pub(crate) mod connect;
mod connection;
mod detect;
pub(crate) mod error;
pub(crate) mod http1;
pub(crate) mod http2;
mod http_version;
pub(crate) mod incoming;
pub(crate) mod io;
pub(crate) mod layered;
pub(crate) mod limits;
pub(crate) mod sent;
pub(crate) mod service;
pub(crate) mod shutdown;
pub(crate) mod tls;

pub use crate::request::Certificate;
pub use http_version::HttpVersion;
pub use layered::TowerService;
pub use tls::{ClientTlsConfig, ServerTlsConfig};

pub(crate) use connection::serve_connection;
