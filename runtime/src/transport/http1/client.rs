//! The client side of gRPC over HTTP/1.1: a pool of connections, one call on each at a
//! time, on hyper-util's pooling client.
//!
//! A connection goes back to the pool only once both the request and the response have
//! ended; a call that is cancelled or times out drops its response, which closes its
//! connection instead.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Uri;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::boxed::BoxFuture;
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::connect::Connector;
use crate::transport::error::status_from_hyper;
use crate::transport::incoming::IncomingBody;
use crate::transport::io::BoxedIo;

/// Calls over HTTP/1.1, at most `max_connections` at once.
pub(crate) struct Http1Client {
    client: Client<PoolConnector, Body>,
    permits: Arc<Semaphore>,
    connector: Connector,
}

impl Http1Client {
    pub(crate) fn new(connector: Connector, max_connections: usize) -> Http1Client {
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(max_connections)
            .build(PoolConnector(connector.clone()));
        Http1Client {
            client,
            permits: Arc::new(Semaphore::new(max_connections)),
            connector,
        }
    }

    /// Sends a request on a free connection, waiting for one if all are busy.
    pub(crate) async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<IncomingBody>, Status> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the channel is closed"))?;
        let response = self.client.request(request).await.map_err(|error| {
            use std::error::Error as _;
            match error
                .source()
                .and_then(|source| source.downcast_ref::<hyper::Error>())
            {
                Some(error) => status_from_hyper(error),
                None => Status::unavailable(format!("HTTP/1.1 request failed: {error}")),
            }
        })?;
        Ok(response.map(|body| {
            IncomingBody::boxed(PermitBody {
                body,
                permit: Some(permit),
            })
        }))
    }

    /// Opens a connection now, to check that the server can be reached.
    pub(crate) async fn probe(&self) -> Result<(), Status> {
        self.connector.connect().await.map(drop)
    }
}

/// A response body that holds its call's slot in the pool until it has ended (its
/// trailers arrived) or is dropped.
struct PermitBody {
    body: Incoming,
    permit: Option<OwnedSemaphorePermit>,
}

impl http_body::Body for PermitBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        let ended = match &frame {
            Some(Ok(frame)) => frame.is_trailers(),
            _ => true,
        };
        if ended {
            self.permit = None;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Opens pool connections with the channel's [`Connector`].
#[derive(Clone)]
struct PoolConnector(Connector);

impl tower_service::Service<Uri> for PoolConnector {
    type Response = TokioIo<PooledIo>;
    type Error = Status;
    type Future = BoxFuture<Result<TokioIo<PooledIo>, Status>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let connector = self.0.clone();
        Box::pin(async move { Ok(TokioIo::new(PooledIo(connector.connect().await?))) })
    }
}

/// A pooled connection's byte stream.
struct PooledIo(BoxedIo);

impl Connection for PooledIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for PooledIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PooledIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
