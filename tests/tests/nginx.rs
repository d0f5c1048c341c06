//! Through a real proxy: rsrpc's client → nginx (`grpc_pass`) → rsrpc's server, for the
//! four kinds of call, a failure with its message and details, and metadata both ways
//! (headers and trailers, text and binary), and a client that heals when nginx
//! restarts under load. nginx is installed by `tests/install-nginx`
//! when missing.

use std::time::Duration;

use bytes::Bytes;
use rsrpc::{Channel, Code, Request};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::echo::DETAILS;
use rsrpc_tests::harness::{TestServer, assert_full_duplex, default_server, text};
use rsrpc_tests::nginx::Nginx;
use rsrpc_tests::recovery;

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

/// nginx killed under 20 calls a second and started again on its port 2 s later: the
/// client's channel heals as with a restarted server (see [`rsrpc_tests::recovery`]).
#[tokio::test]
async fn the_client_heals_when_nginx_restarts_under_load() {
    const DEADLINE: Duration = Duration::from_millis(500);
    let server = default_server().await;
    let mut nginx = Nginx::start(server.addr);
    let addr = nginx.addr();
    let channel = Channel::builder(nginx.url())
        .unwrap()
        .backoff(recovery::capped_backoff())
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    let call = recovery::unary_load(client, DEADLINE);
    let fault = async move {
        nginx.stop();
        tokio::time::sleep(recovery::DOWN_FOR).await;
        let restarted = tokio::task::spawn_blocking(move || {
            nginx.start_again();
            nginx
        });
        restarted.await.unwrap()
    };
    let (recovery, nginx) = recovery::through_fault(call, fault).await;
    assert_eq!(nginx.addr(), addr, "nginx came back on its port");
    let (took, failures) = recovery.check(DEADLINE);
    println!(
        "first success {took:?} after nginx listened again; {failures} of {} calls failed",
        recovery::CALLS
    );
}
