//! `ConformanceService` as `service.proto` specifies it: each method echoes what it
//! received and answers as the request's response definition says.

use rsrpc::codec::{Compressed, Encoding};
use rsrpc::{BoxStream, Request, Response, Status, Streaming};

use super::info::Observed;
use super::{single, streams};
use crate::any::pack;
use crate::proto::conformance_service_server::ConformanceService;
use crate::proto::{
    BidiStreamRequest, BidiStreamResponse, ClientStreamRequest, ClientStreamResponse,
    IdempotentUnaryRequest, IdempotentUnaryResponse, ServerStreamRequest, ServerStreamResponse,
    UnaryRequest, UnaryResponse, UnimplementedRequest, UnimplementedResponse,
};

/// The service under test.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConformanceServer;

/// The compression of a response: the request's. rsrpc marks a compressed request
/// without naming its encoding, and gzip is the only one it implements.
fn mirrored(request_compressed: bool) -> Option<Encoding> {
    request_compressed.then_some(Encoding::Gzip)
}

fn is_compressed<T>(request: &Request<T>) -> bool {
    request.extensions().get::<Compressed>().is_some()
}

impl ConformanceService for ConformanceServer {
    async fn unary(
        &self,
        request: Request<UnaryRequest>,
    ) -> Result<Response<UnaryResponse>, Status> {
        let observed = Observed::of(&request);
        let compression = mirrored(is_compressed(&request));
        let message = request.into_inner();
        let requests = vec![pack(&message)];
        let definition = message.response_definition;
        let response = single::answer(&observed, definition, requests, compression).await?;
        Ok(response.map(|payload| UnaryResponse {
            payload: Some(payload),
        }))
    }

    type ServerStreamStream = BoxStream<ServerStreamResponse>;

    async fn server_stream(
        &self,
        request: Request<ServerStreamRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        let observed = Observed::of(&request);
        let compression = mirrored(is_compressed(&request));
        streams::server_stream(observed, request.into_inner(), compression)
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<ClientStreamRequest>>,
    ) -> Result<Response<ClientStreamResponse>, Status> {
        let observed = Observed::of(&request);
        let mut stream = request.into_inner();
        let mut definition = None;
        let mut requests = Vec::new();
        let mut compressed = false;
        while let Some(message) = stream.message().await? {
            compressed |= stream.last_message_compressed();
            // Only the first message's definition counts.
            if requests.is_empty() {
                definition = message.response_definition.clone();
            }
            requests.push(pack(&message));
        }
        let response =
            single::answer(&observed, definition, requests, mirrored(compressed)).await?;
        Ok(response.map(|payload| ClientStreamResponse {
            payload: Some(payload),
        }))
    }

    type BidiStreamStream = BoxStream<BidiStreamResponse>;

    async fn bidi_stream(
        &self,
        request: Request<Streaming<BidiStreamRequest>>,
    ) -> Result<Response<Self::BidiStreamStream>, Status> {
        let observed = Observed::of(&request);
        let requests = request.into_inner();
        streams::bidi_stream(observed, requests, |requests| {
            mirrored(requests.last_message_compressed())
        })
        .await
    }

    async fn unimplemented(
        &self,
        _request: Request<UnimplementedRequest>,
    ) -> Result<Response<UnimplementedResponse>, Status> {
        Err(Status::unimplemented(
            "connectrpc.conformance.v1.ConformanceService/Unimplemented is not implemented",
        ))
    }

    /// Meant for Connect's GET requests, which rsrpc does not serve yet; over gRPC it is
    /// a unary call like any other.
    async fn idempotent_unary(
        &self,
        request: Request<IdempotentUnaryRequest>,
    ) -> Result<Response<IdempotentUnaryResponse>, Status> {
        let observed = Observed::of(&request);
        let compression = mirrored(is_compressed(&request));
        let message = request.into_inner();
        let requests = vec![pack(&message)];
        let definition = message.response_definition;
        let response = single::answer(&observed, definition, requests, compression).await?;
        Ok(response.map(|payload| IdempotentUnaryResponse {
            payload: Some(payload),
        }))
    }
}
