//! The server side of the TLS handshake, bounded in time, and the certificates it yields.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::config::ServerTlsConfig;
use crate::request::Certificate;

/// Completes the TLS handshake of an accepted connection; `None` if it fails or takes
/// longer than `timeout`. Also returns the certificate chain the client presented, if
/// any: read once per connection, then shared by its calls.
pub(crate) async fn accept(
    tls: &ServerTlsConfig,
    stream: TcpStream,
    timeout: Duration,
) -> Option<(TlsStream<TcpStream>, Option<Arc<[Certificate]>>)> {
    let stream = match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            return None;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return None;
        }
    };
    let certs = peer_certs(&stream);
    Some((stream, certs))
}

/// The certificate chain the client presented during the handshake, if any.
fn peer_certs(stream: &TlsStream<TcpStream>) -> Option<Arc<[Certificate]>> {
    let certs = stream.get_ref().1.peer_certificates()?;
    if certs.is_empty() {
        return None;
    }
    let certs = certs
        .iter()
        .map(|cert| Certificate::from_der(cert.as_ref()));
    Some(certs.collect())
}
