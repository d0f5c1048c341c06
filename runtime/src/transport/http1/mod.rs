//! gRPC over HTTP/1.1, the way Armeria carries it: chunked messages, then the status and
//! trailing metadata as HTTP/1.1 trailers.

pub(crate) mod client;
#[cfg(fuzzing)]
pub mod fuzzing;
#[cfg(test)]
mod hyper_parity;
mod request_body;
pub(crate) mod server;

pub use request_body::RequestBody;
