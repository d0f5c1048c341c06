//! The server under test: reads one `ServerCompatRequest` from stdin, starts an rsrpc
//! [`Server`] as it asks on a free port of 127.0.0.1, writes the `ServerCompatResponse`
//! to stdout, and serves `ConformanceService` until SIGTERM (or SIGINT).
//!
//! - this module: the start-up, from the request to a listening server;
//! - `service`: the service, each method as `service.proto` specifies it;
//! - `info`: what the service echoes about each request;
//! - `single`: the answer of the single-response methods (unary, client stream);
//! - `streams`: the response streams of server-stream and bidi calls.

mod info;
mod service;
mod single;
mod streams;

use std::time::Duration;

use rsrpc::Server;
use rsrpc::server::ServiceConfig;
use rsrpc::transport::ServerTlsConfig;
use tokio::net::TcpListener;

use crate::framing::{read_message, write_message};
use crate::proto::conformance_service_server::ConformanceServiceServer;
use crate::proto::{ServerCompatRequest, ServerCompatResponse};
use crate::support;

pub use service::ConformanceServer;

/// How long an idle HTTP/1.1 connection stays open: longer than a run. The reference
/// clients keep connections in pools and reuse them after minutes of other cases; one
/// that rsrpc closes (60 s by default) just as a client sends a POST on it fails that
/// call ("server closed idle connection"), a race of HTTP/1.1 keep-alive itself that Go
/// clients do not retry for POSTs.
const HTTP1_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The host the server listens on and reports.
const HOST: &str = "127.0.0.1";

/// How long calls may run on after SIGTERM. The runner stops a server once its cases
/// are done: a call still open then is a stuck case, not one to wait 30 s for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Runs the server under test until SIGTERM; an error says why it could not start.
pub async fn run() -> Result<(), String> {
    let request: ServerCompatRequest = read_message(&mut tokio::io::stdin())
        .await
        .map_err(|error| format!("cannot read the ServerCompatRequest: {error}"))?
        .ok_or("stdin ended before a ServerCompatRequest")?;
    let (server, pem_cert) = configure(&request)?;
    let listener = TcpListener::bind((HOST, 0))
        .await
        .map_err(|error| format!("cannot listen on {HOST}: {error}"))?;
    let port = listener
        .local_addr()
        .map_err(|error| format!("no local address: {error}"))?
        .port();
    let response = ServerCompatResponse {
        host: HOST.into(),
        port: port.into(),
        pem_cert,
    };
    write_message(&mut tokio::io::stdout(), &response)
        .await
        .map_err(|error| format!("cannot write the ServerCompatResponse: {error}"))?;
    server
        .serve_with_listener(listener, rsrpc::server::shutdown_signal())
        .await
        .map_err(|error| error.to_string())
}

/// The server a request asks for, with the certificate to report (empty without TLS).
pub fn configure(request: &ServerCompatRequest) -> Result<(Server, Vec<u8>), String> {
    // rsrpc serves every protocol it speaks on every port, over HTTP/1.1 and HTTP/2
    // alike, so these only check that it speaks them.
    support::protocol(request.protocol)?;
    support::http_version(request.http_version)?;
    let mut config = ServiceConfig::default();
    if request.message_receive_limit > 0 {
        config = config.max_receive_message_size(request.message_receive_limit as usize);
    }
    let service = ConformanceServiceServer::new(ConformanceServer).with_config(config);
    let mut server = Server::builder()
        .graceful_shutdown_timeout(SHUTDOWN_GRACE)
        .http1_idle_timeout(HTTP1_IDLE_TIMEOUT);
    let mut pem_cert = Vec::new();
    if request.use_tls {
        let creds = request
            .server_creds
            .as_ref()
            .ok_or("use_tls is set but server_creds is missing")?;
        let mut tls = ServerTlsConfig::from_pem(&creds.cert, &creds.key)
            .map_err(|error| format!("invalid server_creds: {error}"))?;
        if !request.client_tls_cert.is_empty() {
            // Required from now on: a client without a certificate it signed is refused.
            tls = tls
                .client_ca_root(&request.client_tls_cert)
                .map_err(|error| format!("invalid client_tls_cert: {error}"))?;
        }
        server = server.tls_config(tls);
        pem_cert = creds.cert.clone();
    }
    Ok((server.add_service(service), pem_cert))
}
