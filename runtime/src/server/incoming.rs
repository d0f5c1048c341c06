//! [`IncomingBody`]: the body of a request as the server receives it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::ReadHalf;

use crate::codegen::BoxError;
use crate::transport::BoxedIo;
use crate::transport::http1::RequestBody;

/// The body of a request received by [`Server`](crate::Server), over HTTP/2 or HTTP/1.1.
/// Generated services accept it like any other body.
#[derive(Debug)]
pub struct IncomingBody {
    kind: Kind,
    /// The client at the other end of the connection, given to the handler.
    remote_addr: Option<SocketAddr>,
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
            remote_addr: None,
        }
    }

    pub(crate) fn http1(body: RequestBody<ReadHalf<BoxedIo>>) -> IncomingBody {
        IncomingBody {
            kind: Kind::Http1(Box::new(body)),
            remote_addr: None,
        }
    }

    /// This body, received from `remote_addr`.
    pub(crate) fn with_remote_addr(self, remote_addr: Option<SocketAddr>) -> IncomingBody {
        IncomingBody {
            remote_addr,
            ..self
        }
    }

    /// The client this body comes from, when the server knows it.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
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
