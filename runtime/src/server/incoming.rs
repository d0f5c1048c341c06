//! [`IncomingBody`]: the body of a request as the server receives it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::ReadHalf;

use crate::codegen::BoxError;
use crate::request::{Certificate, Peer};
use crate::transport::BoxedIo;
use crate::transport::http1::RequestBody;

/// The body of a request received by [`Server`](crate::Server), over HTTP/2 or HTTP/1.1.
/// Generated services accept it like any other body.
#[derive(Debug)]
pub struct IncomingBody {
    kind: Kind,
    /// The client at the other end of the connection, given to the handler.
    peer: Peer,
}

#[derive(Debug)]
enum Kind {
    Http2(hyper::body::Incoming),
    /// Boxed to keep the body small: every call's future holds it, HTTP/2 ones included.
    Http1(Box<RequestBody<ReadHalf<BoxedIo>>>),
}

impl IncomingBody {
    pub(crate) fn http2(body: hyper::body::Incoming) -> IncomingBody {
        IncomingBody {
            kind: Kind::Http2(body),
            peer: Peer::default(),
        }
    }

    pub(crate) fn http1(body: RequestBody<ReadHalf<BoxedIo>>) -> IncomingBody {
        IncomingBody {
            kind: Kind::Http1(Box::new(body)),
            peer: Peer::default(),
        }
    }

    /// This body, received from `peer`.
    pub(crate) fn with_peer(self, peer: Peer) -> IncomingBody {
        IncomingBody { peer, ..self }
    }

    /// Moves the peer out, for the handler's request: its certificates then cost no
    /// second reference count.
    pub(crate) fn take_peer(&mut self) -> Peer {
        std::mem::take(&mut self.peer)
    }

    /// The client this body comes from, when the server knows it.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.peer.addr()
    }

    /// The certificate chain the client presented over TLS, if any: see
    /// [`Request::peer_certs`](crate::Request::peer_certs).
    pub fn peer_certs(&self) -> Option<Arc<[Certificate]>> {
        self.peer.certs()
    }
}

impl http_body::Body for IncomingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.kind {
            Kind::Http2(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
            Kind::Http1(body) => Pin::new(&mut **body).poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Http2(body) => body.is_end_stream(),
            Kind::Http1(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Http2(body) => body.size_hint(),
            Kind::Http1(body) => body.size_hint(),
        }
    }
}
