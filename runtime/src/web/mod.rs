//! The web protocols, gRPC-Web and Connect, served and called as translations of gRPC.
//!
//! A server reads a gRPC-Web or Connect request, hands its services the gRPC request it
//! stands for, and writes their gRPC response back in the request's protocol; a channel
//! does the reverse. Services, interceptors and generated clients see gRPC only.
//!
//! - `protocol`: [`Protocol`], and which protocol a request speaks;
//! - `base64`: the bodies of `application/grpc-web-text`;
//! - `frames`: bodies that carry the trailers as a last message, and back;
//! - `grpc_web`, `connect`: the rules of each protocol;
//! - `server`, `client`: the two translations.

mod base64;
pub(crate) mod client;
mod connect;
mod frames;
#[cfg(fuzzing)]
pub mod fuzzing;
mod grpc_web;
mod protocol;
pub(crate) mod server;

use bytes::Bytes;
use http::{HeaderMap, HeaderName};
use http_body_util::BodyExt;

pub use protocol::Protocol;
pub(crate) use protocol::WebRequest;

use crate::status::Status;
use crate::transport::incoming::IncomingBody;

/// Moves the value of header `from` to `to`: the protocols name the same thing apart.
fn rename(headers: &mut HeaderMap, from: HeaderName, to: HeaderName) {
    if let Some(value) = headers.remove(from) {
        headers.insert(to, value);
    }
}

/// A body read whole, up to `limit` bytes; past it, `RESOURCE_EXHAUSTED` naming `what`
/// ("the request", "the response").
async fn read_limited(body: IncomingBody, limit: usize, what: &str) -> Result<Bytes, Status> {
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => Err(match error.downcast::<Status>() {
            Ok(status) => *status,
            Err(_) => Status::resource_exhausted(format!(
                "{what} is larger than the limit of {limit} bytes"
            )),
        }),
    }
}
