//! TLS: the server and client configurations, and the server's handshake.

mod accept;
mod config;

pub(crate) use accept::accept;
pub use config::{ClientTlsConfig, ServerTlsConfig};
