//! The `grpc.health.v1.Health` handlers, and the server type that adds them to a
//! [`Server`](crate::Server) with its shutdown hook.

use std::convert::Infallible;
use std::task::{Context, Poll};

use super::generated::health_server::{self, Health};
use super::generated::{HealthCheckRequest, HealthCheckResponse};
use super::reporter::HealthReporter;
use super::watch::WatchStream;
use crate::boxed::{BoxError, BoxFuture};
use crate::request::Request;
use crate::response::Response;
use crate::server::{NamedService, ServiceConfig};
use crate::status::Status;
use crate::transport::body::Body;

/// Answers `Check` and `Watch` from the reporter's statuses.
#[derive(Debug)]
struct Handlers {
    reporter: HealthReporter,
}

impl Health for Handlers {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = &request.get_ref().service;
        match self.reporter.status(service) {
            Some(status) => Ok(Response::new(HealthCheckResponse {
                status: status.into(),
            })),
            // Not the name: a client's long name must not swell the status header.
            None => Err(Status::not_found("unknown service")),
        }
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let service = request.into_inner().service;
        let stream = WatchStream::new(service, self.reporter.subscribe());
        Ok(Response::new(stream))
    }
}

/// The `grpc.health.v1.Health` service, to add to a [`Server`](crate::Server); made with
/// its [`HealthReporter`] by [`health_reporter`](super::health_reporter).
///
/// When the server's shutdown signal fires, it reports every service `NOT_SERVING`, then
/// ends each `Watch` call once that is sent.
#[derive(Clone, Debug)]
pub struct HealthServer {
    inner: health_server::HealthServer<Handlers>,
    reporter: HealthReporter,
}

impl HealthServer {
    /// Serves the statuses `reporter` sets.
    pub(super) fn new(reporter: HealthReporter) -> HealthServer {
        let handlers = Handlers {
            reporter: reporter.clone(),
        };
        HealthServer {
            inner: health_server::HealthServer::new(handlers),
            reporter,
        }
    }
}

impl NamedService for HealthServer {
    const NAME: &'static str = <health_server::HealthServer<Handlers> as NamedService>::NAME;

    fn inherit_config(&mut self, defaults: &ServiceConfig) {
        self.inner.inherit_config(defaults);
    }

    fn on_shutdown(&self) {
        self.reporter.shut_down();
    }
}

impl<B> tower_service::Service<http::Request<B>> for HealthServer
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower_service::Service::<http::Request<B>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.inner.call(request)
    }
}
