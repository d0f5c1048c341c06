//! HTTP/2 on h2 directly, server and client: one task per call and no channel hop
//! between a call and its connection.

mod client;
mod frame_scan;
#[cfg(fuzzing)]
pub mod fuzzing;
pub(crate) mod keepalive;
mod lifetime;
mod ping_enforcement;
mod recv_body;
mod send_body;
pub(crate) mod server;

pub(crate) use client::Http2Connection;
pub(crate) use recv_body::RecvBody;
