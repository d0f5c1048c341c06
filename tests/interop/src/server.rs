//! The interop server: `grpc.testing.TestService` as the interop test descriptions specify.

use std::time::Duration;

use rsrpc::codec::{Compressed, Encoding};
use rsrpc::{BoxStream, Code, MetadataMap, Request, Response, Status, Streaming};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::grpc::testing::test_service_server::TestService;
use crate::grpc::testing::{
    BoolValue, EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, SimpleResponse,
    StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest,
    StreamingOutputCallResponse,
};

/// Initial metadata the server echoes back as initial metadata.
pub const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
/// Initial metadata the server echoes back as trailing metadata.
pub const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";

/// The interop test service.
#[derive(Debug, Default)]
pub struct InteropService;

/// A stream of responses, produced by a spawned task.
type ResponseStream = ReceiverStream<Result<StreamingOutputCallResponse, Status>>;

/// A payload of `size` zero bytes.
pub fn zeros(size: i32) -> Option<Payload> {
    Some(Payload {
        r#type: 0,
        body: vec![0; usize::try_from(size).unwrap_or(0)],
    })
}

fn is_set(value: Option<&BoolValue>) -> bool {
    value.is_some_and(|value| value.value)
}

/// The echoed initial and trailing metadata of a call.
struct Echoed {
    initial: MetadataMap,
    trailing: MetadataMap,
}

impl Echoed {
    fn from_request(metadata: &MetadataMap) -> Echoed {
        let mut initial = MetadataMap::new();
        if let Some(value) = metadata.get(ECHO_INITIAL) {
            let _ = initial.insert(ECHO_INITIAL, value);
        }
        let mut trailing = MetadataMap::new();
        if let Some(Ok(value)) = metadata.get_bin(ECHO_TRAILING) {
            let _ = trailing.insert_bin(ECHO_TRAILING, value);
        }
        Echoed { initial, trailing }
    }

    fn response<T>(self, message: T) -> Response<T> {
        let mut response = Response::new(message);
        *response.metadata_mut() = self.initial;
        *response.trailers_mut() = self.trailing;
        response
    }

    /// The status a request asked for, carrying the trailing metadata.
    fn status(&self, requested: &EchoStatus) -> Status {
        Status::new(Code::from_i32(requested.code), requested.message.clone())
            .with_metadata(self.trailing.clone())
    }
}

/// `INVALID_ARGUMENT` when a message that had to arrive compressed did not.
fn check_compressed(expected: Option<&BoolValue>, compressed: bool) -> Result<(), Status> {
    if is_set(expected) && !compressed {
        return Err(Status::invalid_argument("expected a compressed message"));
    }
    Ok(())
}

/// Waits the `interval_us` a response asks for.
async fn pace(parameter: &ResponseParameters) {
    if parameter.interval_us > 0 {
        tokio::time::sleep(Duration::from_micros(parameter.interval_us as u64)).await;
    }
}

/// Sends the responses `parameters` ask for, pacing them by `interval_us`.
async fn send_responses(
    parameters: &[ResponseParameters],
    sender: &mpsc::Sender<Result<StreamingOutputCallResponse, Status>>,
) -> bool {
    for parameter in parameters {
        pace(parameter).await;
        let response = StreamingOutputCallResponse {
            payload: zeros(parameter.size),
        };
        if sender.send(Ok(response)).await.is_err() {
            return false;
        }
    }
    true
}

impl TestService for InteropService {
    async fn empty_call(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        Ok(Response::new(Empty {}))
    }

    async fn unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        let echoed = Echoed::from_request(request.metadata());
        let compressed = request.extensions().get::<Compressed>().is_some();
        let request = request.into_inner();
        check_compressed(request.expect_compressed.as_ref(), compressed)?;
        if let Some(status) = request.response_status.as_ref().filter(|s| s.code != 0) {
            return Err(echoed.status(status));
        }
        let compression = request
            .response_compressed
            .as_ref()
            .map(|value| value.value.then_some(Encoding::Gzip));
        let mut response = echoed.response(SimpleResponse {
            payload: zeros(request.response_size),
            ..SimpleResponse::default()
        });
        if let Some(compression) = compression {
            response.set_compression(compression);
        }
        Ok(response)
    }

    async fn cacheable_unary_call(
        &self,
        request: Request<SimpleRequest>,
    ) -> Result<Response<SimpleResponse>, Status> {
        self.unary_call(request).await
    }

    type StreamingOutputCallStream = BoxStream<StreamingOutputCallResponse>;

    async fn streaming_output_call(
        &self,
        request: Request<StreamingOutputCallRequest>,
    ) -> Result<Response<Self::StreamingOutputCallStream>, Status> {
        let echoed = Echoed::from_request(request.metadata());
        let request = request.into_inner();
        let status = request
            .response_status
            .as_ref()
            .filter(|status| status.code != 0)
            .map(|status| Err(echoed.status(status)));
        let compresses = request
            .response_parameters
            .iter()
            .any(|parameter| is_set(parameter.compressed.as_ref()));
        let mut response = echoed.response(());
        if compresses {
            response.set_compression(Some(Encoding::Gzip));
        }
        // Each message is compressed or not as its parameters say: the switch is set
        // inside the stream, just before the message it applies to.
        let switch = response.compression_switch();
        let responses = tokio_stream::iter(request.response_parameters).then(move |parameter| {
            let switch = switch.clone();
            async move {
                pace(&parameter).await;
                switch.set(is_set(parameter.compressed.as_ref()));
                Ok(StreamingOutputCallResponse {
                    payload: zeros(parameter.size),
                })
            }
        });
        let stream = responses.chain(tokio_stream::iter(status));
        Ok(response.map(|()| Box::pin(stream) as Self::StreamingOutputCallStream))
    }

    async fn streaming_input_call(
        &self,
        request: Request<Streaming<StreamingInputCallRequest>>,
    ) -> Result<Response<StreamingInputCallResponse>, Status> {
        let echoed = Echoed::from_request(request.metadata());
        let mut stream = request.into_inner();
        let mut aggregated_payload_size = 0;
        while let Some(message) = stream.message().await? {
            check_compressed(
                message.expect_compressed.as_ref(),
                stream.last_message_compressed(),
            )?;
            let size = message.payload.map_or(0, |payload| payload.body.len());
            aggregated_payload_size += i32::try_from(size).unwrap_or(i32::MAX);
        }
        Ok(echoed.response(StreamingInputCallResponse {
            aggregated_payload_size,
        }))
    }

    type FullDuplexCallStream = ResponseStream;

    async fn full_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<Response<Self::FullDuplexCallStream>, Status> {
        let echoed = Echoed::from_request(request.metadata());
        let trailing = echoed.trailing.clone();
        let mut stream = request.into_inner();
        let (sender, receiver) = mpsc::channel(4);
        tokio::spawn(async move {
            loop {
                let message = match stream.message().await {
                    Ok(Some(message)) => message,
                    Ok(None) => return,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                if let Some(status) = message.response_status.filter(|s| s.code != 0) {
                    let status = Status::new(Code::from_i32(status.code), status.message)
                        .with_metadata(trailing.clone());
                    let _ = sender.send(Err(status)).await;
                    return;
                }
                if !send_responses(&message.response_parameters, &sender).await {
                    return;
                }
            }
        });
        Ok(echoed.response(ReceiverStream::new(receiver)))
    }

    type HalfDuplexCallStream = ResponseStream;

    async fn half_duplex_call(
        &self,
        request: Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<Response<Self::HalfDuplexCallStream>, Status> {
        let echoed = Echoed::from_request(request.metadata());
        let mut stream = request.into_inner();
        let mut parameters = Vec::new();
        while let Some(message) = stream.message().await? {
            parameters.extend(message.response_parameters);
        }
        let (sender, receiver) = mpsc::channel(4);
        tokio::spawn(async move {
            send_responses(&parameters, &sender).await;
        });
        Ok(echoed.response(ReceiverStream::new(receiver)))
    }

    async fn unimplemented_call(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Empty>, Status> {
        Err(Status::unimplemented(
            "UnimplementedCall is not implemented",
        ))
    }
}
