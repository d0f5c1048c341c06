//! Deadlines and cancellation, end to end: the client gives up on time, the server stops
//! handlers whose call is over, and deadlines propagate.

use std::time::Duration;

use prost::Message;
use rsrpc::{Code, Request};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::harness::{default_server, frame, raw_call, text};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

fn sleeping(millis: u32) -> EchoRequest {
    EchoRequest {
        sleep_ms: millis,
        ..text("slow")
    }
}

#[tokio::test]
async fn client_timeout_is_deadline_exceeded_and_stops_the_handler() {
    let server = default_server().await;
    let service = server.service.clone();
    let mut request = Request::new(sleeping(60_000));
    request.set_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let status = server.client().await.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(started.elapsed() < PATIENCE);
    tokio::time::timeout(PATIENCE, service.wait_cancelled(1))
        .await
        .expect("the server drops the handler of a call past its deadline");
}

#[tokio::test]
async fn client_default_timeout_applies_to_every_call() {
    let server = default_server().await;
    let config = rsrpc::client::ClientConfig::default().timeout(Duration::from_millis(100));
    let client = server.client().await.with_config(config);
    let status = client.unary(sleeping(60_000)).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn server_enforces_the_incoming_deadline_by_itself() {
    let server = default_server().await;
    let headers = [
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-timeout", "50m"),
    ];
    let body = frame(false, &sleeping(60_000).encode_to_vec());
    let response = tokio::time::timeout(
        PATIENCE,
        raw_call(server.addr, "/e2e.Echo/Unary", &headers, body),
    )
    .await
    .expect("the server answers when the deadline passes");
    assert_eq!(response.grpc_status(), Some("4"));
    tokio::time::timeout(PATIENCE, server.service.wait_cancelled(1))
        .await
        .expect("the handler was dropped");
}

#[tokio::test]
async fn malformed_grpc_timeout_is_invalid_argument() {
    let server = default_server().await;
    let headers = [
        ("content-type", "application/grpc"),
        ("grpc-timeout", "soon"),
    ];
    let body = frame(false, &text("x").encode_to_vec());
    let response = raw_call(server.addr, "/e2e.Echo/Unary", &headers, body).await;
    assert_eq!(response.grpc_status(), Some("3"));
}

#[tokio::test]
async fn deadline_reaches_the_handler_and_propagates() {
    let server = default_server().await;
    let client = server.client().await;
    let mut request = Request::new(EchoRequest {
        report_deadline: true,
        ..text("d")
    });
    request.set_timeout(Duration::from_secs(5));
    let left: u64 = client
        .unary(request)
        .await
        .unwrap()
        .into_inner()
        .text
        .parse()
        .unwrap();
    assert!((1..=5000).contains(&left), "{left} ms left");

    // A handler forwarding its deadline: the outgoing call carries the same one.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut forwarded = Request::new(EchoRequest {
        report_deadline: true,
        ..text("d")
    });
    forwarded.set_deadline(Some(deadline));
    let left: u64 = client
        .unary(forwarded)
        .await
        .unwrap()
        .into_inner()
        .text
        .parse()
        .unwrap();
    assert!((1..=3000).contains(&left), "{left} ms left");

    let no_deadline = EchoRequest {
        report_deadline: true,
        ..text("d")
    };
    assert_eq!(
        client.unary(no_deadline).await.unwrap().into_inner().text,
        "none"
    );
}

#[tokio::test]
async fn dropping_a_call_cancels_the_handler_and_keeps_the_connection() {
    let server = default_server().await;
    let client = server.client().await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.unary(sleeping(60_000)).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    call.abort();
    tokio::time::timeout(PATIENCE, server.service.wait_cancelled(1))
        .await
        .expect("the reset reaches the handler");
    assert_eq!(
        client.unary(text("after")).await.unwrap().get_ref().text,
        "after"
    );
}

#[tokio::test]
async fn dropping_a_response_stream_stops_the_server_side() {
    let server = default_server().await;
    let client = server.client().await;
    let (sender, receiver) = mpsc::channel(1);
    sender.send(text("one")).await.unwrap();
    let mut replies = client
        .bidi(ReceiverStream::new(receiver))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replies.message().await.unwrap().unwrap().text, "one");
    drop(replies);
    tokio::time::timeout(PATIENCE, server.service.wait_cancelled(1))
        .await
        .expect("the server's stream task ends when the client resets the call");
    drop(sender);
}

#[tokio::test]
async fn unanswered_connect_fails_fast_when_nothing_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = rsrpc::Channel::connect(format!("http://{addr}"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("connect"), "{error}");
    let lazy = rsrpc::Channel::builder(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
        .unwrap();
    let client = rsrpc_tests::e2e::echo_client::EchoClient::new(lazy);
    let status = client.unary(text("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
}
