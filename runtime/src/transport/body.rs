//! [`Body`]: the outbound HTTP body of a call — request messages on the client, response
//! messages and trailers on the server. What fills it is the protocol's business; here it
//! is bytes and trailers.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Frame, SizeHint};

use crate::status::Status;

/// Marks a response whose body ends without trailers (gRPC-Web and Connect carry them in
/// the body): an HTTP/1.1 server streams it as it comes, even to a client that cannot
/// read trailers, instead of holding it to fold its trailers into the headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WithoutTrailers;

/// A body that streams, and ends in its own way when the server cuts it short: gRPC-Web
/// and Connect carry the status in a last frame, where HTTP trailers would not reach
/// their clients.
pub(crate) trait EndsItself: http_body::Body<Data = Bytes, Error = Status> + Send {
    /// Ends the body with `trailers`, the status of its cut call: its next frames are its
    /// last, and ready at once.
    fn cut(self: Pin<&mut Self>, trailers: HeaderMap);
}

/// The body of an outgoing gRPC request or response.
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// Data (at most one chunk) then, optionally, trailers.
    Full {
        data: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
    /// Messages encoded as a stream produces them.
    Streaming(Pin<Box<dyn http_body::Body<Data = Bytes, Error = Status> + Send>>),
    /// A stream that ends itself when cut short.
    EndsItself(Pin<Box<dyn EndsItself>>),
}

impl Body {
    /// A body with no data and no trailers.
    pub fn empty() -> Body {
        Body::full(None, None)
    }

    /// A body of one chunk of data followed by optional trailers.
    pub(crate) fn full(data: Option<Bytes>, trailers: Option<HeaderMap>) -> Body {
        Body {
            kind: Kind::Full { data, trailers },
        }
    }

    /// The data and trailers of a body built whole, taken out of it; `None` for a body
    /// that streams.
    pub(crate) fn take_full(&mut self) -> Option<(Option<Bytes>, Option<HeaderMap>)> {
        match &mut self.kind {
            Kind::Full { data, trailers } => Some((data.take(), trailers.take())),
            Kind::Streaming(_) | Kind::EndsItself(_) => None,
        }
    }

    /// A copy of a body built whole, to send again; `None` for a body that streams.
    pub(crate) fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Full { data, trailers } => Some(Body::full(data.clone(), trailers.clone())),
            Kind::Streaming(_) | Kind::EndsItself(_) => None,
        }
    }

    /// A body whose frames `body` produces as the call runs.
    pub(crate) fn streaming<B>(body: B) -> Body
    where
        B: http_body::Body<Data = Bytes, Error = Status> + Send + 'static,
    {
        Body {
            kind: Kind::Streaming(Box::pin(body)),
        }
    }

    /// A body whose frames `body` produces, and which it ends itself when cut short.
    pub(crate) fn ends_itself(body: impl EndsItself + 'static) -> Body {
        Body {
            kind: Kind::EndsItself(Box::pin(body)),
        }
    }

    /// Cuts the body short with `trailers`, the status of its cut call. A body that ends
    /// itself now yields its last frames; any other gives the trailers back, to end it.
    pub(crate) fn cut(&mut self, trailers: HeaderMap) -> Option<HeaderMap> {
        match &mut self.kind {
            Kind::EndsItself(body) => {
                body.as_mut().cut(trailers);
                None
            }
            Kind::Full { .. } | Kind::Streaming(_) => Some(trailers),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        match &mut self.kind {
            Kind::Full { data, trailers } => {
                let frame = match data.take() {
                    Some(data) => Some(Frame::data(data)),
                    None => trailers.take().map(Frame::trailers),
                };
                Poll::Ready(frame.map(Ok))
            }
            Kind::Streaming(body) => body.as_mut().poll_frame(cx),
            Kind::EndsItself(body) => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full { data, trailers } => data.is_none() && trailers.is_none(),
            Kind::Streaming(body) => body.is_end_stream(),
            Kind::EndsItself(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            // An exact hint makes hyper send content-length; only do so without trailers.
            Kind::Full {
                data,
                trailers: None,
            } => SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64)),
            Kind::Full { .. } => SizeHint::default(),
            Kind::Streaming(body) => body.size_hint(),
            Kind::EndsItself(body) => body.size_hint(),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full { data, trailers } => f
                .debug_struct("Body")
                .field("data", data)
                .field("trailers", trailers)
                .finish(),
            Kind::Streaming(_) | Kind::EndsItself(_) => f.write_str("Body(streaming)"),
        }
    }
}
