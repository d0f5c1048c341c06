//! The services on rsrpc.

use rsrpc::{BoxStream, Request, Response, Server, Status, Streaming};
use tokio::net::TcpListener;

use super::{BoxError, behavior};
use crate::proto::bench::bench_server::{Bench, BenchServer};
use crate::proto::bench::{Payload, StreamRequest};
use crate::proto::helloworld::greeter_server::{Greeter, GreeterServer};
use crate::proto::helloworld::{HelloReply, HelloRequest};

/// Both services, stateless.
struct Services;

impl Greeter for Services {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(behavior::greet(request.into_inner())))
    }
}

impl Bench for Services {
    async fn echo(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type ServerStreamStream = BoxStream<Payload>;

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

/// Serves both services on `listener`.
pub async fn serve(listener: TcpListener) -> Result<(), BoxError> {
    Server::builder()
        .add_service(GreeterServer::new(Services))
        .add_service(BenchServer::new(Services))
        .serve_with_listener(listener, std::future::pending())
        .await?;
    Ok(())
}
