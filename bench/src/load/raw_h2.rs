//! The load generator's HTTP/2 client, on the `h2` crate directly: no gRPC library and
//! nothing per call beyond h2's own work, the same whatever server is measured.

use std::future::poll_fn;
use std::net::SocketAddr;

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use h2::{PingPong, RecvStream, SendStream};
use http::Response;
use tokio::net::TcpStream;

use super::check;
use super::driver::Caller;
use super::request_head::RequestHead;
use crate::grpc_frame::FrameCounter;

/// Receive windows of hyper's HTTP/2 client (2 MiB per stream, 5 MiB per connection),
/// so servers see the same peer as with a hyper-based gRPC client.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

/// An open HTTP/2 connection.
pub struct Connection {
    /// Opens streams on it; clones share the connection.
    pub sender: SendRequest<Bytes>,
    /// Sends PINGs, to know the server has taken the connection in.
    pub ping_pong: PingPong,
}

/// Connects to `addr` and completes the HTTP/2 handshake; a spawned task drives the
/// connection until every handle on it is dropped.
pub async fn connect(addr: SocketAddr) -> Result<Connection, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, mut connection) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake(tcp)
        .await
        .map_err(|e| format!("HTTP/2 handshake: {e}"))?;
    let ping_pong = connection
        .ping_pong()
        .ok_or("the connection's PingPong was taken")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Connection { sender, ping_pong })
}

impl Connection {
    /// Sends a PING and waits for the PONG: the server has read everything before it.
    pub async fn ping(&mut self) -> Result<(), String> {
        self.ping_pong
            .ping(h2::Ping::opaque())
            .await
            .map(drop)
            .map_err(|e| format!("ping: {e}"))
    }
}

/// Opens a stream with `head`, once the connection allows another stream.
async fn open(
    sender: &mut SendRequest<Bytes>,
    head: &RequestHead,
) -> Result<(ResponseFuture, SendStream<Bytes>), String> {
    poll_fn(|cx| sender.poll_ready(cx))
        .await
        .map_err(|e| format!("stream not ready: {e}"))?;
    sender
        .send_request(head.request(()), false)
        .map_err(|e| format!("send request: {e}"))
}

/// Reads a response to its end, handing each data chunk to `on_data` (and giving its
/// flow-control capacity back), then checks the gRPC status.
async fn read_response(
    response: ResponseFuture,
    mut on_data: impl FnMut(&Bytes),
) -> Result<(), String> {
    let response = response.await.map_err(|e| format!("response: {e}"))?;
    check::http_ok(response.status())?;
    let (head, mut body) = response.into_parts();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| format!("body: {e}"))?;
        on_data(&chunk);
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body
        .trailers()
        .await
        .map_err(|e| format!("trailers: {e}"))?;
    check::ended_ok(&head.headers, trailers.as_ref())
}

/// Unary calls on one connection, one at a time, with a pre-encoded request frame.
pub struct UnaryCaller {
    sender: SendRequest<Bytes>,
    head: RequestHead,
    frame: Bytes,
    /// The servers echo: the answer is as long as the request.
    expected_len: usize,
}

impl UnaryCaller {
    /// Calls `head` on `sender`'s connection with `frame` as the request body.
    pub fn new(sender: SendRequest<Bytes>, head: RequestHead, frame: Bytes) -> UnaryCaller {
        let expected_len = frame.len();
        UnaryCaller {
            sender,
            head,
            frame,
            expected_len,
        }
    }
}

impl Caller for UnaryCaller {
    async fn call(&mut self) -> Result<(), String> {
        let mut received = 0;
        unary(&mut self.sender, &self.head, self.frame.clone(), |chunk| {
            received += chunk.len();
        })
        .await?;
        check::length(received, self.expected_len)
    }
}

/// Makes one call with a single request `frame`, handing each chunk of the answer to
/// `on_data`, and checks that it ended well.
pub async fn unary(
    sender: &mut SendRequest<Bytes>,
    head: &RequestHead,
    frame: Bytes,
    on_data: impl FnMut(&Bytes),
) -> Result<(), String> {
    let (response, mut body) = open(sender, head).await?;
    body.send_data(frame, true)
        .map_err(|e| format!("send body: {e}"))?;
    read_response(response, on_data).await
}

/// One bidi stream kept open: each call sends a frame and waits for the frame that
/// comes back.
pub struct PingPongCaller {
    outbound: SendStream<Bytes>,
    response: Option<ResponseFuture>,
    inbound: Option<RecvStream>,
    frame: Bytes,
    counter: FrameCounter,
}

impl PingPongCaller {
    /// Opens the stream (sending its headers) on `sender`'s connection.
    pub async fn open(
        sender: &mut SendRequest<Bytes>,
        head: &RequestHead,
        frame: Bytes,
    ) -> Result<PingPongCaller, String> {
        let (response, outbound) = open(sender, head).await?;
        Ok(PingPongCaller {
            outbound,
            response: Some(response),
            inbound: None,
            frame,
            counter: FrameCounter::default(),
        })
    }

    /// The response body, once the response head has come. A server may hold the head
    /// back until the first message, so this is awaited after sending one.
    async fn inbound(&mut self) -> Result<&mut RecvStream, String> {
        if let Some(response) = self.response.take() {
            let response: Response<RecvStream> =
                response.await.map_err(|e| format!("response: {e}"))?;
            check::http_ok(response.status())?;
            check::grpc_ok(response.headers())?;
            self.inbound = Some(response.into_body());
        }
        self.inbound
            .as_mut()
            .ok_or_else(|| "no response".to_owned())
    }
}

impl Caller for PingPongCaller {
    async fn call(&mut self) -> Result<(), String> {
        self.outbound
            .send_data(self.frame.clone(), false)
            .map_err(|e| format!("send: {e}"))?;
        let target = self.counter.frames() + 1;
        while self.counter.frames() < target {
            let inbound = self.inbound().await?;
            let chunk = inbound
                .data()
                .await
                .ok_or("the server ended the stream")?
                .map_err(|e| format!("body: {e}"))?;
            let _ = inbound.flow_control().release_capacity(chunk.len());
            self.counter.feed(&chunk);
        }
        Ok(())
    }
}
