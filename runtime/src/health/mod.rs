//! `grpc.health.v1.Health`, the standard gRPC health checking service
//! ([protocol](https://github.com/grpc/grpc/blob/master/doc/health-checking.md)), as load
//! balancers, `grpc_health_probe` and Kubernetes' gRPC probes call it.
//!
//! Behind the cargo feature `health`, which no default enables. It is part of the runtime,
//! not a crate of its own, so that there is one crate to version, and because it needs the
//! server's shutdown hook ([`NamedService::on_shutdown`](crate::server::NamedService)).
//!
//! [`health_reporter`] makes a [`HealthReporter`], which sets the statuses, and the
//! [`HealthServer`] to add to a [`Server`](crate::Server). As in grpc-go:
//!
//! - the whole server is the service `""`, `SERVING` from the start;
//! - `Check` answers a service's status, or `NOT_FOUND` for a service never set;
//! - `Watch` sends the status at once (`SERVICE_UNKNOWN` for a service never set), then
//!   each change, skipping repeats.
//!
//! When the server's shutdown signal fires, before the connections drain, every status
//! becomes `NOT_SERVING`, and the reporter takes no more changes. Then each `Watch` call
//! ends with `UNAVAILABLE`, once its `NOT_SERVING` is sent: grpc-go keeps them open, but
//! here they would hold the drain for the whole
//! [`graceful_shutdown_timeout`](crate::Server::graceful_shutdown_timeout), and clients
//! retry a `Watch` that ends anyway.
//!
//! The code generated for `grpc/health/v1/health.proto` (vendored under `proto/`) is
//! checked in, so building the runtime needs no protoc.
//!
//! ```
//! use rsrpc::health::{HealthCheckRequest, HealthCheckResponse, ServingStatus};
//! use rsrpc::{Channel, Request, Server};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (reporter, health) = rsrpc::health::health_reporter();
//! reporter.set_service_status("helloworld.Greeter", ServingStatus::Serving);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = Server::builder().add_service(health);
//! let serving = tokio::spawn(server.serve_with_listener(listener, async {
//!     let _ = stopped.await;
//! }));
//!
//! // What a client of grpc.health.v1.Health sees:
//! let client = rsrpc::client::Grpc::new(Channel::connect(format!("http://{addr}")).await?);
//! let check = |service: &str| {
//!     let request = Request::new(HealthCheckRequest { service: service.into() });
//!     client.unary::<_, HealthCheckResponse>(request, "/grpc.health.v1.Health/Check")
//! };
//! assert_eq!(check("").await?.get_ref().status(), ServingStatus::Serving);
//! reporter.set_service_status("helloworld.Greeter", ServingStatus::NotServing);
//! let greeter = check("helloworld.Greeter").await?;
//! assert_eq!(greeter.get_ref().status(), ServingStatus::NotServing);
//! let unknown = check("nope").await.unwrap_err();
//! assert_eq!(unknown.code(), rsrpc::Code::NotFound);
//!
//! let _ = stop.send(());
//! serving.await??;
//! # Ok(())
//! # }
//! ```

// Generated (by protoc-gen-rsrpc's bundled_services test, which checks it is current):
// not every constructor is used, proto fields have no docs to give, and rustfmt would
// make it differ from the generator's output.
#[allow(dead_code, missing_docs)]
#[rustfmt::skip]
mod generated;
mod reporter;
mod service;
mod watch;

pub use generated::health_check_response::ServingStatus;
pub use generated::{FILE_DESCRIPTOR_SET, HealthCheckRequest, HealthCheckResponse};
pub use reporter::HealthReporter;
pub use service::HealthServer;

/// A [`HealthReporter`] and the [`HealthServer`] reporting what it sets; the whole server,
/// `""`, is `SERVING`.
pub fn health_reporter() -> (HealthReporter, HealthServer) {
    let reporter = HealthReporter::new();
    let server = HealthServer::new(reporter.clone());
    (reporter, server)
}
