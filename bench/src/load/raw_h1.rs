//! The load generator's HTTP/1.1 client, on hyper's connection-level client: each
//! caller owns one connection and sends gRPC the way Armeria does (chunked body,
//! `te: trailers`, status in the trailers).

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::check;
use super::driver::Caller;
use super::request_head::RequestHead;
use crate::body::OnceBody;

/// Unary calls on one HTTP/1.1 connection, one at a time.
pub struct UnaryCaller {
    sender: SendRequest<OnceBody>,
    head: RequestHead,
    frame: Bytes,
    /// The servers echo: the answer is as long as the request.
    expected_len: usize,
}

impl UnaryCaller {
    /// Connects to `addr` for calls of `path` with `frame` as the request body.
    pub async fn connect(addr: SocketAddr, path: &str, frame: Bytes) -> Result<Self, String> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(UnaryCaller {
            sender,
            head: RequestHead::http1(addr, path),
            expected_len: frame.len(),
            frame,
        })
    }
}

impl Caller for UnaryCaller {
    async fn call(&mut self) -> Result<(), String> {
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let request = self.head.request(OnceBody::new(self.frame.clone(), None));
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        check::http_ok(response.status())?;
        let (head, mut body) = response.into_parts();
        let mut received = 0;
        let mut trailers = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("body: {e}"))?;
            match frame.into_data() {
                Ok(data) => received += data.len(),
                Err(frame) => trailers = frame.into_trailers().ok(),
            }
        }
        check::ended_ok(&head.headers, trailers.as_ref())?;
        check::length(received, self.expected_len)
    }
}
