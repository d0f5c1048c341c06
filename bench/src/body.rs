//! [`OnceBody`]: one data frame, then optional trailers, of undeclared length.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame};

/// An HTTP body of one data frame followed by optional trailers.
///
/// Its length is deliberately not declared (no exact size hint): over HTTP/1.1 hyper then
/// sends it chunked, which is what gRPC over HTTP/1.1 needs for its trailers, and over
/// HTTP/2 the trailers follow the data as a HEADERS frame.
#[derive(Debug, Default)]
pub struct OnceBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl OnceBody {
    /// A body of `data` and then `trailers`, if any.
    pub fn new(data: Bytes, trailers: Option<HeaderMap>) -> OnceBody {
        OnceBody {
            data: Some(data).filter(|data| !data.is_empty()),
            trailers,
        }
    }
}

impl Body for OnceBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.data.take() {
            Some(data) => Some(Frame::data(data)),
            None => self.trailers.take().map(Frame::trailers),
        };
        Poll::Ready(frame.map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn yields_data_then_trailers() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        let body = OnceBody::new(Bytes::from_static(b"abc"), Some(trailers.clone()));
        assert_eq!(body.size_hint().exact(), None);
        let collected = body.collect().await.unwrap();
        assert_eq!(collected.trailers(), Some(&trailers));
        assert_eq!(collected.to_bytes(), Bytes::from_static(b"abc"));
    }
}
