//! Opening client connections: TCP, then TLS when configured.

use std::future::Future;
use std::net::SocketAddr;
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
    /// The server's name and port: connected to unless `address` is set, and the
    /// name TLS verifies.
    pub(crate) authority: Authority,
    /// The address to connect to, when it was resolved beforehand.
    pub(crate) address: Option<SocketAddr>,
    /// TCP keepalive probes after this long without traffic, then at this interval.
    pub(crate) tcp_keepalive: Option<Duration>,
    pub(crate) tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Connector {
    /// Connects within `timeout`, and completes the TLS handshake if any; failures are
    /// `UNAVAILABLE`.
    pub(crate) async fn connect(&self, timeout: Duration) -> Result<BoxedIo, Status> {
        self.within(timeout, self.connect_unbounded()).await
    }

    /// Runs `work`, a connection attempt to this server (a connect, with whatever
    /// handshake follows it), within `timeout`; past it, fails with `UNAVAILABLE`.
    pub(crate) async fn within<T>(
        &self,
        timeout: Duration,
        work: impl Future<Output = Result<T, Status>>,
    ) -> Result<T, Status> {
        tokio::time::timeout(timeout, work).await.map_err(|_| {
            Status::unavailable(format!(
                "timed out connecting to {} after {timeout:?}",
                self.destination()
            ))
        })?
    }

    /// What the connection goes to, for messages.
    pub(crate) fn destination(&self) -> String {
        match self.address {
            Some(address) => address.to_string(),
            None => self.authority.to_string(),
        }
    }

    /// Connects, and completes the TLS handshake if any, with no time limit.
    pub(crate) async fn connect_unbounded(&self) -> Result<BoxedIo, Status> {
        let connected = match self.address {
            Some(address) => TcpStream::connect(address).await,
            None => {
                let host = host_of(&self.authority);
                let default_port = if self.tls.is_some() { 443 } else { 80 };
                let port = self.authority.port_u16().unwrap_or(default_port);
                TcpStream::connect((host, port)).await
            }
        };
        let stream = connected.map_err(|error| {
            Status::unavailable(format!(
                "failed to connect to {}: {error}",
                self.destination()
            ))
        })?;
        let _ = stream.set_nodelay(true);
        if let Some(idle) = self.tcp_keepalive {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(idle)
                .with_interval(idle);
            // Best effort, as nodelay: a platform without it still connects.
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
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
