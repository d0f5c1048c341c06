//! Routing requests to the service named in their path.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;

use super::IncomingBody;
use super::method::unimplemented_response;
use crate::Body;
use crate::codegen::BoxFuture;
use crate::request::{Certificate, Peer};

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

    fn find(&self, path: &str) -> Option<&Route> {
        let service = path.strip_prefix('/')?.rsplit_once('/')?.0;
        self.routes
            .iter()
            .find(|(name, _)| *name == service)
            .map(|(_, route)| route)
    }
}

impl Router {
    /// Routes a request to the service its path names.
    pub(crate) fn route(&self, request: http::Request<IncomingBody>) -> RouteFuture {
        // The body carries the peer to the handler: cheaper than an extension per call.
        let request = request.map(|body| body.with_peer(self.peer.clone()));
        match self.find(request.uri().path()) {
            Some(route) => route(request),
            None => {
                let response = unimplemented_response(request.uri().path());
                Box::pin(std::future::ready(Ok(response)))
            }
        }
    }
}

impl hyper::service::Service<http::Request<Incoming>> for Router {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        self.route(request.map(IncomingBody::http2))
    }
}
