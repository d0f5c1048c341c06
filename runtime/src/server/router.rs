//! Routing requests to the service named in their path: the server's side of the
//! transport seam.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::boxed::BoxFuture;
use crate::protocol::server_call::unimplemented_response;
use crate::request::{Certificate, Peer};
use crate::transport::body::Body;
use crate::transport::incoming::IncomingBody;
use crate::transport::service::HttpService;

/// The future of a routed call.
pub(crate) type RouteFuture = BoxFuture<Result<http::Response<Body>, Infallible>>;

/// Calls one service.
pub(crate) type Route = Box<dyn Fn(http::Request<IncomingBody>) -> RouteFuture + Send + Sync>;

/// Dispatches `/{service}/{method}` requests to the services added to a server.
#[derive(Clone)]
pub(crate) struct Router {
    routes: Arc<[(&'static str, Route)]>,
    /// The peer of the connection this router serves, given to every request.
    peer: Peer,
}

impl Router {
    /// A router over services keyed by their fully qualified names.
    pub(crate) fn new(routes: Vec<(&'static str, Route)>) -> Router {
        Router {
            routes: routes.into(),
            peer: Peer::default(),
        }
    }

    /// This router, for a connection from `remote_addr`, whose client presented `certs`
    /// over TLS.
    pub(crate) fn for_connection(
        &self,
        remote_addr: SocketAddr,
        certs: Option<Arc<[Certificate]>>,
    ) -> Router {
        Router {
            routes: Arc::clone(&self.routes),
            peer: Peer::new(remote_addr, certs),
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

impl HttpService for Router {
    type Future = RoutedCall;

    /// Routes a request to the service its path names.
    fn call(&self, mut request: http::Request<IncomingBody>) -> RoutedCall {
        // The body carries the peer to the handler: cheaper than an extension per call.
        request.body_mut().set_peer(self.peer.clone());
        let call = match self.find(request.uri().path()) {
            Some(route) => route(request),
            None => {
                let response = unimplemented_response(request.uri().path());
                Box::pin(std::future::ready(Ok(response)))
            }
        };
        RoutedCall(call)
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
