//! Watching a call to its end: the final status of a response, whether it comes in the
//! headers, in the trailers of a body, as an error, or never (the call was dropped).
//! Interceptors and tracing spans are told through an [`OnFinish`].

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::status::Status;
use crate::transport::body::Body;

/// What to run once with a call's final status. Dropped without a status, it reports
/// `CANCELLED`: the call was abandoned before it ended.
pub(crate) struct OnFinish(Option<Report>);

/// Told of a call's final status.
type Report = Box<dyn FnOnce(&Status) + Send>;

impl OnFinish {
    /// Runs `report` with the final status.
    pub(crate) fn new(report: impl FnOnce(&Status) + Send + 'static) -> OnFinish {
        OnFinish(Some(Box::new(report)))
    }

    /// Reports `status` as the call's final one.
    pub(crate) fn finish(mut self, status: &Status) {
        self.report(status);
    }

    fn report(&mut self, status: &Status) {
        if let Some(report) = self.0.take() {
            report(status);
        }
    }
}

impl Drop for OnFinish {
    fn drop(&mut self) {
        self.report(&Status::cancelled("the call was cancelled before it ended"));
    }
}

impl std::fmt::Debug for OnFinish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnFinish")
    }
}

/// A server's response, made to report its final status to `on_finish`: at once for a
/// Trailers-Only response or a body built whole, else when its body ends.
pub(crate) fn observe_response(
    response: http::Response<Body>,
    on_finish: OnFinish,
) -> http::Response<Body> {
    if let Some(status) = Status::from_headers(response.headers()) {
        on_finish.finish(&status);
        return response;
    }
    if let Some(trailers) = response.body().full_trailers() {
        on_finish.finish(&final_status(trailers));
        return response;
    }
    response.map(|body| {
        Body::streaming(ObservedBody {
            body,
            on_finish: Some(on_finish),
        })
    })
}

/// The status of trailers that ended a response.
fn final_status(trailers: Option<&http::HeaderMap>) -> Status {
    trailers
        .and_then(Status::from_headers)
        .unwrap_or_else(|| Status::internal("the response ended without a status"))
}

/// A response body that reports the status its trailers or its error carry.
struct ObservedBody {
    body: Body,
    on_finish: Option<OnFinish>,
}

impl ObservedBody {
    fn finish(&mut self, status: &Status) {
        if let Some(on_finish) = self.on_finish.take() {
            on_finish.finish(status);
        }
    }
}

impl http_body::Body for ObservedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref() {
                    self.finish(&final_status(Some(trailers)));
                }
            }
            Some(Err(status)) => self.finish(status),
            None => self.finish(&final_status(None)),
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http_body_util::BodyExt;

    use super::*;
    use crate::status::Code;

    /// An `OnFinish` that records the codes it is given.
    fn recorder() -> (OnFinish, Arc<Mutex<Vec<Code>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let on_finish = OnFinish::new(move |status| record.lock().unwrap().push(status.code()));
        (on_finish, seen)
    }

    fn trailers(status: Status) -> http::HeaderMap {
        status.to_header_map()
    }

    #[test]
    fn dropped_without_a_status_reports_cancelled() {
        let (on_finish, seen) = recorder();
        drop(on_finish);
        assert_eq!(*seen.lock().unwrap(), [Code::Cancelled]);
    }

    #[test]
    fn trailers_only_and_whole_bodies_report_at_once() {
        let (on_finish, seen) = recorder();
        let mut response = http::Response::new(Body::empty());
        *response.headers_mut() = trailers(Status::not_found("no"));
        observe_response(response, on_finish);
        let (on_finish, seen_whole) = recorder();
        let body = Body::full(
            Some(Bytes::from_static(b"x")),
            Some(trailers(Status::new(Code::Ok, ""))),
        );
        observe_response(http::Response::new(body), on_finish);
        assert_eq!(*seen.lock().unwrap(), [Code::NotFound]);
        assert_eq!(*seen_whole.lock().unwrap(), [Code::Ok]);
    }

    #[tokio::test]
    async fn a_streamed_body_reports_its_trailers_once_read() {
        let (on_finish, seen) = recorder();
        let inner = Body::full(None, Some(trailers(Status::aborted("late"))));
        let body = Body::streaming(http_body_util::StreamBody::new(futures_stream(inner)));
        let response = observe_response(http::Response::new(body), on_finish);
        assert!(seen.lock().unwrap().is_empty());
        let collected = response.into_body().collect().await.unwrap();
        assert!(collected.trailers().is_some());
        assert_eq!(*seen.lock().unwrap(), [Code::Aborted]);
    }

    #[tokio::test]
    async fn a_streamed_body_dropped_early_reports_cancelled() {
        let (on_finish, seen) = recorder();
        let inner = Body::full(None, Some(trailers(Status::new(Code::Ok, ""))));
        let body = Body::streaming(http_body_util::StreamBody::new(futures_stream(inner)));
        drop(observe_response(http::Response::new(body), on_finish));
        assert_eq!(*seen.lock().unwrap(), [Code::Cancelled]);
    }

    /// The frames of `body` as a stream, so that the observer sees a streaming body.
    fn futures_stream(
        mut body: Body,
    ) -> impl futures_core::Stream<Item = Result<Frame<Bytes>, Status>> + Send {
        let (data, trailers) = body.take_full().expect("a body built whole");
        let frames = data
            .map(Frame::data)
            .into_iter()
            .chain(trailers.map(Frame::trailers))
            .map(Ok)
            .collect::<Vec<_>>();
        tokio_stream::iter(frames)
    }
}
