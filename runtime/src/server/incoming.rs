//! [`IncomingBody`]: the body of a request as the server receives it.

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
}

#[derive(Debug)]
enum Kind {
    Http2(hyper::body::Incoming),
    Http1(RequestBody<ReadHalf<BoxedIo>>),
}

impl IncomingBody {
    pub(crate) fn http2(body: hyper::body::Incoming) -> IncomingBody {
        IncomingBody {
            kind: Kind::Http2(body),
        }
    }

    pub(crate) fn http1(body: RequestBody<ReadHalf<BoxedIo>>) -> IncomingBody {
        IncomingBody {
            kind: Kind::Http1(body),
        }
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
            Kind::Http1(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
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
