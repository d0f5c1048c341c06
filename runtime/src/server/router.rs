//! Routing requests to the service named in their path: the server's side of the
//! transport seam. [`Routes`] is also what a server's tower layers wrap.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use tower_service::Service;

use super::cors::{Cors, CorsCheck};
use super::trace;
use crate::boxed::{BoxError, BoxFuture};
use crate::protocol::server_call::{plain_response, status_response, unimplemented_response};
use crate::protocol::trace::RpcSystem;
use crate::protocol::wire::is_grpc_content_type;
use crate::request::Peer;
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::layered::{
    TowerService, into_body, ready_and_call, status_from_service_error,
};
use crate::transport::service::HttpService;
use crate::transport::shutdown::{CUT_MESSAGE, cut_status};
use crate::web::WebRequest;

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
    /// Which browsers' pages may call the services, answered outside any layer.
    cors: Option<Arc<ServiceCors>>,
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
    /// Bound on a Connect unary request's body, read whole before its call.
    max_receive: usize,
}

impl Routes {
    /// Routes over services keyed by their fully qualified names.
    pub(crate) fn new(
        routes: Vec<(&'static str, Route)>,
        fallback: Option<Arc<dyn ErasedService>>,
        max_receive: usize,
    ) -> Routes {
        let table = RouteTable {
            routes,
            fallback,
            max_receive,
        };
        Routes {
            dispatch: Dispatch::Table(Arc::new(table)),
            cors: None,
        }
    }

    /// These routes, answering browsers' cross-origin requests to `services` as `cors`
    /// says; with a fallback service, requests to other paths are the fallback's.
    pub(crate) fn with_cors(
        self,
        cors: Option<Cors>,
        services: Vec<&'static str>,
        fallback: bool,
    ) -> Routes {
        let cors = cors.map(|cors| {
            Arc::new(ServiceCors {
                cors,
                services,
                fallback,
            })
        });
        Routes { cors, ..self }
    }

    /// `service` (these routes inside layers) as routes.
    pub(crate) fn layered(service: Arc<dyn ErasedService>) -> Routes {
        Routes {
            dispatch: Dispatch::Layered(service),
            cors: None,
        }
    }

    /// The protocol `request` will be answered in: a web request the fallback takes is
    /// plain HTTP to it. (Behind layers, which may route otherwise, as detected.)
    fn speaks(&self, request: &http::Request<IncomingBody>) -> Speaks {
        match (&self.dispatch, Speaks::of(request)) {
            (Dispatch::Table(table), Speaks::Web(web)) => {
                let to_service = table.find(request.uri().path()).is_some();
                match table.translates(web, to_service) {
                    true => Speaks::Web(web),
                    false => Speaks::Http,
                }
            }
            (_, speaks) => speaks,
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
    /// Serves a request: a gRPC request goes to the service its path names; a gRPC-Web
    /// or Connect request there is translated to gRPC and back; anything else goes to
    /// the fallback, if there is one.
    fn dispatch(self: &Arc<Self>, request: http::Request<IncomingBody>) -> RouteFuture {
        let grpc = is_grpc_content_type(request.headers().get(CONTENT_TYPE));
        let route = self.find(request.uri().path());
        if let (true, Some(route)) = (grpc, route) {
            return route(request);
        }
        let web = match grpc {
            true => None,
            false => WebRequest::detect(request.method(), request.headers()),
        };
        match (web, route) {
            (Some(web), route) if self.translates(web, route.is_some()) => {
                self.translate(web, request)
            }
            (_, Some(route)) => route(request),
            (_, None) => match &self.fallback {
                Some(fallback) if !grpc => fallback.call(request),
                _ => {
                    let response = unimplemented_response(&request);
                    Box::pin(std::future::ready(Ok(response)))
                }
            },
        }
    }

    /// Whether a `web` request is translated for the services: one to a service's path,
    /// or to a path no service has unless the fallback may be for it (only a web client
    /// sends the others).
    fn translates(&self, web: WebRequest, to_service: bool) -> bool {
        to_service || self.fallback.is_none() || web.is_unambiguous()
    }

    /// Serves a web request as the gRPC request it stands for.
    fn translate(
        self: &Arc<Self>,
        web: WebRequest,
        request: http::Request<IncomingBody>,
    ) -> RouteFuture {
        let table = Arc::clone(self);
        Box::pin(async move {
            let call = |grpc| table.call_grpc(grpc, web.rpc_system());
            Ok(crate::web::server::serve(web, request, table.max_receive, call).await)
        })
    }

    /// Serves a gRPC request made from a web one in `system`, in its span.
    async fn call_grpc(
        &self,
        request: http::Request<IncomingBody>,
        system: RpcSystem,
    ) -> http::Response<Body> {
        let span = trace::call_span(&request, request.body().remote_addr(), system);
        let call = match self.find(request.uri().path()) {
            Some(route) => route(request),
            None => {
                let response = unimplemented_response(&request);
                Box::pin(std::future::ready(Ok(response)))
            }
        };
        let served = match span.is_disabled() {
            true => call.await,
            false => trace::traced(span, system, call).await,
        };
        match served {
            Ok(response) => response,
            Err(never) => match never {},
        }
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
        let mut allowed_origin = None;
        if let Some(cors) = self
            .routes
            .cors
            .as_ref()
            .filter(|cors| cors.covers(&request))
        {
            match cors.cors.check(request.method(), request.headers()) {
                CorsCheck::SameOrigin => allowed_origin = Some(Box::new((Arc::clone(cors), None))),
                CorsCheck::Answer(response) => {
                    let answered = Box::pin(std::future::ready(Ok(response)));
                    return RoutedCall::new(answered, Speaks::Http, None);
                }
                CorsCheck::Allowed(origin) => {
                    allowed_origin = Some(Box::new((Arc::clone(cors), Some(origin))));
                }
            }
        }
        if let Dispatch::Layered(_) = self.routes.dispatch {
            // A layer may replace the body, and the peer with it.
            request.extensions_mut().insert(self.peer.clone());
        }
        // The body carries the peer to the handler: cheaper than an extension per call.
        request.body_mut().set_peer(self.peer.clone());
        let speaks = self.routes.speaks(&request);
        let span = match speaks {
            Speaks::Grpc => trace::call_span(&request, self.peer.addr(), RpcSystem::Grpc),
            Speaks::Web(_) | Speaks::Http => tracing::Span::none(),
        };
        if span.is_disabled() {
            return RoutedCall::new(self.routes.dispatch(request), speaks, allowed_origin);
        }
        let traced = trace::traced(span, RpcSystem::Grpc, self.routes.dispatch(request));
        RoutedCall::new(traced, speaks, allowed_origin)
    }

    fn cut_response(call: &RoutedCall) -> http::Response<Body> {
        let mut response = match call.speaks {
            Speaks::Grpc => status_response(cut_status()),
            Speaks::Web(web) => crate::web::server::status_answer(web, cut_status()),
            Speaks::Http => plain_response(StatusCode::SERVICE_UNAVAILABLE, CUT_MESSAGE),
        };
        if let Some(answer) = &call.allowed_origin {
            let (cors, origin) = &**answer;
            cors.cors.decorate(response.headers_mut(), origin.clone());
        }
        response
    }
}

/// The protocol a request speaks, for the answer of a call cut before it answers.
#[derive(Debug, Clone, Copy)]
enum Speaks {
    Grpc,
    Web(WebRequest),
    /// Plain HTTP: a request for the fallback service, or a CORS preflight.
    Http,
}

impl Speaks {
    fn of(request: &http::Request<IncomingBody>) -> Speaks {
        if is_grpc_content_type(request.headers().get(CONTENT_TYPE)) {
            return Speaks::Grpc;
        }
        match WebRequest::detect(request.method(), request.headers()) {
            Some(web) => Speaks::Web(web),
            None => Speaks::Http,
        }
    }
}

/// A CORS policy, and the paths it covers.
struct ServiceCors {
    cors: Cors,
    /// The services' names: their paths are `/{name}/{method}`.
    services: Vec<&'static str>,
    /// Whether a fallback service takes the other paths, and answers for them itself.
    fallback: bool,
}

impl ServiceCors {
    /// Whether the policy answers for `request`: one to a service, or to any path when
    /// no fallback service has paths of its own.
    fn covers<B>(&self, request: &http::Request<B>) -> bool {
        !self.fallback || names_service(&self.services, request.uri().path())
    }
}

/// Whether `path` is `/{service}/{method}` for one of `services`.
fn names_service(services: &[&'static str], path: &str) -> bool {
    let Some(path) = path.strip_prefix('/') else {
        return false;
    };
    services.iter().any(|name| {
        path.strip_prefix(name)
            .is_some_and(|method| method.starts_with('/'))
    })
}

/// A routed call's future: the service's, whose error cannot happen; the response of a
/// cross-origin call gets its CORS headers.
pub(crate) struct RoutedCall {
    call: RouteFuture,
    speaks: Speaks,
    /// With a CORS policy: the allowed origin of a cross-origin call, if it is one.
    /// Boxed: every call's future holds this, and few servers have a policy.
    allowed_origin: Option<Box<CorsAnswer>>,
}

/// A CORS policy, and the origin a response names (a cross-origin call's).
type CorsAnswer = (Arc<ServiceCors>, Option<HeaderValue>);

impl RoutedCall {
    fn new(
        call: RouteFuture,
        speaks: Speaks,
        allowed_origin: Option<Box<CorsAnswer>>,
    ) -> RoutedCall {
        RoutedCall {
            call,
            speaks,
            allowed_origin,
        }
    }
}

impl Future for RoutedCall {
    type Output = http::Response<Body>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<http::Response<Body>> {
        let mut response = match std::task::ready!(self.call.as_mut().poll(cx)) {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if let Some(answer) = self.allowed_origin.take() {
            let (cors, origin) = *answer;
            cors.cors.decorate(response.headers_mut(), origin);
        }
        Poll::Ready(response)
    }
}
