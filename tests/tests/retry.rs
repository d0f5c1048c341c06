//! Retries under per-method policies (gRFC A6), end to end: against a server that fails
//! the first attempts of each call, the client tries again with
//! `grpc-previous-rpc-attempts`, within the policy's attempts, the throttle, the call's
//! deadline, the retry buffer and the server's pushback, and never once response
//! headers have arrived.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use rsrpc::client::{ChannelBuilder, RetryPolicy};
use rsrpc::codegen::{BoxFuture, Service};
use rsrpc::server::{IncomingBody, NamedService};
use rsrpc::{
    Body, BoxStream, Channel, Code, MetadataMap, Request, Response, Server, Status, Streaming,
};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::echo_server::{Echo, EchoServer};
use rsrpc_tests::e2e::{EchoReply, EchoRequest};
use rsrpc_tests::harness::{Serving, text};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// What the flaky service saw.
#[derive(Debug, Default)]
struct Log {
    /// Each attempt's `grpc-previous-rpc-attempts` ("" when absent), in order.
    attempts: Vec<String>,
    /// Each attempt's deadline.
    deadlines: Vec<Option<Instant>>,
    /// The texts each client-stream attempt read.
    streams: Vec<Vec<String>>,
}

/// An Echo service whose first `failures` attempts fail with `code` (after `delay`).
/// Server streams always fail after their response headers.
#[derive(Debug, Clone)]
struct Flaky {
    failures: usize,
    code: Code,
    delay: Duration,
    /// On a failing client-stream attempt: the messages read before failing.
    read_before_failing: usize,
    /// The `grpc-retry-pushback-ms` of failures.
    pushback: Option<&'static str>,
    log: Arc<Mutex<Log>>,
}

impl Flaky {
    fn new(failures: usize, code: Code) -> Flaky {
        Flaky {
            failures,
            code,
            delay: Duration::ZERO,
            read_before_failing: 0,
            pushback: None,
            log: Arc::default(),
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap()
    }

    fn attempts(&self) -> Vec<String> {
        self.log().attempts.clone()
    }

    /// Logs an attempt; returns whether it fails.
    fn attempt<T>(&self, request: &Request<T>) -> bool {
        let previous = request.metadata().get("x-previous-rpc-attempts");
        let mut log = self.log();
        log.attempts.push(previous.unwrap_or_default().to_owned());
        log.deadlines.push(request.deadline());
        log.attempts.len() <= self.failures
    }

    fn failure(&self) -> Status {
        let mut metadata = MetadataMap::new();
        if let Some(pushback) = self.pushback {
            metadata.insert("x-retry-pushback-ms", pushback).unwrap();
        }
        Status::new(self.code, "flaky").with_metadata(metadata)
    }

    /// Waits until the server has seen `count` attempts.
    async fn wait_for_attempts(&self, count: usize) {
        let started = Instant::now();
        while self.log().attempts.len() < count {
            assert!(started.elapsed() < PATIENCE, "attempt {count} never came");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Echo for Flaky {
    async fn unary(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let failing = self.attempt(&request);
        tokio::time::sleep(self.delay).await;
        if failing {
            return Err(self.failure());
        }
        Ok(Response::new(EchoReply {
            text: request.into_inner().text,
            ..EchoReply::default()
        }))
    }

    type ServerStreamStream = BoxStream<EchoReply>;

    async fn server_stream(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<Response<Self::ServerStreamStream>, Status> {
        self.attempt(&request);
        let failure = tokio_stream::iter([Err(self.failure())]);
        Ok(Response::new(Box::pin(failure) as Self::ServerStreamStream))
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<EchoReply>, Status> {
        let failing = self.attempt(&request);
        let mut stream = request.into_inner();
        let mut texts = Vec::new();
        while !(failing && texts.len() == self.read_before_failing) {
            match stream.message().await? {
                Some(request) => texts.push(request.text),
                None => break,
            }
        }
        self.log().streams.push(texts.clone());
        if failing {
            return Err(self.failure());
        }
        Ok(Response::new(EchoReply {
            text: texts.join(","),
            ..EchoReply::default()
        }))
    }

    type BidiStream = BoxStream<EchoReply>;

    async fn bidi(
        &self,
        _request: Request<Streaming<EchoRequest>>,
    ) -> Result<Response<Self::BidiStream>, Status> {
        Err(Status::unimplemented("not under test"))
    }
}

/// Hands a service each request's `grpc-previous-rpc-attempts` as the metadata
/// `x-previous-rpc-attempts`, and sends its `x-retry-pushback-ms` response metadata as
/// `grpc-retry-pushback-ms`: handlers cannot read or write reserved `grpc-` headers.
#[derive(Clone)]
struct ShowAttempts<S>(S);

impl<S: NamedService> NamedService for ShowAttempts<S> {
    const NAME: &'static str = S::NAME;
}

type RouteFuture = BoxFuture<Result<http::Response<Body>, Infallible>>;

impl<S> Service<http::Request<IncomingBody>> for ShowAttempts<S>
where
    S: Service<
            http::Request<IncomingBody>,
            Response = http::Response<Body>,
            Error = Infallible,
            Future = RouteFuture,
        >,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<IncomingBody>) -> RouteFuture {
        if let Some(previous) = request.headers().get("grpc-previous-rpc-attempts") {
            let previous = previous.clone();
            request
                .headers_mut()
                .insert("x-previous-rpc-attempts", previous);
        }
        let response = self.0.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            let headers = response.headers_mut();
            if let Some(pushback) = headers.remove("x-retry-pushback-ms") {
                headers.insert("grpc-retry-pushback-ms", pushback);
            }
            Ok(response)
        })
    }
}

/// Serves `flaky` on an ephemeral port.
async fn serve(flaky: &Flaky) -> Serving {
    let server = Server::builder().add_service(ShowAttempts(EchoServer::new(flaky.clone())));
    Serving::start(server).await
}

/// A client of `server` over a channel `configure` sets up.
fn client(
    server: &Serving,
    configure: impl FnOnce(ChannelBuilder) -> ChannelBuilder,
) -> EchoClient {
    let builder = Channel::builder(format!("http://{}", server.addr)).unwrap();
    EchoClient::new(configure(builder).connect_lazy().unwrap())
}

/// A policy retrying `UNAVAILABLE` with waits of a few milliseconds.
fn quick_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(max_attempts)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

#[tokio::test]
async fn failed_attempts_are_retried_with_their_count() {
    let flaky = Flaky::new(2, Code::Unavailable);
    let server = serve(&flaky).await;
    let config = r#"{"methodConfig": [{
        "name": [{"service": "e2e.Echo", "method": "Unary"}],
        "retryPolicy": {
            "maxAttempts": 3,
            "initialBackoff": "0.001s",
            "maxBackoff": "0.005s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"]
        }
    }]}"#;
    let client = client(&server, |builder| {
        builder.default_service_config(config).unwrap()
    });
    let reply = client.unary(text("third time")).await.unwrap();
    assert_eq!(reply.into_inner().text, "third time");
    assert_eq!(flaky.attempts(), ["", "1", "2"]);
}

#[tokio::test]
async fn calls_without_a_policy_are_not_retried() {
    let flaky = Flaky::new(1, Code::Unavailable);
    let server = serve(&flaky).await;
    // A policy for another method of the service only.
    let client = client(&server, |builder| {
        builder.retry_policy("e2e.Echo/ClientStream", quick_policy(5))
    });
    let status = client.unary(text("once")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(flaky.attempts(), [""]);
}

#[tokio::test]
async fn a_code_the_policy_does_not_list_is_not_retried() {
    let flaky = Flaky::new(1, Code::Internal);
    let server = serve(&flaky).await;
    let client = client(&server, |builder| {
        builder.retry_policy("e2e.Echo", quick_policy(5))
    });
    let status = client.unary(text("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(flaky.attempts(), [""]);
}

#[tokio::test]
async fn max_attempts_bounds_the_attempts_and_is_capped_at_five() {
    for (max_attempts, made) in [(3, 3), (9, 5)] {
        let flaky = Flaky::new(usize::MAX, Code::Unavailable);
        let server = serve(&flaky).await;
        let client = client(&server, |builder| {
            builder.retry_policy("", quick_policy(max_attempts))
        });
        let status = client.unary(text("x")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        let expected: Vec<String> = (0..made)
            .map(|previous| match previous {
                0 => String::new(),
                previous => previous.to_string(),
            })
            .collect();
        assert_eq!(flaky.attempts(), expected, "maxAttempts {max_attempts}");
    }
}

#[tokio::test]
async fn throttling_stops_retries_after_enough_failures() {
    let flaky = Flaky::new(usize::MAX, Code::Unavailable);
    let server = serve(&flaky).await;
    let client = client(&server, |builder| {
        builder
            .retry_policy("e2e.Echo", quick_policy(2))
            .retry_throttling(10, 0.1)
    });
    // Each failure costs a token out of 10; retries need more than 5 left: the first two
    // calls are retried (9 and 7 left), the next ones are not (5, then 4).
    let mut attempts_per_call = Vec::new();
    for _ in 0..4 {
        let before = flaky.attempts().len();
        let status = client.unary(text("x")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        attempts_per_call.push(flaky.attempts().len() - before);
    }
    assert_eq!(attempts_per_call, [2, 2, 1, 1]);
}

#[tokio::test]
async fn a_response_whose_headers_arrived_is_not_retried() {
    let flaky = Flaky::new(usize::MAX, Code::Unavailable);
    let server = serve(&flaky).await;
    let client = client(&server, |builder| {
        builder.retry_policy("e2e.Echo", quick_policy(5))
    });
    let mut replies = client
        .server_stream(text("x"))
        .await
        .expect("the response headers arrive")
        .into_inner();
    let status = replies.message().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(flaky.attempts(), [""]);
}

#[tokio::test]
async fn server_pushback_sets_the_wait_or_stops_retries() {
    // Backoffs of up to ten minutes: only the pushback's 10 ms brings the retry in time.
    let slow = RetryPolicy::default()
        .initial_backoff(Duration::from_secs(600))
        .max_backoff(Duration::from_secs(600));
    for (pushback, policy, attempts) in [("10", slow, 2), ("-1", quick_policy(5), 1)] {
        let flaky = Flaky {
            pushback: Some(pushback),
            ..Flaky::new(1, Code::Unavailable)
        };
        let server = serve(&flaky).await;
        let client = client(&server, |builder| builder.retry_policy("e2e.Echo", policy));
        let mut request = Request::new(text("x"));
        request.set_timeout(PATIENCE);
        let result = client.unary(request).await;
        assert_eq!(flaky.attempts().len(), attempts, "pushback {pushback}");
        match attempts {
            1 => assert_eq!(result.unwrap_err().code(), Code::Unavailable),
            _ => assert_eq!(result.unwrap().into_inner().text, "x"),
        }
    }
}

#[tokio::test]
async fn the_deadline_bounds_every_attempt() {
    let flaky = Flaky {
        delay: Duration::from_millis(200),
        ..Flaky::new(usize::MAX, Code::Unavailable)
    };
    let server = serve(&flaky).await;
    let client = client(&server, |builder| {
        builder.retry_policy("e2e.Echo", quick_policy(5))
    });
    let mut request = Request::new(text("x"));
    // Room for three or four attempts of 200 ms, not five.
    request.set_timeout(Duration::from_millis(700));
    let status = client.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    let log = flaky.log();
    assert!((2..5).contains(&log.attempts.len()), "{:?}", log.attempts);
    // Each attempt carries the time left, not the first attempt's timeout again.
    let first = log.deadlines[0].expect("the first attempt has a deadline");
    for later in &log.deadlines[1..] {
        let later = later.expect("every attempt has a deadline");
        assert!(later < first + Duration::from_millis(100), "{log:?}");
    }
}

#[tokio::test]
async fn a_client_stream_is_replayed_then_continued() {
    let flaky = Flaky {
        read_before_failing: 2,
        ..Flaky::new(1, Code::Unavailable)
    };
    let server = serve(&flaky).await;
    let client = client(&server, |builder| {
        builder.retry_policy("e2e.Echo/ClientStream", quick_policy(2))
    });
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender.send(text("a")).await.unwrap();
    sender.send(text("b")).await.unwrap();
    let call =
        tokio::spawn(async move { client.client_stream(ReceiverStream::new(receiver)).await });
    // The first attempt failed after two messages; the second replays them, then gets
    // the third from the caller.
    flaky.wait_for_attempts(2).await;
    sender.send(text("c")).await.unwrap();
    drop(sender);
    let reply = tokio::time::timeout(PATIENCE, call)
        .await
        .expect("the call ends")
        .unwrap()
        .unwrap();
    assert_eq!(reply.into_inner().text, "a,b,c");
    assert_eq!(flaky.attempts(), ["", "1"]);
    assert_eq!(flaky.log().streams, [vec!["a", "b"], vec!["a", "b", "c"]]);
}

#[tokio::test]
async fn a_client_stream_past_the_retry_buffer_is_not_retried() {
    let messages = || {
        let big = |word: &str| EchoRequest {
            payload: vec![1; 600],
            ..text(word)
        };
        tokio_stream::iter([big("a"), big("b"), big("c")])
    };
    for (buffer, attempts) in [(1024, 1), (64 * 1024, 2)] {
        let flaky = Flaky {
            read_before_failing: 3,
            ..Flaky::new(1, Code::Unavailable)
        };
        let server = serve(&flaky).await;
        let client = client(&server, |builder| {
            builder
                .retry_policy("e2e.Echo", quick_policy(2))
                .max_retry_rpc_buffer_size(buffer)
        });
        let result = client.client_stream(messages()).await;
        assert_eq!(flaky.attempts().len(), attempts, "buffer {buffer}");
        match attempts {
            1 => assert_eq!(result.unwrap_err().code(), Code::Unavailable),
            _ => assert_eq!(result.unwrap().into_inner().text, "a,b,c"),
        }
    }
}

#[test]
fn invalid_configs_are_refused_with_the_field_named() {
    let builder = || Channel::builder("http://127.0.0.1:1").unwrap();
    let json = r#"{"methodConfig": [{"name": [{"service": "e2e.Echo"}], "retryPolicy": {
        "maxAttempts": 3, "initialBackoff": "1s", "maxBackoff": "soon",
        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}"#;
    let error = builder()
        .default_service_config(json)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "invalid service config: methodConfig[0].retryPolicy.maxBackoff: \
         expected a duration such as \"0.5s\", got \"soon\""
    );
    let error = builder()
        .retry_policy("e2e.Echo/Unary", RetryPolicy::default().max_attempts(1))
        .connect_lazy()
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "invalid retry settings: retry policy of \"e2e.Echo/Unary\": \
         maxAttempts must be at least 2"
    );
    let error = builder()
        .retry_policy("", RetryPolicy::default())
        .retry_throttling(0, 0.5)
        .connect_lazy()
        .unwrap_err()
        .to_string();
    assert!(error.contains("retryThrottling.maxTokens"), "{error}");
    assert!(!error.contains('\n'));
}
