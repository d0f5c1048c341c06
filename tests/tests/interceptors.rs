//! Interceptors on the server (per server and per service) and on the channel: they
//! change metadata, refuse calls, hand typed values to handlers, and see how each call
//! ended, over HTTP/2 and HTTP/1.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use rsrpc::interceptor::{FinishedCall, GrpcMethod, Interceptor};
use rsrpc::transport::HttpVersion;
use rsrpc::{Channel, Code, Request, Server, Status};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::echo_server::EchoServer;
use rsrpc_tests::echo::{EchoService, EchoTag};
use rsrpc_tests::harness::{
    Serving, frame, http1_exchange, http1_request, server_with, slow, text,
};
use tower::timeout::TimeoutLayer;

/// Appends `name` to the `x-echo-order` metadata, which the test service echoes back
/// as `x-header-order`.
fn stamp(name: &'static str) -> impl Interceptor {
    move |mut request: Request<()>| async move {
        request
            .metadata_mut()
            .append("x-echo-order", name)
            .map_err(|error| Status::internal(error.to_string()))?;
        Ok(request)
    }
}

/// Refuses calls without `authorization: letmein`.
fn require_password() -> impl Interceptor {
    |request: Request<()>| async move {
        match request.metadata().get("authorization") {
            Some("letmein") => Ok(request),
            _ => Err(Status::unauthenticated("wrong password")),
        }
    }
}

/// One ended call, as an interceptor saw it.
#[derive(Debug, Clone)]
struct Ended {
    method: GrpcMethod,
    code: Code,
    elapsed: Duration,
}

/// Records every ended call.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Ended>>>);

impl Recorder {
    fn ended(&self) -> Vec<Ended> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until `count` calls have ended (a server learns it as the response leaves).
    async fn wait_for(&self, count: usize) -> Vec<Ended> {
        for _ in 0..500 {
            if self.ended().len() >= count {
                return self.ended();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("only {:?} ended, waited for {count}", self.ended());
    }
}

impl Interceptor for Recorder {
    async fn intercept(&self, request: Request<()>) -> Result<Request<()>, Status> {
        // Async for real: an interceptor may wait, e.g. for a token service.
        tokio::task::yield_now().await;
        Ok(request)
    }

    fn finished(&self, call: &FinishedCall<'_>) {
        self.0.lock().unwrap().push(Ended {
            method: call.method.clone(),
            code: call.status.code(),
            elapsed: call.elapsed,
        });
    }
}

fn with_password<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", "letmein")
        .unwrap();
    request
}

async fn client_over(url: &str, version: HttpVersion) -> EchoClient {
    let channel = Channel::builder(url)
        .unwrap()
        .http_version(version)
        .connect()
        .await
        .unwrap();
    EchoClient::new(channel)
}

#[tokio::test]
async fn a_server_interceptor_changes_metadata_the_handler_sees() {
    let server = server_with(Server::builder().interceptor(stamp("server"))).await;
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let client = client_over(&server.url(), version).await;
        let reply = client.unary(text("hi")).await.unwrap();
        assert_eq!(reply.metadata().get("x-header-order"), Some("server"));
    }
}

#[tokio::test]
async fn a_refused_call_never_reaches_the_handler() {
    let server = server_with(Server::builder().interceptor(require_password())).await;
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let client = client_over(&server.url(), version).await;
        let status = client.unary(text("hi")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert_eq!(status.message(), "wrong password");
        let stream = client.server_stream(text("hi")).await;
        assert_eq!(stream.unwrap_err().code(), Code::Unauthenticated);
        let reply = client.unary(with_password(text("hi"))).await.unwrap();
        assert_eq!(reply.get_ref().text, "hi");
    }
    assert_eq!(server.service.unary_calls(), 2, "only the calls let in ran");
}

#[tokio::test]
async fn handlers_read_typed_values_interceptors_put_in_the_extensions() {
    let tagger = |mut request: Request<()>| async move {
        let tenant = request.metadata().get("x-tenant").unwrap_or("nobody");
        let tag = EchoTag(tenant.to_owned());
        request.extensions_mut().insert(tag);
        Ok(request)
    };
    let server = server_with(Server::builder().interceptor(tagger)).await;
    let mut request = Request::new(text("hi"));
    request.metadata_mut().insert("x-tenant", "blue").unwrap();
    let reply = server.client().await.unary(request).await.unwrap();
    assert_eq!(reply.get_ref().text, "blue:hi");
}

#[tokio::test]
async fn interceptors_see_the_method_and_the_final_status_of_each_kind_of_call() {
    let recorder = Recorder::default();
    let server = server_with(Server::builder().interceptor(recorder.clone())).await;
    let client = server.client().await;
    client.unary(text("ok")).await.unwrap();
    let failing = EchoRequest {
        fail_code: Code::NotFound as i32,
        ..text("no")
    };
    client.unary(failing.clone()).await.unwrap_err();
    let streamed = EchoRequest {
        count: 3,
        ..failing
    };
    let mut stream = client.server_stream(streamed).await.unwrap().into_inner();
    while stream
        .message()
        .await
        .is_ok_and(|message| message.is_some())
    {}
    let requests = tokio_stream::iter(["a", "b"].map(text));
    client.client_stream(requests).await.unwrap();
    let ended = recorder.wait_for(4).await;
    let seen: Vec<_> = ended
        .iter()
        .map(|call| (call.method.path(), call.code))
        .collect();
    assert_eq!(
        seen,
        [
            ("/e2e.Echo/Unary", Code::Ok),
            ("/e2e.Echo/Unary", Code::NotFound),
            ("/e2e.Echo/ServerStream", Code::NotFound),
            ("/e2e.Echo/ClientStream", Code::Ok),
        ]
    );
    assert_eq!(ended[0].method.service(), "e2e.Echo");
    assert_eq!(ended[0].method.method(), "Unary");
}

#[tokio::test]
async fn the_duration_covers_the_handler() {
    let recorder = Recorder::default();
    let server = server_with(Server::builder().interceptor(recorder.clone())).await;
    let slow = EchoRequest {
        sleep_ms: 100,
        ..text("slow")
    };
    server.client().await.unary(slow).await.unwrap();
    let ended = recorder.wait_for(1).await;
    assert!(ended[0].elapsed >= Duration::from_millis(100), "{ended:?}");
}

#[tokio::test]
async fn a_call_the_client_abandons_ends_cancelled_for_the_server_interceptor() {
    let recorder = Recorder::default();
    let server = server_with(Server::builder().interceptor(recorder.clone())).await;
    let client = server.client().await;
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let requests = tokio_stream::wrappers::ReceiverStream::new(receiver);
    let mut replies = client.bidi(requests).await.unwrap().into_inner();
    sender.send(text("one")).await.unwrap();
    replies.message().await.unwrap().unwrap();
    drop((replies, sender));
    let ended = recorder.wait_for(1).await;
    assert_eq!(ended[0].code, Code::Cancelled, "{ended:?}");
}

#[tokio::test]
async fn server_interceptors_run_before_those_of_a_service() {
    let service = EchoService::default();
    // The generated shorthand for `InterceptedService::new(EchoServer::new(..), ..)`.
    let echo =
        EchoServer::with_interceptor(service, stamp("service")).interceptor(stamp("service again"));
    let server = Server::builder()
        .interceptor(stamp("server"))
        .add_service(echo);
    let serving = Serving::start(server).await;
    let client = EchoClient::connect(format!("http://{}", serving.addr))
        .await
        .unwrap();
    let reply = client.unary(text("hi")).await.unwrap();
    let order: Vec<_> = reply.metadata().get_all("x-header-order").collect();
    assert_eq!(order, ["server", "service", "service again"]);
}

#[tokio::test]
async fn a_channel_interceptor_adds_metadata_refuses_calls_and_sees_their_end() {
    let server = server_with(Server::builder().interceptor(require_password())).await;
    let recorder = Recorder::default();
    let log_in = |mut request: Request<()>| async move {
        let method = request.extensions().get::<GrpcMethod>().cloned();
        if method.is_some_and(|method| method.method() == "ClientStream") {
            return Err(Status::permission_denied("client streams are off"));
        }
        request
            .metadata_mut()
            .insert("authorization", "letmein")
            .unwrap();
        Ok(request)
    };
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let channel = Channel::builder(server.url())
            .unwrap()
            .http_version(version)
            .interceptor(recorder.clone())
            .interceptor(log_in)
            .connect()
            .await
            .unwrap();
        let client = EchoClient::new(channel);
        client.unary(text("hi")).await.unwrap();
        let requests = tokio_stream::iter([text("a")]);
        let refused = client.client_stream(requests).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let request = EchoRequest {
            count: 2,
            ..text("s")
        };
        let mut stream = client.server_stream(request).await.unwrap().into_inner();
        while stream.message().await.unwrap().is_some() {}
    }
    let codes: Vec<_> = recorder.ended().iter().map(|call| call.code).collect();
    let once = [Code::Ok, Code::PermissionDenied, Code::Ok];
    assert_eq!(codes, [once, once].concat());
    assert_eq!(
        server.service.unary_calls(),
        2,
        "the refused calls never left"
    );
}

#[tokio::test]
async fn a_channel_interceptor_sees_a_dropped_stream_as_cancelled_and_failures_as_received() {
    let server = server_with(Server::builder()).await;
    let recorder = Recorder::default();
    let channel = Channel::builder(server.url())
        .unwrap()
        .interceptor(recorder.clone())
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    let request = EchoRequest {
        count: 5,
        ..text("s")
    };
    let mut stream = client.server_stream(request).await.unwrap().into_inner();
    stream.message().await.unwrap();
    drop(stream);
    let failing = EchoRequest {
        fail_code: Code::AlreadyExists as i32,
        ..text("f")
    };
    client.unary(failing).await.unwrap_err();
    let codes: Vec<_> = recorder.ended().iter().map(|call| call.code).collect();
    assert_eq!(codes, [Code::Cancelled, Code::AlreadyExists]);
}

#[tokio::test]
async fn a_unary_call_the_client_abandons_ends_cancelled_for_the_server_interceptor() {
    let recorder = Recorder::default();
    let server = server_with(Server::builder().interceptor(recorder.clone())).await;
    let client = server.client().await;
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        client.unary(slow(Duration::from_secs(2))),
    );
    assert!(abandoned.await.is_err());
    server.service.wait_cancelled(1).await;
    let ended = recorder.wait_for(1).await;
    assert_eq!(ended[0].code, Code::Cancelled, "{ended:?}");
}

#[tokio::test]
async fn a_call_a_timeout_layer_ends_is_reported_to_the_interceptors_inside_it() {
    let recorder = Recorder::default();
    let builder = Server::builder()
        .layer(TimeoutLayer::new(Duration::from_millis(100)))
        .interceptor(recorder.clone());
    let server = server_with(builder).await;
    let request = slow(Duration::from_secs(2));
    let status = server.client().await.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    let ended = recorder.wait_for(1).await;
    assert_eq!(ended[0].code, Code::Cancelled, "{ended:?}");
}

#[tokio::test]
async fn interceptors_spend_the_call_deadline_and_may_shorten_it() {
    let slow_interceptor = |request: Request<()>| async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Ok(request)
    };
    let server = server_with(Server::builder().interceptor(slow_interceptor)).await;
    let reporting = || {
        let mut request = Request::new(EchoRequest {
            report_deadline: true,
            ..text("x")
        });
        request.set_timeout(Duration::from_millis(1_000));
        request
    };
    let reply = server.client().await.unary(reporting()).await.unwrap();
    let left: u64 = reply.get_ref().text.parse().unwrap();
    assert!(
        left <= 650,
        "{left} ms left after 400 of 1,000 ms in an interceptor"
    );

    let shorten = |mut request: Request<()>| async move {
        request.set_timeout(Duration::from_millis(100));
        Ok(request)
    };
    let server = server_with(Server::builder().interceptor(shorten)).await;
    let reply = server.client().await.unary(reporting()).await.unwrap();
    let left: u64 = reply.get_ref().text.parse().unwrap();
    assert!(
        left <= 100,
        "{left} ms left of the 100 ms an interceptor set"
    );

    // No deadline from the client: the interceptor's alone ends a slow call.
    let status = server
        .client()
        .await
        .unary(slow(Duration::from_millis(500)))
        .await;
    assert_eq!(status.unwrap_err().code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn a_refusal_past_the_deadline_is_deadline_exceeded() {
    let stuck = |_request: Request<()>| async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Err::<Request<()>, _>(Status::internal("never"))
    };
    let server = server_with(Server::builder().interceptor(stuck)).await;
    let mut request = Request::new(text("x"));
    request.set_timeout(Duration::from_millis(100));
    let status = server.client().await.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn the_reported_status_is_the_one_sent_when_an_http1_response_overflows_its_buffer() {
    let recorder = Recorder::default();
    let builder = Server::builder()
        .http1_max_buffered_response(64)
        .interceptor(recorder.clone());
    let server = server_with(builder).await;
    let message = EchoRequest {
        reply_size: 1_000,
        ..text("big")
    };
    let body = frame(false, &message.encode_to_vec());
    // No `te: trailers`: the response is buffered, and too big for 64 bytes.
    let request = http1_request(
        "/e2e.Echo/Unary",
        "content-type: application/grpc\r\n",
        &body,
    );
    let response = http1_exchange(server.addr, &request).await;
    assert!(response.contains("grpc-status: 8"), "{response}");
    let ended = recorder.wait_for(1).await;
    assert_eq!(ended[0].code, Code::ResourceExhausted, "{ended:?}");
}
