//! [`IncomingBody`]: the body of an HTTP message as it arrives — a request on the server,
//! a response on the client — over HTTP/2 or HTTP/1.1.

use std::any::Any;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use tokio::io::ReadHalf;

use super::error::{status_from_body_error, status_from_h2};
use super::http1::RequestBody;
use super::http2::RecvBody;
use super::io::BoxedIo;
use crate::boxed::BoxError;
use crate::request::{Certificate, Peer};
use crate::status::Status;

/// The body of a message received by rsrpc: a request reaching
/// [`Server`](crate::Server), or a response reaching a [`Channel`](crate::Channel).
/// Read errors arrive as the [`Status`] the call fails with.
#[derive(Debug)]
pub struct IncomingBody {
    kind: Kind,
    /// On the server, the client at the other end of the connection.
    peer: Peer,
}

#[derive(Debug)]
enum Kind {
    /// An HTTP/2 stream, read straight from h2.
    Http2(RecvBody),
    /// An HTTP/1.1 request. Boxed to keep the body small: every call's future holds it,
    /// HTTP/2 ones included.
    Http1(Box<RequestBody<ReadHalf<BoxedIo>>>),
    /// Any other body, such as an HTTP/1.1 response read by hyper.
    Boxed(UnsyncBoxBody<Bytes, Status>),
}

impl IncomingBody {
    pub(crate) fn http2(body: RecvBody) -> IncomingBody {
        IncomingBody::new(Kind::Http2(body))
    }

    pub(crate) fn http1(body: RequestBody<ReadHalf<BoxedIo>>) -> IncomingBody {
        IncomingBody::new(Kind::Http1(Box::new(body)))
    }

    /// Boxes any body, converting its data to `Bytes` (without copying when it already
    /// is) and its errors to statuses.
    pub(crate) fn boxed<B>(body: B) -> IncomingBody
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let body = body
            .map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
            .map_err(|error| status_from_body_error(error.into()))
            .boxed_unsync();
        IncomingBody::new(Kind::Boxed(body))
    }

    /// Any body as an `IncomingBody`: rsrpc's own passes as it is, peer included, with
    /// no second box; a body made elsewhere (by a tower layer) is boxed.
    pub(crate) fn from_body<B>(body: B) -> IncomingBody
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        if let Some(incoming) = (&mut slot as &mut dyn Any).downcast_mut::<Option<IncomingBody>>() {
            return incoming.take().unwrap_or_else(IncomingBody::empty);
        }
        slot.map_or_else(IncomingBody::empty, IncomingBody::boxed)
    }

    /// A body that has already ended.
    pub(crate) fn empty() -> IncomingBody {
        IncomingBody::boxed(http_body_util::Empty::<Bytes>::new())
    }

    fn new(kind: Kind) -> IncomingBody {
        IncomingBody {
            kind,
            peer: Peer::default(),
        }
    }

    /// Records that this body comes from `peer`.
    pub(crate) fn set_peer(&mut self, peer: Peer) {
        self.peer = peer;
    }

    /// The peer, for a copy of the request's head.
    pub(crate) fn peer(&self) -> Peer {
        self.peer.clone()
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
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        match &mut self.kind {
            Kind::Http2(body) => Pin::new(body).poll_frame(cx).map_err(status_from_h2),
            Kind::Http1(body) => Pin::new(&mut **body).poll_frame(cx),
            Kind::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Http2(body) => body.is_end_stream(),
            Kind::Http1(body) => body.is_end_stream(),
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Http2(body) => body.size_hint(),
            Kind::Http1(body) => body.size_hint(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}
