//! Through a real proxy: rsrpc's client → nginx (`grpc_pass`) → rsrpc's server, for the
//! four kinds of call, a failure with its message and details, and metadata both ways
//! (headers and trailers, text and binary). nginx is installed by `tests/install-nginx`
//! when missing.

use bytes::Bytes;
use rsrpc::{Code, Request};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::echo::DETAILS;
use rsrpc_tests::harness::{TestServer, assert_full_duplex, default_server, text};
use rsrpc_tests::nginx::Nginx;

/// An echo server, nginx in front of it, and a client calling through nginx.
async fn proxied() -> (TestServer, Nginx, EchoClient) {
    let server = default_server().await;
    let nginx = Nginx::start(server.addr);
    let client = EchoClient::connect(nginx.url()).await.unwrap();
    (server, nginx, client)
}

#[tokio::test]
async fn unary_calls_pass_through_nginx_and_only_through_it() {
    let (_server, mut nginx, client) = proxied().await;
    for word in ["one", "two", "three"] {
        let reply = client.unary(text(word)).await.unwrap();
        assert_eq!(reply.get_ref().text, word);
    }
    nginx.stop();
    let status = client.unary(text("proxy gone")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

#[tokio::test]
async fn server_streams_pass_through_nginx() {
    let (_server, _nginx, client) = proxied().await;
    let request = EchoRequest {
        count: 100,
        ..text("n")
    };
    let mut stream = client.server_stream(request).await.unwrap().into_inner();
    let mut index = 0;
    while let Some(reply) = stream.message().await.unwrap() {
        assert_eq!(reply.text, format!("n {index}"));
        index += 1;
    }
    assert_eq!(index, 100);
}

#[tokio::test]
async fn client_streams_pass_through_nginx() {
    let (_server, _nginx, client) = proxied().await;
    let requests = tokio_stream::iter(["a", "b", "c"].map(text));
    let reply = client.client_stream(requests).await.unwrap();
    assert_eq!(reply.get_ref().text, "a,b,c");
}

#[tokio::test]
async fn bidi_streams_stay_full_duplex_through_nginx() {
    let (_server, _nginx, client) = proxied().await;
    assert_full_duplex(&client).await;
}

#[tokio::test]
async fn failures_keep_code_message_details_and_trailers_through_nginx() {
    let (_server, _nginx, client) = proxied().await;
    let mut request = Request::new(EchoRequest {
        fail_code: Code::FailedPrecondition as i32,
        fail_message: "not now: ünïcode".into(),
        ..text("x")
    });
    request
        .metadata_mut()
        .insert("x-echo-why", "because")
        .unwrap();
    let status = client.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(status.message(), "not now: ünïcode");
    assert_eq!(status.details().as_ref(), DETAILS);
    assert_eq!(status.metadata().get("x-trailer-why"), Some("because"));
}

#[tokio::test]
async fn metadata_passes_both_ways_through_nginx() {
    let (_server, _nginx, client) = proxied().await;
    let binary: Vec<u8> = (0..=255).collect();
    let mut request = Request::new(text("m"));
    request
        .metadata_mut()
        .insert("x-echo-text", "value 1")
        .unwrap();
    request
        .metadata_mut()
        .insert_bin("x-echo-data-bin", &binary)
        .unwrap();
    let response = client.unary(request).await.unwrap();
    let binary = Bytes::from(binary);
    let headers = response.metadata();
    assert_eq!(headers.get("x-header-text"), Some("value 1"));
    assert_eq!(
        headers.get_bin("x-header-data-bin").unwrap().unwrap(),
        binary
    );
    let trailers = response.trailers();
    assert_eq!(trailers.get("x-trailer-text"), Some("value 1"));
    assert_eq!(
        trailers.get_bin("x-trailer-data-bin").unwrap().unwrap(),
        binary
    );
}

#[tokio::test]
async fn a_restarted_nginx_serves_new_clients_on_the_same_port() {
    let (_server, mut nginx, client) = proxied().await;
    client.unary(text("before")).await.unwrap();
    let addr = nginx.addr();
    nginx.restart();
    assert_eq!(nginx.addr(), addr);
    assert!(nginx.is_running());
    let fresh = EchoClient::connect(nginx.url()).await.unwrap();
    assert_eq!(
        fresh.unary(text("after")).await.unwrap().get_ref().text,
        "after"
    );
}
