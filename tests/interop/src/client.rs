//! The interop client test cases, as grpc/grpc's `doc/interop-test-descriptions.md`
//! describes them.

use std::future::Future;
use std::time::Duration;

use rsrpc::codec::{Compressed, Encoding};
use rsrpc::{Channel, Code, Request, Status, Streaming};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::grpc::testing::test_service_client::TestServiceClient;
use crate::grpc::testing::unimplemented_service_client::UnimplementedServiceClient;
use crate::grpc::testing::{
    BoolValue, EchoStatus, Empty, ResponseParameters, SimpleRequest, StreamingInputCallRequest,
    StreamingOutputCallRequest, StreamingOutputCallResponse,
};
use crate::server::{ECHO_INITIAL, ECHO_TRAILING, zeros};

/// Every client test case, in the order `all` runs them.
pub const CASES: &[&str] = &[
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_streaming",
    "client_compressed_streaming",
    "server_streaming",
    "server_compressed_streaming",
    "ping_pong",
    "empty_stream",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
];

/// Why a case failed.
#[derive(Debug)]
pub struct CaseError(String);

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for CaseError {
    fn from(reason: String) -> CaseError {
        CaseError(reason)
    }
}

impl From<&str> for CaseError {
    fn from(reason: &str) -> CaseError {
        CaseError(reason.to_owned())
    }
}

impl CaseError {
    /// This failure, prefixed with which part of the case it happened in.
    fn context(self, part: &str) -> CaseError {
        CaseError(format!("{part}: {}", self.0))
    }
}

/// A call that failed unexpectedly fails the case with its status.
impl From<Status> for CaseError {
    fn from(status: Status) -> CaseError {
        CaseError(describe(&status))
    }
}

/// The outcome of a case: `Err` explains the failure.
pub type CaseResult<T = ()> = Result<T, CaseError>;

const REQUEST_SIZES: [i32; 4] = [27182, 8, 1828, 45904];
const RESPONSE_SIZES: [i32; 4] = [31415, 9, 2653, 58979];
const INITIAL_VALUE: &str = "test_initial_metadata_value";
const TRAILING_VALUE: &[u8] = b"\xab\xab\xab";
const SPECIAL_MESSAGE: &str =
    "\t\ntest with whitespace\r\nand Unicode BMP \u{263a} and non-BMP \u{1f608}\t\n";

/// Fails with `message` unless `condition` holds.
fn ensure(condition: bool, message: impl FnOnce() -> String) -> CaseResult {
    if condition {
        Ok(())
    } else {
        Err(CaseError(message()))
    }
}

fn describe(status: &Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

/// Checks that a call failed with `code` (and `message`, when given).
fn expect_status<T>(result: Result<T, Status>, code: Code, message: Option<&str>) -> CaseResult {
    match result {
        Ok(_) => Err(format!("expected {code:?}, the call succeeded").into()),
        Err(status) if status.code() != code => {
            Err(format!("expected {code:?}, got {}", describe(&status)).into())
        }
        Err(status) => match message {
            Some(message) if status.message() != message => {
                Err(format!("expected message {message:?}, got {:?}", status.message()).into())
            }
            _ => Ok(()),
        },
    }
}

fn payload_len(payload: Option<&crate::grpc::testing::Payload>) -> usize {
    payload.map_or(0, |payload| payload.body.len())
}

fn enabled(value: bool) -> Option<BoolValue> {
    Some(BoolValue { value })
}

fn large_request() -> SimpleRequest {
    SimpleRequest {
        response_size: 314159,
        payload: zeros(271828),
        ..SimpleRequest::default()
    }
}

fn output_request(sizes: &[i32], payload: i32) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: sizes
            .iter()
            .map(|&size| ResponseParameters {
                size,
                ..ResponseParameters::default()
            })
            .collect(),
        payload: zeros(payload),
        ..StreamingOutputCallRequest::default()
    }
}

/// Reads every message of a response stream.
async fn collect<T: prost::Message + Default>(stream: &mut Streaming<T>) -> Result<Vec<T>, Status> {
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

fn check_sizes(responses: &[StreamingOutputCallResponse], expected: &[i32]) -> CaseResult {
    let sizes: Vec<usize> = responses
        .iter()
        .map(|response| payload_len(response.payload.as_ref()))
        .collect();
    let expected: Vec<usize> = expected.iter().map(|&size| size as usize).collect();
    ensure(sizes == expected, || {
        format!("response sizes {sizes:?}, expected {expected:?}")
    })
}

/// A request carrying the metadata `custom_metadata` asks the server to echo.
fn with_echo_metadata<T>(message: T) -> Result<Request<T>, String> {
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    metadata
        .insert(ECHO_INITIAL, INITIAL_VALUE)
        .and_then(|()| metadata.insert_bin(ECHO_TRAILING, TRAILING_VALUE))
        .map_err(|error| error.to_string())?;
    Ok(request)
}

/// A client for the interop services on one channel.
#[derive(Debug, Clone)]
pub struct InteropClient {
    channel: Channel,
    test: TestServiceClient,
}

impl InteropClient {
    /// A client calling over `channel`.
    pub fn new(channel: Channel) -> InteropClient {
        InteropClient {
            test: TestServiceClient::new(channel.clone()),
            channel,
        }
    }

    /// Runs the case called `name`.
    pub async fn run(&self, name: &str) -> CaseResult {
        match name {
            "empty_unary" => self.empty_unary().await,
            "large_unary" => self.large_unary().await,
            "client_compressed_unary" => self.client_compressed_unary().await,
            "server_compressed_unary" => self.server_compressed_unary().await,
            "client_streaming" => self.client_streaming().await,
            "client_compressed_streaming" => self.client_compressed_streaming().await,
            "server_streaming" => self.server_streaming().await,
            "server_compressed_streaming" => self.server_compressed_streaming().await,
            "ping_pong" => self.ping_pong().await,
            "empty_stream" => self.empty_stream().await,
            "custom_metadata" => self.custom_metadata().await,
            "status_code_and_message" => self.status_code_and_message().await,
            "special_status_message" => self.special_status_message().await,
            "unimplemented_method" => self.unimplemented_method().await,
            "unimplemented_service" => self.unimplemented_service().await,
            "cancel_after_begin" => self.cancel_after_begin().await,
            "cancel_after_first_response" => self.cancel_after_first_response().await,
            "timeout_on_sleeping_server" => self.timeout_on_sleeping_server().await,
            other => Err(format!("unknown test case {other:?}").into()),
        }
    }

    async fn empty_unary(&self) -> CaseResult {
        self.test.empty_call(Empty {}).await?;
        Ok(())
    }

    async fn large_unary(&self) -> CaseResult {
        self.unary_sized(Request::new(large_request())).await
    }

    /// Makes a unary call that must return a 314159-byte payload.
    async fn unary_sized(&self, request: Request<SimpleRequest>) -> CaseResult {
        let response = self.test.unary_call(request).await?;
        let len = payload_len(response.get_ref().payload.as_ref());
        ensure(len == 314159, || {
            format!("payload of {len} bytes, expected 314159")
        })
    }

    async fn client_compressed_unary(&self) -> CaseResult {
        let expecting = |compressed: Option<Encoding>| {
            let mut request = Request::new(SimpleRequest {
                expect_compressed: enabled(true),
                ..large_request()
            });
            request.set_compression(compressed);
            request
        };
        // The probe: an uncompressed message the server expects compressed.
        let probe = self.test.unary_call(expecting(None)).await;
        expect_status(probe, Code::InvalidArgument, None)
            .map_err(|error| error.context("probe"))?;
        self.unary_sized(expecting(Some(Encoding::Gzip))).await?;
        let mut plain = Request::new(SimpleRequest {
            expect_compressed: enabled(false),
            ..large_request()
        });
        plain.set_compression(None);
        self.unary_sized(plain).await
    }

    async fn server_compressed_unary(&self) -> CaseResult {
        for compressed in [true, false] {
            let request = SimpleRequest {
                response_compressed: enabled(compressed),
                ..large_request()
            };
            let response = self.test.unary_call(request).await?;
            let len = payload_len(response.get_ref().payload.as_ref());
            ensure(len == 314159, || {
                format!("payload of {len} bytes, expected 314159")
            })?;
            let arrived_compressed = response.extensions().get::<Compressed>().is_some();
            ensure(arrived_compressed == compressed, || {
                format!(
                    "response_compressed={compressed}, but the response arrived compressed={arrived_compressed}"
                )
            })?;
        }
        Ok(())
    }

    async fn client_streaming(&self) -> CaseResult {
        let requests = REQUEST_SIZES.map(|size| StreamingInputCallRequest {
            payload: zeros(size),
            ..StreamingInputCallRequest::default()
        });
        self.streaming_input(Request::new(tokio_stream::iter(requests)), 74922)
            .await
    }

    async fn streaming_input<S>(&self, request: Request<S>, expected: i32) -> CaseResult
    where
        S: tokio_stream::Stream<Item = StreamingInputCallRequest> + Send + 'static,
    {
        let response = self.test.streaming_input_call(request).await?;
        let size = response.get_ref().aggregated_payload_size;
        ensure(size == expected, || {
            format!("aggregated size {size}, expected {expected}")
        })
    }

    async fn client_compressed_streaming(&self) -> CaseResult {
        let message = |size, expect| StreamingInputCallRequest {
            payload: zeros(size),
            expect_compressed: enabled(expect),
        };
        // The probe: an uncompressed message the server expects compressed.
        let mut probe = Request::new(tokio_stream::iter([message(27182, true)]));
        probe.set_compression(None);
        let result = self.test.streaming_input_call(probe).await;
        expect_status(result, Code::InvalidArgument, None)
            .map_err(|error| error.context("probe"))?;
        // The first message goes compressed, the second not: the switch is set as the
        // stream yields each one.
        let mut request = Request::new(());
        request.set_compression(Some(Encoding::Gzip));
        let switch = request.compression_switch();
        let messages = [(message(27182, true), true), (message(45904, false), false)];
        let stream = tokio_stream::iter(messages).map(move |(message, compressed)| {
            switch.set(compressed);
            message
        });
        let request = request.map(|()| stream);
        self.streaming_input(request, 73086).await
    }

    async fn server_streaming(&self) -> CaseResult {
        self.streaming_output(output_request(&RESPONSE_SIZES, 0), &RESPONSE_SIZES)
            .await
    }

    async fn streaming_output(
        &self,
        request: StreamingOutputCallRequest,
        expected: &[i32],
    ) -> CaseResult {
        let mut stream = self.test.streaming_output_call(request).await?.into_inner();
        let responses = collect(&mut stream).await?;
        check_sizes(&responses, expected)
    }

    async fn server_compressed_streaming(&self) -> CaseResult {
        let mut request = output_request(&[31415, 92653], 0);
        request.response_parameters[0].compressed = enabled(true);
        request.response_parameters[1].compressed = enabled(false);
        let mut stream = self.test.streaming_output_call(request).await?.into_inner();
        let mut responses = Vec::new();
        for expected in [true, false] {
            let response = stream.message().await?.ok_or("the stream ended early")?;
            let compressed = stream.last_message_compressed();
            ensure(compressed == expected, || {
                format!(
                    "response {} arrived compressed={compressed}",
                    responses.len()
                )
            })?;
            responses.push(response);
        }
        let rest = collect(&mut stream).await?;
        ensure(rest.is_empty(), || {
            format!("{} extra responses", rest.len())
        })?;
        check_sizes(&responses, &[31415, 92653])
    }

    async fn ping_pong(&self) -> CaseResult {
        let (sender, receiver) = mpsc::channel(1);
        let send = |size: i32, payload: i32| {
            let sender = sender.clone();
            async move {
                sender
                    .send(output_request(&[size], payload))
                    .await
                    .map_err(|_| "the request stream closed early".to_owned())
            }
        };
        send(RESPONSE_SIZES[0], REQUEST_SIZES[0]).await?;
        let mut responses = self
            .test
            .full_duplex_call(ReceiverStream::new(receiver))
            .await?
            .into_inner();
        for (index, (&size, &payload)) in RESPONSE_SIZES.iter().zip(&REQUEST_SIZES).enumerate() {
            if index > 0 {
                send(size, payload).await?;
            }
            let response = responses
                .message()
                .await?
                .ok_or_else(|| format!("no response to ping {index}"))?;
            check_sizes(&[response], &[size])?;
        }
        drop(sender);
        let rest = collect(&mut responses).await?;
        ensure(rest.is_empty(), || {
            format!("{} responses after the last ping", rest.len())
        })
    }

    async fn empty_stream(&self) -> CaseResult {
        let requests = tokio_stream::empty::<StreamingOutputCallRequest>();
        let mut responses = self.test.full_duplex_call(requests).await?.into_inner();
        let received = collect(&mut responses).await?;
        ensure(received.is_empty(), || {
            format!("{} responses to an empty stream", received.len())
        })
    }

    async fn custom_metadata(&self) -> CaseResult {
        let check = |what: &str, initial: Option<&str>, trailing: Option<Vec<u8>>| {
            ensure(initial == Some(INITIAL_VALUE), || {
                format!("{what}: initial metadata {initial:?}")
            })?;
            ensure(trailing.as_deref() == Some(TRAILING_VALUE), || {
                format!("{what}: trailing metadata {trailing:?}")
            })
        };

        let response = self
            .test
            .unary_call(with_echo_metadata(large_request())?)
            .await?;
        let trailing = response
            .trailers()
            .get_bin(ECHO_TRAILING)
            .and_then(Result::ok);
        check(
            "unary",
            response.metadata().get(ECHO_INITIAL),
            trailing.map(|bytes| bytes.to_vec()),
        )?;

        let request = with_echo_metadata(output_request(&[314159], 271828))?;
        let request = request.map(|message| tokio_stream::iter([message]));
        let response = self.test.full_duplex_call(request).await?;
        let initial = response.metadata().get(ECHO_INITIAL).map(str::to_owned);
        let mut stream = response.into_inner();
        let responses = collect(&mut stream).await?;
        check_sizes(&responses, &[314159])?;
        let trailing = stream
            .trailers()
            .and_then(|trailers| trailers.get_bin(ECHO_TRAILING))
            .and_then(Result::ok);
        check(
            "full duplex",
            initial.as_deref(),
            trailing.map(|bytes| bytes.to_vec()),
        )
    }

    /// A unary and a full-duplex call that ask the server for status `code` with
    /// `message`.
    async fn echo_status(&self, code: Code, message: &str, full_duplex: bool) -> CaseResult {
        let response_status = Some(EchoStatus {
            code: code as i32,
            message: message.to_owned(),
        });
        let unary = self
            .test
            .unary_call(SimpleRequest {
                response_status: response_status.clone(),
                ..SimpleRequest::default()
            })
            .await;
        expect_status(unary, code, Some(message)).map_err(|error| error.context("unary"))?;
        if !full_duplex {
            return Ok(());
        }
        let request = StreamingOutputCallRequest {
            response_status,
            ..StreamingOutputCallRequest::default()
        };
        let result = match self
            .test
            .full_duplex_call(tokio_stream::iter([request]))
            .await
        {
            Ok(response) => collect(&mut response.into_inner()).await,
            Err(status) => Err(status),
        };
        expect_status(result, code, Some(message)).map_err(|error| error.context("full duplex"))
    }

    async fn status_code_and_message(&self) -> CaseResult {
        self.echo_status(Code::Unknown, "test status message", true)
            .await
    }

    async fn special_status_message(&self) -> CaseResult {
        self.echo_status(Code::Unknown, SPECIAL_MESSAGE, false)
            .await
    }

    async fn unimplemented_method(&self) -> CaseResult {
        let result = self.test.unimplemented_call(Empty {}).await;
        expect_status(result, Code::Unimplemented, None)
    }

    async fn unimplemented_service(&self) -> CaseResult {
        let client = UnimplementedServiceClient::new(self.channel.clone());
        let result = client.unimplemented_call(Empty {}).await;
        expect_status(result, Code::Unimplemented, None)
    }

    /// Cancelling a call means dropping it: the stream is reset with `CANCEL`. The case
    /// checks that the call was still running when dropped, and that the connection
    /// stays usable afterwards.
    async fn cancelled(&self, call: impl Future<Output = CaseResult>) -> CaseResult {
        match tokio::time::timeout(Duration::from_millis(200), call).await {
            Ok(result) => Err(format!("the call ended before it was cancelled: {result:?}").into()),
            Err(_) => self
                .empty_unary()
                .await
                .map_err(|error| error.context("the channel broke after cancelling")),
        }
    }

    async fn cancel_after_begin(&self) -> CaseResult {
        let requests = tokio_stream::pending::<StreamingInputCallRequest>();
        let call = self.test.streaming_input_call(requests);
        self.cancelled(async move { call.await.map(drop).map_err(CaseError::from) })
            .await
    }

    async fn cancel_after_first_response(&self) -> CaseResult {
        let (sender, receiver) = mpsc::channel(1);
        sender
            .send(output_request(&[31415], 27182))
            .await
            .map_err(|_| "the request stream closed early".to_owned())?;
        let mut responses = self
            .test
            .full_duplex_call(ReceiverStream::new(receiver))
            .await?
            .into_inner();
        let first = responses.message().await?.ok_or("no first response")?;
        check_sizes(&[first], &[31415])?;
        self.cancelled(async move {
            let next = responses.message().await;
            drop(sender);
            Err(format!("{next:?}").into())
        })
        .await
    }

    async fn timeout_on_sleeping_server(&self) -> CaseResult {
        // The request asks for no response and the stream stays open: the server sleeps.
        let (sender, receiver) = mpsc::channel(1);
        sender
            .send(output_request(&[], 27182))
            .await
            .map_err(|_| "the request stream closed early".to_owned())?;
        let mut request = Request::new(ReceiverStream::new(receiver));
        request.set_timeout(Duration::from_millis(1));
        let result = match self.test.full_duplex_call(request).await {
            Ok(response) => collect(&mut response.into_inner()).await.map(drop),
            Err(status) => Err(status),
        };
        drop(sender);
        expect_status(result, Code::DeadlineExceeded, None)
    }
}
