//! One accepted connection: the TLS handshake, if any, within its timeout, then the
//! transport that serves it with the router.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

use super::router::{Router, Routes};
use crate::request::Peer;
use crate::transport::io::BoxedIo;
use crate::transport::limits::ConnectionLimits;
use crate::transport::shutdown::Shutdown;
use crate::transport::{ServerTlsConfig, serve_connection, tls};

/// An accepted connection and what serving it needs.
pub(super) struct Connection<A> {
    /// The server's routes, given this connection's peer once it is known.
    pub(super) routes: Routes,
    /// The client's address.
    pub(super) remote_addr: SocketAddr,
    pub(super) tls: Option<ServerTlsConfig>,
    pub(super) tls_handshake_timeout: Duration,
    pub(super) limits: ConnectionLimits,
    pub(super) shutdown: Shutdown,
    /// Dropped when the connection ends: shutdown and the connection limit count these.
    pub(super) alive: A,
}

impl<A: Send + 'static> Connection<A> {
    /// Serves the connection until it ends.
    pub(super) async fn serve(mut self, stream: TcpStream) {
        let mut certs = None;
        let io: BoxedIo = match &self.tls {
            None => Box::new(stream),
            Some(config) => {
                let handshake = tls::accept(config, stream, self.tls_handshake_timeout);
                let accepted = tokio::select! {
                    accepted = Box::pin(handshake) => accepted,
                    () = self.shutdown.draining() => None,
                };
                let Some((stream, client_certs)) = accepted else {
                    return;
                };
                certs = client_certs;
                Box::new(stream)
            }
        };
        let router = Router::new(self.routes, Peer::new(self.remote_addr, certs));
        serve_connection(io, router, self.limits, self.shutdown, self.alive).await;
    }
}
