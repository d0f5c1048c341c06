//! tower layers around a server's routes and around a channel — `tower::timeout`,
//! `tower::limit::ConcurrencyLimit` and `tower_http::trace`, unchanged — and a fallback
//! service (an axum router) serving REST next to gRPC on one port.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioExecutor;
use rsrpc::transport::HttpVersion;
use rsrpc::{Channel, Code, Server};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::unregistered_client::UnregisteredClient;
use rsrpc_tests::harness::{http1_exchange, server_with, text};
use tokio::time::Instant;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

fn sleeping(ms: u32) -> EchoRequest {
    EchoRequest {
        sleep_ms: ms,
        ..text("zz")
    }
}

/// Runs two calls that each sleep `ms` at once, and returns how long both took.
async fn two_at_once(client: &EchoClient, ms: u32) -> Duration {
    let started = Instant::now();
    let (a, b) = tokio::join!(client.unary(sleeping(ms)), client.unary(sleeping(ms)));
    a.unwrap();
    b.unwrap();
    started.elapsed()
}

#[tokio::test]
async fn a_server_timeout_layer_ends_slow_calls_with_deadline_exceeded() {
    let server =
        server_with(Server::builder().layer(TimeoutLayer::new(Duration::from_millis(100)))).await;
    let client = server.client().await;
    client.unary(text("quick")).await.unwrap();
    let status = client.unary(sleeping(2_000)).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
}

#[tokio::test]
async fn a_server_concurrency_limit_serves_one_call_at_a_time() {
    let layers = ServiceBuilder::new()
        .layer(TimeoutLayer::new(Duration::from_secs(10)))
        .layer(ConcurrencyLimitLayer::new(1));
    let server = server_with(Server::builder().layer(layers)).await;
    let client = server.client().await;
    // Side by side, two 200 ms calls would take about 200 ms; one after the other, 400.
    let took = two_at_once(&client, 200).await;
    assert!(took >= Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn tower_http_trace_sees_every_server_response_of_any_kind() {
    let responses = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&responses);
    let trace = TraceLayer::new_for_grpc().on_response(
        move |_: &http::Response<_>, _: Duration, _: &tracing::Span| {
            seen.fetch_add(1, Ordering::SeqCst);
        },
    );
    let server = server_with(Server::builder().layer(trace)).await;
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let client = client_over(&server.url(), version, |builder| builder).await;
        client.unary(text("hi")).await.unwrap();
        let request = EchoRequest {
            count: 3,
            ..text("s")
        };
        let mut stream = client.server_stream(request).await.unwrap().into_inner();
        let mut count = 0;
        while stream.message().await.unwrap().is_some() {
            count += 1;
        }
        assert_eq!(count, 3);
        assert!(stream.trailers().is_some());
    }
    assert_eq!(responses.load(Ordering::SeqCst), 4);
}

async fn client_over(
    url: &str,
    version: HttpVersion,
    configure: impl FnOnce(rsrpc::client::ChannelBuilder) -> rsrpc::client::ChannelBuilder,
) -> EchoClient {
    let builder = Channel::builder(url).unwrap().http_version(version);
    EchoClient::new(configure(builder).connect().await.unwrap())
}

#[tokio::test]
async fn a_channel_timeout_layer_fails_slow_calls_with_deadline_exceeded() {
    let server = server_with(Server::builder()).await;
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let client = client_over(&server.url(), version, |builder| {
            builder.layer(TimeoutLayer::new(Duration::from_millis(100)))
        })
        .await;
        client.unary(text("quick")).await.unwrap();
        let status = client.unary(sleeping(2_000)).await.unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    }
}

#[tokio::test]
async fn a_channel_concurrency_limit_sends_one_call_at_a_time() {
    let server = server_with(Server::builder()).await;
    let client = client_over(&server.url(), HttpVersion::Http2, |builder| {
        builder.layer(ConcurrencyLimitLayer::new(1))
    })
    .await;
    let took = two_at_once(&client, 200).await;
    assert!(took >= Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn tower_http_trace_on_a_channel_sees_every_request_and_streams_still_flow() {
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&requests);
    let trace = TraceLayer::new_for_grpc().on_request(
        move |_: &http::Request<rsrpc::Body>, _: &tracing::Span| {
            seen.fetch_add(1, Ordering::SeqCst);
        },
    );
    let server = server_with(Server::builder()).await;
    let client = client_over(&server.url(), HttpVersion::Http2, |builder| {
        builder
            .layer(trace)
            .layer(TimeoutLayer::new(Duration::from_secs(10)))
    })
    .await;
    client.unary(text("hi")).await.unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    let mut replies = client.bidi(stream).await.unwrap().into_inner();
    for word in ["a", "b"] {
        sender.send(text(word)).await.unwrap();
        assert_eq!(replies.message().await.unwrap().unwrap().text, word);
    }
    drop(sender);
    assert!(replies.message().await.unwrap().is_none());
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_axum_router_serves_rest_on_the_grpc_port() {
    let rest =
        axum::Router::new().route("/hello", axum::routing::get(|| async { "hello from axum" }));
    let server = server_with(Server::builder().fallback_service(rest)).await;

    let http1 = http1_exchange(
        server.addr,
        b"GET /hello HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(http1.starts_with("HTTP/1.1 200"), "{http1}");
    assert!(http1.ends_with("hello from axum"), "{http1}");

    let http2 = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Empty<bytes::Bytes>>();
    let uri: http::Uri = format!("http://{}/hello", server.addr).parse().unwrap();
    let response = http2.get(uri).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hello from axum");

    // gRPC on the same port, and an unknown gRPC service is still UNIMPLEMENTED.
    server.client().await.unary(text("grpc")).await.unwrap();
    let unknown = UnregisteredClient::connect(server.url()).await.unwrap();
    let status = unknown.call(text("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}
