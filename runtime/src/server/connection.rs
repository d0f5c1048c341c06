//! One accepted connection: the TLS handshake, if any, within its timeout, then the
//! transport that serves it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use super::router::Router;
use crate::request::Certificate;
use crate::transport::limits::ConnectionLimits;
use crate::transport::shutdown::Shutdown;
use crate::transport::{self, BoxedIo, ServerTlsConfig};

/// An accepted connection and what serving it needs.
pub(super) struct Connection<A> {
    /// The server's router, made this connection's once its peer is known.
    pub(super) router: Router,
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
            Some(tls) => {
                let handshake = accept_tls(tls, stream, self.tls_handshake_timeout);
                let stream = tokio::select! {
                    stream = Box::pin(handshake) => stream,
                    () = self.shutdown.draining() => None,
                };
                let Some(stream) = stream else { return };
                certs = peer_certs(&stream);
                Box::new(stream)
            }
        };
        let router = self.router.for_connection(self.remote_addr, certs);
        transport::serve_connection(io, router, self.limits, self.shutdown, self.alive).await;
    }
}

/// The certificate chain the client presented during the handshake, if any: read once
/// per connection, then shared by its calls.
fn peer_certs(stream: &tokio_rustls::server::TlsStream<TcpStream>) -> Option<Arc<[Certificate]>> {
    let certs = stream.get_ref().1.peer_certificates()?;
    if certs.is_empty() {
        return None;
    }
    let certs = certs
        .iter()
        .map(|cert| Certificate::from_der(cert.as_ref()));
    Some(certs.collect())
}

/// Completes the TLS handshake of an accepted connection; `None` if it fails or takes
/// longer than `timeout`.
async fn accept_tls(
    tls: &ServerTlsConfig,
    stream: TcpStream,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}
