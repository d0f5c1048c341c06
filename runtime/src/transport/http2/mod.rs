//! HTTP/2 on h2 directly, server and client: one task per call and no channel hop
//! between a call and its connection.

mod client;
pub(crate) mod keepalive;
mod lifetime;
mod recv_body;
mod send_body;
pub(crate) mod server;

pub(crate) use client::Http2Connection;
pub(crate) use recv_body::RecvBody;
