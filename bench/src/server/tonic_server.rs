//! The services on tonic.

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};

use super::{BoxError, behavior};
use crate::proto::bench::{Payload, StreamRequest};
use crate::proto::helloworld::{HelloReply, HelloRequest};
use crate::proto::tonic::bench::bench_server::{Bench, BenchServer};
use crate::proto::tonic::helloworld::greeter_server::{Greeter, GreeterServer};

/// Both services, stateless.
struct Services;

#[tonic::async_trait]
impl Greeter for Services {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(behavior::greet(request.into_inner())))
    }
}

#[tonic::async_trait]
impl Bench for Services {
    async fn echo(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type ServerStreamStream = std::pin::Pin<
        Box<dyn tokio_stream::Stream<Item = Result<Payload, Status>> + Send + 'static>,
    >;

    async fn server_stream(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        let replies = behavior::stream_replies(request.get_ref());
        Ok(Response::new(Box::pin(tokio_stream::iter(replies))))
    }

    // The request stream is the response stream: each message goes back as it arrives.
    type PingPongStream = Streaming<Payload>;

    async fn ping_pong(
        &self,
        request: Request<Streaming<Payload>>,
    ) -> Result<Response<Self::PingPongStream>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

/// Serves both services on `listener`, with TCP_NODELAY as rsrpc sets it.
pub async fn serve(listener: TcpListener) -> Result<(), BoxError> {
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(GreeterServer::new(Services))
        .add_service(BenchServer::new(Services))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}
