//! tower services at the HTTP seam: what user layers (tower, tower-http) wrap around a
//! server's routes or a channel returns in its own types. Response bodies become rsrpc
//! bodies and service errors become statuses, with no extra box when a layer keeps the
//! body type.

use std::any::Any;
use std::future::poll_fn;

use bytes::Buf;
use http_body_util::BodyExt;
use tower_service::Service;

use super::body::Body;
use super::error::status_from_body_error;
use crate::boxed::BoxError;
use crate::status::Status;

/// A tower service of HTTP requests that rsrpc can put on a call's path: layers around a
/// server's routes or around a channel, or a server's fallback service. Implemented for
/// every service whose response body and errors rsrpc can convert; there is nothing to
/// implement by hand.
pub trait TowerService<R>:
    Service<R, Response = http::Response<Self::ResponseBody>, Error: Into<BoxError>, Future: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
    /// The body of the service's responses.
    type ResponseBody: http_body::Body<Error: Into<BoxError>> + Send + 'static;
}

impl<S, R, B> TowerService<R> for S
where
    S: Service<R, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    type ResponseBody = B;
}

/// Waits until `service` is ready, then calls it.
pub(crate) async fn ready_and_call<S, R>(
    mut service: S,
    request: R,
) -> Result<S::Response, S::Error>
where
    S: Service<R>,
{
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

/// A response body from a layer as an outbound [`Body`]: rsrpc's own passes as it is.
pub(crate) fn into_body<B>(body: B) -> Body
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut slot = Some(body);
    if let Some(body) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Body>>() {
        return body.take().unwrap_or_else(Body::empty);
    }
    let Some(body) = slot else {
        return Body::empty();
    };
    Body::streaming(
        body.map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
            .map_err(|error| status_from_service_error(error.into())),
    )
}

/// The status for an error of a user's service or layer: a [`Status`] stays as it is, a
/// timeout of `tower::timeout` is `DEADLINE_EXCEEDED`, an overload of
/// `tower::load_shed` is `RESOURCE_EXHAUSTED`, and transport errors map as they do
/// anywhere in rsrpc.
pub(crate) fn status_from_service_error(error: BoxError) -> Status {
    if error.is::<tower::timeout::error::Elapsed>() {
        return Status::deadline_exceeded(format!("{error} (tower timeout)"));
    }
    if error.is::<tower::load_shed::error::Overloaded>() {
        return Status::resource_exhausted(format!("{error} (tower load shedding)"));
    }
    status_from_body_error(error)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::status::Code;

    #[test]
    fn rsrpc_bodies_pass_unboxed() {
        let body = into_body(Body::full(Some(Bytes::from_static(b"x")), None));
        assert_eq!(
            format!("{body:?}"),
            r#"Body { data: Some(b"x"), trailers: None }"#
        );
    }

    #[test]
    fn tower_errors_map_to_their_codes() {
        let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert_eq!(
            status_from_service_error(elapsed).code(),
            Code::DeadlineExceeded
        );
        let overloaded: BoxError = Box::new(tower::load_shed::error::Overloaded::new());
        assert_eq!(
            status_from_service_error(overloaded).code(),
            Code::ResourceExhausted
        );
        let status: BoxError = Box::new(Status::permission_denied("no"));
        assert_eq!(
            status_from_service_error(status).code(),
            Code::PermissionDenied
        );
    }
}
