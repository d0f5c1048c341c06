//! Calls through the `h2` crate's client, for tests that need a decoded HTTP/2 response
//! from a client other than rsrpc's.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

/// How long [`unary`] waits for the server's answer.
const LIVENESS: Duration = Duration::from_secs(10);

/// An `h2` client connection to `addr`, built by `builder`; its task is aborted when the
/// returned handle drops.
pub async fn connect(
    addr: SocketAddr,
    builder: &h2::client::Builder,
) -> (h2::client::SendRequest<Bytes>, AbortOnDrop) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = builder.handshake(tcp).await.unwrap();
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    (sender, AbortOnDrop(task))
}

/// The task driving a connection, aborted when dropped.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    /// Whether the connection has ended.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The head of a gRPC POST to `path`.
pub fn grpc_head(path: &str) -> http::Request<()> {
    http::Request::builder()
        .method("POST")
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap()
}

/// Sends a whole unary call on `sender` and returns its response head and grpc-status.
pub async fn unary(
    sender: &mut h2::client::SendRequest<Bytes>,
    head: http::Request<()>,
    body: Bytes,
) -> Result<(http::StatusCode, Option<String>), h2::Error> {
    let exchange = async {
        let (response, mut stream) = sender.clone().ready().await?.send_request(head, false)?;
        stream.send_data(body, true)?;
        let response = response.await?;
        let status = response.status();
        let headers_status = response.headers().get("grpc-status").cloned();
        let mut body = response.into_body();
        while let Some(data) = body.data().await {
            let data = data?;
            let _ = body.flow_control().release_capacity(data.len());
        }
        let trailers = body.trailers().await?;
        let grpc_status = trailers
            .as_ref()
            .and_then(|trailers| trailers.get("grpc-status").cloned())
            .or(headers_status)
            .map(|value| value.to_str().unwrap().to_owned());
        Ok((status, grpc_status))
    };
    tokio::time::timeout(LIVENESS, exchange)
        .await
        .expect("the server answers")
}
