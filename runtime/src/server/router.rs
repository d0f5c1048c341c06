//! Routing requests to the service named in their path: the server's side of the
//! transport seam. [`Routes`] is also what a server's tower layers wrap.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::CONTENT_TYPE;
use tower_service::Service;

use super::trace;
use crate::boxed::{BoxError, BoxFuture};
use crate::protocol::server_call::{status_response, unimplemented_response};
use crate::protocol::wire::is_grpc_content_type;
use crate::request::Peer;
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::layered::{
    TowerService, into_body, ready_and_call, status_from_service_error,
};
use crate::transport::service::HttpService;

/// The future of a routed call.
pub(crate) type RouteFuture = BoxFuture<Result<http::Response<Body>, Infallible>>;

/// Calls one service.
pub(crate) type Route = Box<dyn Fn(http::Request<IncomingBody>) -> RouteFuture + Send + Sync>;

/// The services of a server, and where other requests go: the tower service that
/// [`Server::layer`](crate::Server::layer) wraps. Cheap to clone.
///
/// A request whose path names an added service goes to it; another gRPC request gets
/// `UNIMPLEMENTED`, and so does any other request, unless there is a
/// [fallback service](crate::Server::fallback_service): it takes them.
#[derive(Clone)]
pub struct Routes {
    dispatch: Dispatch,
}

#[derive(Clone)]
enum Dispatch {
    /// The services themselves.
    Table(Arc<RouteTable>),
    /// Layers around them.
    Layered(Arc<dyn ErasedService>),
}

struct RouteTable {
    routes: Vec<(&'static str, Route)>,
    fallback: Option<Arc<dyn ErasedService>>,
}

impl Routes {
    /// Routes over services keyed by their fully qualified names.
    pub(crate) fn new(
        routes: Vec<(&'static str, Route)>,
        fallback: Option<Arc<dyn ErasedService>>,
    ) -> Routes {
        Routes {
            dispatch: Dispatch::Table(Arc::new(RouteTable { routes, fallback })),
        }
    }

    /// `service` (these routes inside layers) as routes.
    pub(crate) fn layered(service: Arc<dyn ErasedService>) -> Routes {
        Routes {
            dispatch: Dispatch::Layered(service),
        }
    }

    /// Starts serving `request`.
    #[inline]
    fn dispatch(&self, request: http::Request<IncomingBody>) -> RouteFuture {
        match &self.dispatch {
            Dispatch::Table(table) => table.dispatch(request),
            Dispatch::Layered(service) => service.call(request),
        }
    }
}

impl RouteTable {
    fn dispatch(&self, request: http::Request<IncomingBody>) -> RouteFuture {
        if let Some(route) = self.find(request.uri().path()) {
            return route(request);
        }
        if let Some(fallback) = &self.fallback {
            if !is_grpc_content_type(request.headers().get(CONTENT_TYPE)) {
                return fallback.call(request);
            }
        }
        let response = unimplemented_response(request.uri().path());
        Box::pin(std::future::ready(Ok(response)))
    }

    /// The route of the service a `/{service}/{method}` path names.
    fn find(&self, path: &str) -> Option<&Route> {
        let path = path.strip_prefix('/')?;
        // Matched by prefix, cheaper than splitting the path on every call; the service
        // answers a method path it does not know with UNIMPLEMENTED.
        self.routes
            .iter()
            .find(|(name, _)| {
                path.strip_prefix(name)
                    .is_some_and(|method| method.starts_with('/'))
            })
            .map(|(_, route)| route)
    }
}

impl<B> Service<http::Request<B>> for Routes
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    /// Routes a request that came through the server's layers. A layer may have replaced
    /// the body; the peer then comes from the extensions.
    fn call(&mut self, request: http::Request<B>) -> RouteFuture {
        let (mut parts, body) = request.into_parts();
        let peer = parts.extensions.remove::<Peer>();
        let mut body = IncomingBody::from_body(body);
        if let Some(peer) = peer {
            body.set_peer(peer);
        }
        self.dispatch(http::Request::from_parts(parts, body))
    }
}

/// A tower service with its types erased: layers around the routes, or a fallback.
pub(crate) trait ErasedService: Send + Sync {
    fn call(&self, request: http::Request<IncomingBody>) -> RouteFuture;
}

/// Erases a tower service's types: its body becomes a [`Body`], its errors statuses.
pub(crate) fn erase(
    service: impl TowerService<http::Request<IncomingBody>>,
) -> Arc<dyn ErasedService> {
    Arc::new(Erased(service))
}

struct Erased<S>(S);

impl<S: TowerService<http::Request<IncomingBody>>> ErasedService for Erased<S> {
    fn call(&self, request: http::Request<IncomingBody>) -> RouteFuture {
        let service = self.0.clone();
        Box::pin(async move {
            Ok(match ready_and_call(service, request).await {
                Ok(response) => response.map(into_body),
                Err(error) => status_response(status_from_service_error(error.into())),
            })
        })
    }
}

/// Dispatches the requests of one connection to the routes.
#[derive(Clone)]
pub(crate) struct Router {
    routes: Routes,
    /// The peer of the connection this router serves, given to every request.
    peer: Peer,
}

impl Router {
    /// A router for the connection of `peer`.
    pub(crate) fn new(routes: Routes, peer: Peer) -> Router {
        Router { routes, peer }
    }
}

impl HttpService for Router {
    type Future = RoutedCall;

    /// Routes a request to the service its path names.
    fn call(&self, mut request: http::Request<IncomingBody>) -> RoutedCall {
        if let Dispatch::Layered(_) = self.routes.dispatch {
            // A layer may replace the body, and the peer with it.
            request.extensions_mut().insert(self.peer.clone());
        }
        // The body carries the peer to the handler: cheaper than an extension per call.
        request.body_mut().set_peer(self.peer.clone());
        let span = trace::call_span(&request, &self.peer);
        if span.is_disabled() {
            return RoutedCall(self.routes.dispatch(request));
        }
        RoutedCall(trace::traced(span, self.routes.dispatch(request)))
    }
}

/// A routed call's future: the service's, whose error cannot happen.
pub(crate) struct RoutedCall(RouteFuture);

impl Future for RoutedCall {
    type Output = http::Response<Body>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<http::Response<Body>> {
        self.0.as_mut().poll(cx).map(|result| match result {
            Ok(response) => response,
            Err(never) => match never {},
        })
    }
}
