//! [`Interceptor`]s: async code that runs before every call of a server, a service or a
//! channel, and is told how each call ended.
//!
//! An interceptor sees the call's head as a [`Request<()>`]: it can read and change its
//! metadata, put typed values into its extensions (on the server, the handler reads them
//! from its request), or refuse the call with a [`Status`]. [`GrpcMethod`] in the
//! extensions names the method called. Once the call has ended,
//! [`Interceptor::finished`] gets its final status and how long it took.
//!
//! ```
//! use rsrpc::interceptor::{FinishedCall, Interceptor};
//! use rsrpc::{Channel, Code, Request, Server, Status};
//! # use std::convert::Infallible;
//! # use std::task::{Context, Poll};
//! # use rsrpc::codegen::{BoxFuture, Service, http};
//! # use rsrpc::server::{IncomingBody, NamedService, ServiceConfig};
//! # use rsrpc::{Body, Response};
//! #
//! # /// A message with one string, as prost derives it.
//! # #[derive(Clone, PartialEq, prost::Message)]
//! # struct Hello {
//! #     #[prost(string, tag = "1")]
//! #     text: String,
//! # }
//! #
//! # /// `greet.Greeter/Greet`, as a generated server would route it: it greets the
//! # /// tenant the interceptor found.
//! # #[derive(Clone)]
//! # struct Greeter;
//! #
//! # impl NamedService for Greeter {
//! #     const NAME: &'static str = "greet.Greeter";
//! # }
//! #
//! # impl Service<http::Request<IncomingBody>> for Greeter {
//! #     type Response = http::Response<Body>;
//! #     type Error = Infallible;
//! #     type Future = BoxFuture<Result<Self::Response, Infallible>>;
//! #
//! #     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
//! #         Poll::Ready(Ok(()))
//! #     }
//! #
//! #     fn call(&mut self, request: http::Request<IncomingBody>) -> Self::Future {
//! #         Box::pin(rsrpc::server::unary(request, ServiceConfig::default(), rsrpc::codec::ProstCodec, |request: Request<Hello>| async move {
//! #             let Tenant(tenant) = request.extensions().get::<Tenant>().cloned().unwrap();
//! #             Ok(Response::new(Hello { text: format!("hello, {tenant}") }))
//! #         }))
//! #     }
//! # }
//!
//! /// Handed by the interceptor to handlers, through the request's extensions.
//! #[derive(Clone)]
//! struct Tenant(String);
//!
//! /// Refuses calls without an `x-tenant` header, and logs every call's outcome.
//! struct Tenants;
//!
//! impl Interceptor for Tenants {
//!     async fn intercept(&self, mut request: Request<()>) -> Result<Request<()>, Status> {
//!         let tenant = request.metadata().get("x-tenant")
//!             .ok_or_else(|| Status::unauthenticated("no tenant"))?
//!             .to_owned();
//!         request.extensions_mut().insert(Tenant(tenant));
//!         Ok(request)
//!     }
//!
//!     fn finished(&self, call: &FinishedCall<'_>) {
//!         println!("{} ended {:?} in {:?}", call.method.path(), call.status.code(), call.elapsed);
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}", listener.local_addr()?);
//! let server = Server::builder().interceptor(Tenants).add_service(Greeter);
//! tokio::spawn(server.serve_with_listener(listener, std::future::pending()));
//!
//! // A closure is an interceptor too; on a channel, it runs before each call leaves.
//! let channel = Channel::builder(url.as_str())?
//!     .interceptor(|mut request: Request<()>| async move {
//!         request.metadata_mut().insert("x-tenant", "blue").map_err(|e| Status::internal(e.to_string()))?;
//!         Ok(request)
//!     })
//!     .connect()
//!     .await?;
//! let greet = |channel| async move {
//!     let client = rsrpc::client::Grpc::new(channel);
//!     client.unary::<_, Hello>(Request::new(Hello::default()), "/greet.Greeter/Greet").await
//! };
//! assert_eq!(greet(channel).await?.into_inner().text, "hello, blue");
//!
//! let without_tenant = Channel::connect(url.as_str()).await?;
//! assert_eq!(greet(without_tenant).await.unwrap_err().code(), Code::Unauthenticated);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::uri::PathAndQuery;

use crate::boxed::BoxFuture;
use crate::request::Request;
use crate::status::Status;

/// Code run before each call, with a hook for its end. See the [module docs](self).
///
/// Add one to a server with [`Server::interceptor`](crate::Server::interceptor), to one
/// service with [`InterceptedService`](crate::server::InterceptedService), or to a channel
/// with [`ChannelBuilder::interceptor`](crate::client::ChannelBuilder::interceptor).
pub trait Interceptor: Send + Sync + 'static {
    /// Runs before the call: returns its head, changed or not, or the status to refuse
    /// it with. A refused call never reaches the handler (on the server) or the network
    /// (on the client).
    fn intercept(
        &self,
        request: Request<()>,
    ) -> impl Future<Output = Result<Request<()>, Status>> + Send;

    /// Runs once the call has ended (also when this or a later interceptor refused it),
    /// with its final status. Does nothing unless overridden.
    fn finished(&self, call: &FinishedCall<'_>) {
        let _ = call;
    }
}

/// Any async function from request head to request head is an interceptor.
impl<F, Fut> Interceptor for F
where
    F: Fn(Request<()>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Request<()>, Status>> + Send,
{
    fn intercept(
        &self,
        request: Request<()>,
    ) -> impl Future<Output = Result<Request<()>, Status>> + Send {
        self(request)
    }
}

/// A call that has ended, as [`Interceptor::finished`] sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct FinishedCall<'a> {
    /// The method called.
    pub method: &'a GrpcMethod,
    /// The final status: as sent, on the server; as received (or `CANCELLED` if the
    /// caller gave up on the response), on the client.
    pub status: &'a Status,
    /// From the start of the interceptors to the end of the response.
    pub elapsed: Duration,
}

/// The method a call is for, from its `/{service}/{method}` path. Interceptors find it in
/// the extensions of the request they are given.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GrpcMethod {
    path: PathAndQuery,
}

impl GrpcMethod {
    pub(crate) fn new(path: PathAndQuery) -> GrpcMethod {
        GrpcMethod { path }
    }

    /// The whole path: `/package.Service/Method`.
    pub fn path(&self) -> &str {
        self.path.path()
    }

    /// The fully qualified service name: `package.Service`.
    pub fn service(&self) -> &str {
        split_path(self.path()).0
    }

    /// The method name: `Method`.
    pub fn method(&self) -> &str {
        split_path(self.path()).1
    }
}

/// The service and method names of a `/{service}/{method}` path.
pub(crate) fn split_path(path: &str) -> (&str, &str) {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.rsplit_once('/').unwrap_or((path, ""))
}

impl fmt::Debug for GrpcMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GrpcMethod").field(&self.path()).finish()
    }
}

/// An interceptor behind a pointer, callable without knowing its type.
trait DynInterceptor: Send + Sync {
    fn intercept(self: Arc<Self>, request: Request<()>) -> BoxFuture<Result<Request<()>, Status>>;
    fn finished(&self, call: &FinishedCall<'_>);
}

impl<I: Interceptor> DynInterceptor for I {
    fn intercept(self: Arc<Self>, request: Request<()>) -> BoxFuture<Result<Request<()>, Status>> {
        Box::pin(async move { Interceptor::intercept(&*self, request).await })
    }

    fn finished(&self, call: &FinishedCall<'_>) {
        Interceptor::finished(self, call);
    }
}

/// Interceptors run in the order they were added, each on the head the previous one
/// returned. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Interceptors(Arc<[Arc<dyn DynInterceptor>]>);

/// A call that passed some interceptors: those are told of its end, once. Dropped before
/// that, it tells them the call was cancelled.
pub(crate) struct Intercepted {
    interceptors: Interceptors,
    /// How many interceptors ran (the last of them may have refused the call).
    ran: usize,
    method: GrpcMethod,
    started: tokio::time::Instant,
    reported: bool,
}

impl Interceptors {
    /// These interceptors, then `interceptor`.
    pub(crate) fn with(&self, interceptor: impl Interceptor) -> Interceptors {
        let added: Arc<dyn DynInterceptor> = Arc::new(interceptor);
        Interceptors(self.0.iter().cloned().chain([added]).collect())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Starts a call to `method` through these interceptors.
    pub(crate) fn start(&self, method: GrpcMethod) -> Intercepted {
        Intercepted {
            interceptors: self.clone(),
            ran: 0,
            method,
            started: tokio::time::Instant::now(),
            reported: false,
        }
    }
}

impl Intercepted {
    /// Runs the interceptors on the call's head, which finds the method in its
    /// extensions. Returns the head to send on, or the status that refused it.
    pub(crate) async fn run(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.extensions_mut().insert(self.method.clone());
        let interceptors = self.interceptors.clone();
        for interceptor in interceptors.0.iter() {
            self.ran += 1;
            request = Arc::clone(interceptor).intercept(request).await?;
        }
        Ok(request)
    }

    /// Tells the interceptors that ran, last first, that the call ended with `status`.
    pub(crate) fn finish(mut self, status: &Status) {
        self.report(status);
    }

    fn report(&mut self, status: &Status) {
        if std::mem::replace(&mut self.reported, true) {
            return;
        }
        let call = FinishedCall {
            method: &self.method,
            status,
            elapsed: self.started.elapsed(),
        };
        for interceptor in self.interceptors.0[..self.ran].iter().rev() {
            interceptor.finished(&call);
        }
    }
}

impl Drop for Intercepted {
    fn drop(&mut self) {
        self.report(&Status::cancelled("the call was cancelled before it ended"));
    }
}

impl fmt::Debug for Interceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interceptors({})", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_split_into_service_and_method() {
        let method = GrpcMethod::new(PathAndQuery::from_static("/pkg.Service/Call"));
        assert_eq!(method.service(), "pkg.Service");
        assert_eq!(method.method(), "Call");
        assert_eq!(method.path(), "/pkg.Service/Call");
        let odd = GrpcMethod::new(PathAndQuery::from_static("/no-method"));
        assert_eq!((odd.service(), odd.method()), ("no-method", ""));
    }

    #[tokio::test]
    async fn interceptors_run_in_order_and_a_refusal_stops_the_rest() {
        let tag = |name: &'static str| {
            move |mut request: Request<()>| async move {
                request.metadata_mut().append("order", name).unwrap();
                Ok(request)
            }
        };
        let refuse = |_request: Request<()>| async { Err(Status::unauthenticated("no")) };
        let method = GrpcMethod::new(PathAndQuery::from_static("/s/m"));
        let both = Interceptors::default().with(tag("a")).with(tag("b"));
        let mut intercepted = both.start(method.clone());
        let request = intercepted.run(Request::new(())).await.unwrap();
        let order: Vec<_> = request.metadata().get_all("order").collect();
        assert_eq!(order, ["a", "b"]);
        assert_eq!(request.extensions().get::<GrpcMethod>(), Some(&method));
        assert_eq!(intercepted.ran, 2);

        let refusing = Interceptors::default().with(refuse).with(tag("never"));
        let mut intercepted = refusing.start(method);
        let refused = intercepted.run(Request::new(())).await;
        assert_eq!(refused.unwrap_err().code(), crate::Code::Unauthenticated);
        assert_eq!(intercepted.ran, 1);
    }
}
