//! Interceptors on the server: they run before a call reaches its service, and are told
//! how it ended. [`InterceptedService`] puts them on one service; the server's own wrap
//! every route.

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use tokio::time::Instant;
use tower_service::Service;

use super::router::RouteFuture;
use super::{NamedService, RouteService};
use crate::interceptor::{GrpcMethod, Interceptor, Interceptors};
use crate::metadata::MetadataMap;
use crate::protocol::deadline::within_deadline;
use crate::protocol::observe::{OnFinish, observe_response};
use crate::protocol::server_call::{request_format, status_response_in};
use crate::protocol::service_config::ServiceConfig;
use crate::protocol::wire::{GRPC_TIMEOUT, insert_timeout, parse_timeout};
use crate::request::Request;
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;

/// Runs `interceptors` on `request`'s head, within the call's deadline, then `call` on
/// the request they return, and reports the call's end to them (`CANCELLED` if this
/// future is dropped first). A refused call gets a Trailers-Only response.
pub(crate) fn intercept_call<C, F>(
    interceptors: Interceptors,
    request: http::Request<IncomingBody>,
    call: C,
) -> RouteFuture
where
    C: FnOnce(http::Request<IncomingBody>) -> F + Send + 'static,
    F: Future<Output = Result<http::Response<Body>, Infallible>> + Send,
{
    Box::pin(async move {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().cloned();
        let method = GrpcMethod::new(path.unwrap_or_else(|| PathAndQuery::from_static("/")));
        let deadline = parts
            .headers
            .get(GRPC_TIMEOUT)
            .and_then(parse_timeout)
            .and_then(|timeout| Instant::now().checked_add(timeout));
        let format = request_format(&parts.headers);
        let (metadata, mut reserved) =
            MetadataMap::split_reserved(std::mem::take(&mut parts.headers));
        let extensions = std::mem::take(&mut parts.extensions);
        let head = Request::from_parts(metadata, (), deadline, extensions, body.peer());
        let mut intercepted = interceptors.start(method);
        // The interceptors' time counts against the call's deadline.
        let head = within_deadline(deadline, intercepted.run(head)).await;
        let on_finish = OnFinish::new(move |status| intercepted.finish(status));
        let head = match head {
            Ok(head) => head,
            Err(status) => {
                on_finish.finish(&status);
                return Ok(status_response_in(status, format));
            }
        };
        // The handler gets what is left of the deadline, which an interceptor may have
        // shortened.
        insert_timeout(&mut reserved, head.effective_deadline(None));
        let (metadata, (), extensions) = head.into_parts();
        parts.headers = reserved;
        parts.headers.extend(metadata.into_headers());
        parts.extensions = extensions;
        let response = call(http::Request::from_parts(parts, body)).await?;
        Ok(observe_response(response, on_finish))
    })
}

/// A service whose calls pass interceptors first, for interceptors of one service only
/// (those of [`Server::interceptor`](crate::Server::interceptor) see every call, and run
/// before these).
///
/// ```
/// # use rsrpc::server::{InterceptedService, NamedService};
/// # fn wrap<S: NamedService>(service: S) -> InterceptedService<S> {
/// let audited = InterceptedService::new(service, |request: rsrpc::Request<()>| async move {
///     // Check, change or annotate the call here.
///     Ok(request)
/// });
/// # audited
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct InterceptedService<S> {
    inner: S,
    interceptors: Interceptors,
}

impl<S> InterceptedService<S> {
    /// `inner`, behind `interceptor`.
    pub fn new(inner: S, interceptor: impl Interceptor) -> InterceptedService<S> {
        InterceptedService {
            inner,
            interceptors: Interceptors::default().with(interceptor),
        }
    }

    /// Adds an interceptor, to run after those already added.
    pub fn interceptor(self, interceptor: impl Interceptor) -> InterceptedService<S> {
        InterceptedService {
            interceptors: self.interceptors.with(interceptor),
            ..self
        }
    }
}

impl<S: NamedService> NamedService for InterceptedService<S> {
    const NAME: &'static str = S::NAME;

    fn inherit_config(&mut self, defaults: &ServiceConfig) {
        self.inner.inherit_config(defaults);
    }

    fn on_shutdown(&self) {
        self.inner.on_shutdown();
    }
}

impl<S: RouteService> Service<http::Request<IncomingBody>> for InterceptedService<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<IncomingBody>) -> RouteFuture {
        let mut inner = self.inner.clone();
        intercept_call(self.interceptors.clone(), request, move |request| {
            inner.call(request)
        })
    }
}
