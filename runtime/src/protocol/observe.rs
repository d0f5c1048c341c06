//! Watching a call to its end: the final status of a response, as the transport sent it
//! (its trailers, or the headers of a Trailers-Only or folded response), or `CANCELLED`
//! if it never completed. Interceptors and tracing spans are told through an
//! [`OnFinish`].

use http::HeaderMap;

use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::sent::OnSent;

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

/// A server's response, made to report its final status to `on_finish` once the
/// transport has sent it, after any observer it already had.
pub(crate) fn observe_response(
    mut response: http::Response<Body>,
    on_finish: OnFinish,
) -> http::Response<Body> {
    let earlier = OnSent::take(response.extensions_mut());
    let on_sent = OnSent::new(move |headers| {
        if let Some(headers) = headers {
            on_finish.finish(&final_status(headers));
            if let Some(earlier) = earlier {
                earlier.sent(headers);
            }
        }
        // Not sent: dropping `on_finish` and `earlier` reports `CANCELLED`.
    });
    response.extensions_mut().insert(on_sent);
    response
}

/// The status of the header block that ended a response.
fn final_status(headers: &HeaderMap) -> Status {
    Status::from_headers(headers)
        .unwrap_or_else(|| Status::internal("the response ended without a status"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::status::Code;

    /// An `OnFinish` that records the codes it is given under `name`.
    fn recorder(name: &'static str, seen: &Arc<Mutex<Vec<(&'static str, Code)>>>) -> OnFinish {
        let record = Arc::clone(seen);
        OnFinish::new(move |status| record.lock().unwrap().push((name, status.code())))
    }

    #[test]
    fn dropped_without_a_status_reports_cancelled() {
        let seen = Arc::default();
        drop(recorder("a", &seen));
        assert_eq!(*seen.lock().unwrap(), [("a", Code::Cancelled)]);
    }

    #[test]
    fn every_observer_hears_the_status_the_transport_sent() {
        let seen = Arc::default();
        let response = http::Response::new(Body::empty());
        let response = observe_response(response, recorder("first", &seen));
        let mut response = observe_response(response, recorder("second", &seen));
        assert!(seen.lock().unwrap().is_empty(), "nothing is sent yet");
        let on_sent = OnSent::take(response.extensions_mut()).unwrap();
        on_sent.sent(&Status::not_found("no").to_header_map());
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            [("second", Code::NotFound), ("first", Code::NotFound)]
        );
    }

    #[test]
    fn a_response_never_sent_is_cancelled_for_every_observer() {
        let seen = Arc::default();
        let response = http::Response::new(Body::empty());
        let response = observe_response(response, recorder("first", &seen));
        drop(observe_response(response, recorder("second", &seen)));
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_by_key(|(name, _)| *name);
        assert_eq!(
            seen,
            [("first", Code::Cancelled), ("second", Code::Cancelled)]
        );
    }

    #[test]
    fn trailers_without_a_status_are_internal() {
        assert_eq!(final_status(&HeaderMap::new()).code(), Code::Internal);
    }
}
