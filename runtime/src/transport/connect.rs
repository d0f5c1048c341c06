//! Opening client connections: TCP, then TLS when configured.

use std::time::Duration;

use http::uri::Authority;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use super::io::BoxedIo;
use crate::status::Status;

/// Opens connections to one server.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) authority: Authority,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Connector {
    /// Connects, and completes the TLS handshake if any; failures are `UNAVAILABLE`.
    pub(crate) async fn connect(&self) -> Result<BoxedIo, Status> {
        let host = host_of(&self.authority);
        let default_port = if self.tls.is_some() { 443 } else { 80 };
        let port = self.authority.port_u16().unwrap_or(default_port);
        let connect = TcpStream::connect((host, port));
        let stream = match self.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, connect).await.map_err(|_| {
                Status::unavailable(format!("timed out connecting to {}", self.authority))
            })?,
            None => connect.await,
        }
        .map_err(|error| {
            Status::unavailable(format!("failed to connect to {}: {error}", self.authority))
        })?;
        let _ = stream.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(stream)),
            Some((connector, server_name)) => {
                let stream = connector
                    .connect(server_name.clone(), stream)
                    .await
                    .map_err(|error| {
                        Status::unavailable(format!("TLS handshake failed: {error}"))
                    })?;
                Ok(Box::new(stream))
            }
        }
    }
}

/// The host of an authority, without the brackets of an IPv6 literal.
pub(crate) fn host_of(authority: &Authority) -> &str {
    authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
}
