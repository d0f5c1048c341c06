//! Running test servers on loopback.

use std::net::SocketAddr;

use rsrpc::Server;
use rsrpc::server::ServiceConfig;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::e2e::echo_client::EchoClient;
use crate::e2e::echo_server::EchoServer;
use crate::echo::EchoService;

/// Any server, running on an ephemeral port of 127.0.0.1 until it is shut down or
/// dropped.
pub struct Serving {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<Result<(), rsrpc::Error>>,
}

impl Serving {
    /// Serves `server`, its services added, on an ephemeral port.
    pub async fn start(server: Server) -> Serving {
        Serving::start_on(server, "127.0.0.1:0".parse().unwrap()).await
    }

    /// Serves `server` on `addr`: another loopback address, or the port of a server
    /// that was stopped, to restart it.
    pub async fn start_on(server: Server, addr: SocketAddr) -> Serving {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(server.serve_with_listener(listener, async {
            let _ = stopped.await;
        }));
        Serving {
            addr,
            stop: Some(stop),
            served,
        }
    }

    /// Starts the graceful shutdown.
    pub fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server abruptly, as a crash would: the listener and every connection
    /// close at once, calls under way or not.
    pub async fn kill(self) {
        self.served.abort();
        let _ = self.served.await;
    }

    /// Waits for the shutdown to finish; fails if it takes longer than `bound`.
    pub async fn finished_within(self, bound: std::time::Duration) {
        tokio::time::timeout(bound, self.served)
            .await
            .expect("the shutdown finishes")
            .unwrap()
            .unwrap();
    }
}

/// A running test server of an [`EchoService`]; it shuts down when dropped.
pub struct TestServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The service it serves.
    pub service: EchoService,
    serving: Serving,
}

impl TestServer {
    /// Serves `service`, with `config`, on an ephemeral port.
    pub async fn start(service: EchoService, config: ServiceConfig) -> TestServer {
        TestServer::start_with(Server::builder(), service, config).await
    }

    /// Like [`start`](Self::start), on a server built beforehand (TLS, defaults).
    pub async fn start_with(
        server: Server,
        service: EchoService,
        config: ServiceConfig,
    ) -> TestServer {
        TestServer::start_on(server, service, config, "127.0.0.1:0".parse().unwrap()).await
    }

    /// Like [`start_with`](Self::start_with), on `addr`.
    pub async fn start_on(
        server: Server,
        service: EchoService,
        config: ServiceConfig,
        addr: SocketAddr,
    ) -> TestServer {
        let echo = EchoServer::new(service.clone()).with_config(config);
        let serving = Serving::start_on(server.add_service(echo), addr).await;
        TestServer {
            addr: serving.addr,
            service,
            serving,
        }
    }

    /// Starts the graceful shutdown.
    pub fn trigger_shutdown(&mut self) {
        self.serving.trigger_shutdown();
    }

    /// Waits for the shutdown to finish; fails if it takes longer than `bound`.
    pub async fn finished_within(self, bound: std::time::Duration) {
        self.serving.finished_within(bound).await;
    }

    /// Stops the server abruptly: see [`Serving::kill`].
    pub async fn kill(self) {
        self.serving.kill().await;
    }

    /// `http://` and the address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client connected to the server.
    pub async fn client(&self) -> EchoClient {
        EchoClient::connect(self.url()).await.unwrap()
    }

    /// A client calling over HTTP/1.1 with at most `max_connections` connections.
    pub async fn http1_client(&self, max_connections: usize) -> EchoClient {
        let channel = rsrpc::Channel::builder(self.url())
            .unwrap()
            .http_version(rsrpc::transport::HttpVersion::Http1)
            .max_http1_connections(max_connections)
            .connect()
            .await
            .unwrap();
        EchoClient::new(channel)
    }
}

/// A server of a fresh [`EchoService`], built on `builder` (its limits, TLS, …).
pub async fn server_with(builder: Server) -> TestServer {
    TestServer::start_with(builder, EchoService::default(), ServiceConfig::default()).await
}

/// A server of a fresh [`EchoService`] on `addr`: another loopback address, or the port
/// of a server that was killed, to restart it.
pub async fn server_on(addr: SocketAddr) -> TestServer {
    TestServer::start_on(
        Server::builder(),
        EchoService::default(),
        ServiceConfig::default(),
        addr,
    )
    .await
}

/// A unary request that the handler answers after `sleep`.
pub fn slow(sleep: std::time::Duration) -> rsrpc::Request<crate::e2e::EchoRequest> {
    rsrpc::Request::new(crate::e2e::EchoRequest {
        sleep_ms: u32::try_from(sleep.as_millis()).unwrap_or(u32::MAX),
        ..text("slow")
    })
}

/// A server of a fresh [`EchoService`].
pub async fn default_server() -> TestServer {
    TestServer::start(EchoService::default(), ServiceConfig::default()).await
}

/// A request echoing `text`.
pub fn text(text: &str) -> crate::e2e::EchoRequest {
    crate::e2e::EchoRequest {
        text: text.to_owned(),
        ..Default::default()
    }
}

/// Checks that a bidi call is full duplex: each reply must arrive while the request
/// stream is still open, before the next request is sent, so buffering on either side
/// fails the check.
pub async fn assert_full_duplex(client: &EchoClient) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.send(text("first")).await.unwrap();
    let mut replies = client
        .bidi(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .unwrap()
        .into_inner();
    for word in ["first", "second", "third"] {
        if word != "first" {
            sender.send(text(word)).await.unwrap();
        }
        let reply = tokio::time::timeout(std::time::Duration::from_secs(10), replies.message())
            .await
            .expect("the reply arrives before the next request is sent")
            .unwrap()
            .unwrap();
        assert_eq!(reply.text, word);
    }
    drop(sender);
    assert!(replies.message().await.unwrap().is_none());
}

/// What a raw HTTP/2 call returned: head, body bytes and trailers.
#[derive(Debug)]
pub struct RawResponse {
    /// Status line and headers.
    pub head: http::response::Parts,
    /// The whole body.
    pub body: bytes::Bytes,
    /// The trailers, if any.
    pub trailers: Option<http::HeaderMap>,
}

impl RawResponse {
    /// The `grpc-status`, from the trailers or, for a Trailers-Only response, the headers.
    pub fn grpc_status(&self) -> Option<&str> {
        self.trailers
            .as_ref()
            .and_then(|trailers| trailers.get("grpc-status"))
            .or_else(|| self.head.headers.get("grpc-status"))
            .and_then(|value| value.to_str().ok())
    }
}

/// Sends one HTTP/2 POST to `path` with the given headers and body, bypassing rsrpc's
/// client, so tests can send what a well-behaved client never would.
pub async fn raw_call(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: bytes::Bytes,
) -> RawResponse {
    use http_body_util::BodyExt;

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(http_body_util::Full::new(body)).unwrap();
    let (head, body) = sender.send_request(request).await.unwrap().into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    RawResponse {
        head,
        body: collected.to_bytes(),
        trailers,
    }
}

/// A gRPC frame: the compressed flag, the length, and `payload`.
pub fn frame(compressed: bool, payload: &[u8]) -> bytes::Bytes {
    let mut frame = vec![u8::from(compressed)];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame.into()
}

/// Writes raw bytes to a new connection and reads everything the server sends back
/// until it closes the connection (or ten seconds pass).
pub async fn http1_exchange(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let read = stream.read_to_end(&mut response);
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

/// Writes raw bytes to a new connection, then hangs up without waiting for an answer.
pub async fn http1_hang_up(addr: SocketAddr, request: &[u8]) {
    use tokio::io::AsyncWriteExt;

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    stream.flush().await.unwrap();
}

/// An HTTP/1.1 gRPC request for `path` that asks the server to close the connection after
/// answering: the given extra header lines, then `body` sent as one chunk and the last
/// chunk.
pub fn http1_request(path: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ntransfer-encoding: chunked\r\n{extra_headers}\r\n"
    )
    .into_bytes();
    if !body.is_empty() {
        request.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    request
}

/// What a raw HTTP/1.1 connection saw: the bytes the server sent before closing, and
/// whether writing the request failed because the server stopped reading it.
pub struct RawExchange {
    /// Everything the server sent, lossily decoded.
    pub response: String,
    /// Whether the server closed the connection before taking the whole request.
    pub write_failed: bool,
}

/// Writes `request` to a new connection while reading what the server sends until it
/// closes (or ten seconds pass). Unlike [`http1_exchange`], a server that hangs up
/// mid-request is an answer, not a test failure.
pub async fn http1_attack(addr: SocketAddr, request: Vec<u8>) -> RawExchange {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let written = write.write_all(&request).await;
        // Keep the write side open: a half-close would read as a hang-up.
        (written.is_err(), write)
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, read.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => response.extend_from_slice(&buf[..read]),
            Err(_) => panic!("the server neither answered nor closed within 10 s"),
        }
    }
    let (write_failed, _write) = writer.await.unwrap();
    RawExchange {
        response: String::from_utf8_lossy(&response).into_owned(),
        write_failed,
    }
}

impl std::fmt::Debug for RawExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Responses can be megabytes: a failing assertion shows their start.
        let shown: String = self.response.chars().take(400).collect();
        f.debug_struct("RawExchange")
            .field("response", &shown)
            .field("response_len", &self.response.len())
            .field("write_failed", &self.write_failed)
            .finish()
    }
}
