//! The client's channels: one rsrpc [`Channel`] per distinct connection setting (server,
//! TLS, client certificate, HTTP version, protocol, codec, GET for Connect), shared by
//! every case that uses it.
//!
//! Sharing is what applications do, and asks more of rsrpc than a channel per case:
//! the calls of hundreds of cases run multiplexed on a few connections, so a cancelled
//! or failed call must leave the others on its connection alone. Per-call settings
//! (compression, receive limit) go on each case's client instead.
//!
//! A channel is connected before its first case runs, as `ChannelBuilder::connect`
//! does for applications: the runner starts many cases at once against a new server,
//! and on a busy machine the connection could take longer than a case's timings allow
//! (a cancellation 5 ms after the call starts, a timeout echoed within 500 ms), which
//! would then measure the connection rather than the call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use rsrpc::Channel;
use rsrpc::client::ClientConfig;
use rsrpc::transport::ClientTlsConfig;

use crate::proto::ClientCompatRequest;
use crate::proto::conformance_service_client::ConformanceServiceClient;
use crate::support;

/// What tells connections apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ConnectionKey {
    host: String,
    port: u32,
    server_cert: Vec<u8>,
    client_cert: Option<(Vec<u8>, Vec<u8>)>,
    http_version: i32,
    protocol: i32,
    codec: i32,
    use_get: bool,
}

/// The channels made so far, by connection setting.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    made: Arc<Mutex<HashMap<ConnectionKey, Arc<OnceCell<Channel>>>>>,
}

impl Channels {
    /// A client for `request`: on the channel of its connection setting, made on first
    /// use, with its compression and receive limit.
    pub async fn client(
        &self,
        request: &ClientCompatRequest,
    ) -> Result<ConformanceServiceClient, String> {
        let mut config = ClientConfig::default();
        if let Some(encoding) = support::compression(request.compression)? {
            config = config.send_compressed(encoding);
        }
        if request.message_receive_limit > 0 {
            config = config.max_receive_message_size(request.message_receive_limit as usize);
        }
        let channel = self.channel(request).await?;
        Ok(ConformanceServiceClient::new(channel).with_config(config))
    }

    async fn channel(&self, request: &ClientCompatRequest) -> Result<Channel, String> {
        let key = ConnectionKey {
            host: request.host.clone(),
            port: request.port,
            server_cert: request.server_tls_cert.clone(),
            client_cert: request
                .client_tls_creds
                .as_ref()
                .map(|creds| (creds.cert.clone(), creds.key.clone())),
            http_version: request.http_version,
            protocol: request.protocol,
            codec: request.codec,
            use_get: request.use_get_http_method,
        };
        // The first case of a setting connects; the others wait for it.
        let cell = {
            let mut made = self
                .made
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            Arc::clone(made.entry(key.clone()).or_default())
        };
        cell.get_or_try_init(|| connect(&key)).await.cloned()
    }
}

/// A channel for `key`, connected. If it cannot connect, a channel that connects on its
/// first call: the calls then fail as rsrpc fails them, which is what the cases check.
async fn connect(key: &ConnectionKey) -> Result<Channel, String> {
    let protocol = support::protocol(key.protocol)?;
    let format = support::codec(key.codec)?;
    let version = support::http_version(key.http_version)?;
    let scheme = if key.server_cert.is_empty() {
        "http"
    } else {
        "https"
    };
    let target = format!("{scheme}://{}:{}", key.host, key.port);
    let mut builder = Channel::builder(target.as_str())
        .map_err(|error| format!("invalid target {target}: {error}"))?
        .http_version(version)
        .protocol(protocol)
        .format(format)
        .connect_get(key.use_get);
    if !key.server_cert.is_empty() {
        // The server's certificate is self-signed: it is its own CA.
        let mut tls = ClientTlsConfig::new()
            .ca_certificate_pem(&key.server_cert)
            .map_err(|error| format!("invalid server_tls_cert: {error}"))?;
        if let Some((cert, key)) = &key.client_cert {
            tls = tls
                .identity(cert, key)
                .map_err(|error| format!("invalid client_tls_creds: {error}"))?;
        }
        builder = builder.tls_config(tls);
    }
    if let Ok(channel) = builder.clone().connect().await {
        return Ok(channel);
    }
    builder
        .connect_lazy()
        .map_err(|error| format!("cannot make a channel to {target}: {error}"))
}
