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

pub use protocol::Protocol;
pub(crate) use protocol::WebRequest;
