//! [`RecvBody`]: the body of an HTTP/2 response, read straight from h2.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Frame, SizeHint};

use super::keepalive::CallGuard;

/// A response body on an h2 stream: its data, then its trailers. Flow-control capacity
/// is released as soon as data is taken, as hyper does, so the peer keeps sending while
/// the messages are decoded.
#[derive(Debug)]
pub(crate) struct RecvBody {
    stream: h2::RecvStream,
    data_done: bool,
    /// On the client, counts the call as under way while it is read.
    _call: Option<CallGuard>,
}

impl RecvBody {
    pub(crate) fn new(stream: h2::RecvStream) -> RecvBody {
        RecvBody {
            stream,
            data_done: false,
            _call: None,
        }
    }

    /// This body, holding `call` until it is dropped.
    pub(crate) fn holding(self, call: CallGuard) -> RecvBody {
        RecvBody {
            _call: Some(call),
            ..self
        }
    }

    fn poll_trailers(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        let trailers: Option<HeaderMap> = match ready!(self.stream.poll_trailers(cx)) {
            Ok(trailers) => trailers,
            Err(error) => return Poll::Ready(Some(Err(error))),
        };
        Poll::Ready(trailers.map(|trailers| Ok(Frame::trailers(trailers))))
    }
}

impl http_body::Body for RecvBody {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        let this = &mut *self;
        if !this.data_done {
            match ready!(this.stream.poll_data(cx)) {
                Some(Ok(data)) => {
                    // Fails only once the stream is gone, which the next poll reports.
                    let _ = this.stream.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => this.data_done = true,
            }
        }
        this.poll_trailers(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
