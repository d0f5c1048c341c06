//! The services on connect-rust (connectrpc), with its built-in server as its users get
//! it: default HTTP/2 settings (adaptive flow-control windows), TCP_NODELAY.

use std::sync::Arc;

use connectrpc::{
    ConnectError, Encodable, InboundStream, RequestContext, Response, Router, Server,
    ServiceRequest, ServiceResult, ServiceStream,
};
use tokio::net::TcpListener;

use super::{BoxError, behavior};
use crate::proto::connect::bench::{Bench, BenchRegisterMarker, Payload, StreamRequest};
use crate::proto::connect::helloworld::{Greeter, GreeterRegisterMarker, HelloReply, HelloRequest};

/// Both services, stateless.
struct Services;

impl Greeter for Services {
    async fn say_hello<'a>(
        &'a self,
        _: RequestContext,
        request: ServiceRequest<'_, HelloRequest>,
    ) -> ServiceResult<impl Encodable<HelloReply> + use<'a>> {
        // The request is a view borrowing the body: its name is copied, not moved as
        // `behavior::greet` does with an owned request.
        Response::ok(HelloReply {
            message: request.name.to_owned(),
            ..HelloReply::default()
        })
    }
}

impl Bench for Services {
    async fn echo<'a>(
        &'a self,
        _: RequestContext,
        request: ServiceRequest<'_, Payload>,
    ) -> ServiceResult<impl Encodable<Payload> + use<'a>> {
        // The request's own buffer goes back, without a copy.
        Response::ok(request.to_owned_view())
    }

    async fn server_stream(
        &self,
        _: RequestContext,
        request: ServiceRequest<'_, StreamRequest>,
    ) -> ServiceResult<ServiceStream<impl Encodable<Payload> + use<>>> {
        let replies = behavior::repeated_payload(request.count, request.payload_size).map(
            |data| -> Result<_, ConnectError> {
                Ok(Payload {
                    data,
                    ..Payload::default()
                })
            },
        );
        let stream: ServiceStream<Payload> = Box::pin(tokio_stream::iter(replies));
        Response::ok(stream)
    }

    // Each message goes back as it arrives.
    async fn ping_pong(
        &self,
        _: RequestContext,
        requests: InboundStream<Payload>,
    ) -> ServiceResult<ServiceStream<impl Encodable<Payload> + use<>>> {
        Response::ok(requests)
    }
}

/// Serves both services on `listener`.
pub async fn serve(listener: TcpListener) -> Result<(), BoxError> {
    // One type serves both, so each registration names its service.
    let services = Arc::new(Services);
    let router = Router::new()
        .add_service::<_, GreeterRegisterMarker>(Arc::clone(&services))
        .add_service::<_, BenchRegisterMarker>(services);
    Server::from_listener(listener).serve(router).await
}
