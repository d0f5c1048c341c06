//! The seam between the transports and what they serve, like hyper's `HttpService`:
//! a request with an [`IncomingBody`] in, a response future out. The transports call it
//! and know nothing of routes or gRPC.

use std::future::Future;

use super::body::Body;
use super::incoming::IncomingBody;
use super::shutdown;

/// Serves the requests of every connection; cloned once per connection.
pub(crate) trait HttpService: Clone + Send + Sync + 'static {
    /// The future of one response.
    type Future: Future<Output = http::Response<Body>> + Send + 'static;

    /// Starts serving `request`.
    fn call(&self, request: http::Request<IncomingBody>) -> Self::Future;

    /// The answer of `call` when the drain deadline cuts it before it answers, in the
    /// protocol its request speaks: by default, gRPC's cut status, Trailers-Only.
    fn cut_response(_call: &Self::Future) -> http::Response<Body> {
        shutdown::cut_response()
    }
}

/// Any function from request to response future serves: tests and fuzz targets use
/// closures.
impl<F, Fut> HttpService for F
where
    F: Fn(http::Request<IncomingBody>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = http::Response<Body>> + Send + 'static,
{
    type Future = Fut;

    fn call(&self, request: http::Request<IncomingBody>) -> Fut {
        self(request)
    }
}
