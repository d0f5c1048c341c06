//! End-to-end tests of the runtime over HTTP/2: a generated server and client on loopback.

use std::time::Duration;

use bytes::Bytes;
use rsrpc::{Code, Request, Server};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::e2e::echo_server::EchoServer;
use rsrpc_tests::e2e::unregistered_client::UnregisteredClient;
use rsrpc_tests::e2e::{EchoReply, EchoRequest};
use rsrpc_tests::echo::{DETAILS, EchoService};
use rsrpc_tests::harness::{TestServer, assert_full_duplex, default_server, raw_call, text};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_stream::StreamExt;

#[tokio::test]
async fn unary_round_trip() {
    let server = default_server().await;
    let reply = server.client().await.unary(text("hello")).await.unwrap();
    assert_eq!(reply.get_ref().text, "hello");
}

#[tokio::test]
async fn handlers_see_the_client_address() {
    let server = default_server().await;
    let reply = server.client().await.unary(text("hello")).await.unwrap();
    let peer: std::net::SocketAddr = reply.get_ref().peer.parse().unwrap();
    assert!(peer.ip().is_loopback(), "{peer}");
    assert_ne!(peer.port(), 0);
}

#[tokio::test]
async fn server_streaming_delivers_every_message_in_order() {
    let server = default_server().await;
    let request = EchoRequest {
        count: 1000,
        ..text("n")
    };
    let mut stream = server
        .client()
        .await
        .server_stream(request)
        .await
        .unwrap()
        .into_inner();
    let mut index = 0;
    while let Some(reply) = stream.message().await.unwrap() {
        assert_eq!(reply.text, format!("n {index}"));
        index += 1;
    }
    assert_eq!(index, 1000);
    assert!(stream.trailers().is_some());
}

#[tokio::test]
async fn client_streaming_joins_every_message() {
    let server = default_server().await;
    let requests = tokio_stream::iter(["a", "b", "c"].map(text));
    let reply = server.client().await.client_stream(requests).await.unwrap();
    assert_eq!(reply.get_ref().text, "a,b,c");
}

#[tokio::test]
async fn bidi_streaming_is_full_duplex() {
    let server = default_server().await;
    assert_full_duplex(&server.client().await).await;
}

#[tokio::test]
async fn errors_carry_code_message_details_and_metadata() {
    let server = default_server().await;
    let mut request = Request::new(EchoRequest {
        fail_code: Code::NotFound as i32,
        fail_message: "no such thing: ünïcode\nline".into(),
        ..text("x")
    });
    request
        .metadata_mut()
        .insert("x-echo-why", "because")
        .unwrap();
    let status = server.client().await.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(status.message(), "no such thing: ünïcode\nline");
    assert_eq!(status.details().as_ref(), DETAILS);
    assert_eq!(status.metadata().get("x-trailer-why"), Some("because"));
}

#[tokio::test]
async fn stream_errors_arrive_after_the_messages_sent_before_them() {
    let server = default_server().await;
    let request = EchoRequest {
        count: 3,
        fail_code: Code::Aborted as i32,
        fail_message: "stop".into(),
        ..text("m")
    };
    let stream = server
        .client()
        .await
        .server_stream(request)
        .await
        .unwrap()
        .into_inner();
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 4);
    assert!(items[..3].iter().all(Result::is_ok));
    let status = items[3].as_ref().unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert_eq!(status.message(), "stop");
}

#[tokio::test]
async fn metadata_travels_both_ways() {
    let server = default_server().await;
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
    let response = server.client().await.unary(request).await.unwrap();
    assert_eq!(response.metadata().get("x-header-text"), Some("value 1"));
    assert_eq!(
        response
            .metadata()
            .get_bin("x-header-data-bin")
            .unwrap()
            .unwrap(),
        binary
    );
    assert_eq!(response.trailers().get("x-trailer-text"), Some("value 1"));
    assert_eq!(
        response
            .trailers()
            .get_bin("x-trailer-data-bin")
            .unwrap()
            .unwrap(),
        binary
    );
}

#[tokio::test]
async fn streaming_trailers_reach_the_client() {
    let server = default_server().await;
    let mut request = Request::new(EchoRequest {
        count: 2,
        ..text("t")
    });
    request.metadata_mut().insert("x-echo-late", "yes").unwrap();
    let mut stream = server
        .client()
        .await
        .server_stream(request)
        .await
        .unwrap()
        .into_inner();
    while stream.message().await.unwrap().is_some() {}
    assert_eq!(
        stream.trailers().unwrap().get("x-trailer-late"),
        Some("yes")
    );
}

#[tokio::test]
async fn unknown_service_and_method_are_unimplemented() {
    let server = default_server().await;
    let channel = rsrpc::Channel::connect(server.url()).await.unwrap();
    let status = UnregisteredClient::new(channel.clone())
        .call(text("x"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);

    let grpc = EchoClient::new(channel).into_inner();
    let status = grpc
        .unary::<_, EchoReply>(Request::new(text("x")), "/e2e.Echo/NoSuchMethod")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    assert!(status.message().contains("/e2e.Echo/NoSuchMethod"));
}

#[tokio::test]
async fn oversized_request_is_resource_exhausted() {
    let server = default_server().await;
    let request = EchoRequest {
        payload: vec![1; 4 * 1024 * 1024 + 1],
        ..text("big")
    };
    let status = server.client().await.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
}

#[tokio::test]
async fn oversized_response_is_resource_exhausted_on_the_client() {
    let server = default_server().await;
    let client = server
        .client()
        .await
        .with_config(rsrpc::client::ClientConfig::default().max_receive_message_size(1024));
    let request = EchoRequest {
        reply_size: 2048,
        ..text("big")
    };
    let status = client.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let small = EchoRequest {
        reply_size: 512,
        ..text("small")
    };
    assert_eq!(
        client.unary(small).await.unwrap().get_ref().payload.len(),
        512
    );
}

#[tokio::test]
async fn server_limit_is_configurable() {
    let config = rsrpc::server::ServiceConfig::default().max_receive_message_size(100);
    let server = TestServer::start(EchoService::default(), config).await;
    let request = EchoRequest {
        payload: vec![1; 200],
        ..text("x")
    };
    let status = server.client().await.unary(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let server = default_server().await;
    let headers = [("content-type", "text/plain")];
    let response = raw_call(
        server.addr,
        "/e2e.Echo/Unary",
        &headers,
        Bytes::from_static(b"{}"),
    )
    .await;
    assert_eq!(
        response.head.status,
        http::StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_client() {
    let server = default_server().await;
    let client = server.client().await;
    let calls = (0..50).map(|index| {
        let client = client.clone();
        tokio::spawn(async move { client.unary(text(&index.to_string())).await })
    });
    for (index, call) in calls.enumerate() {
        let reply = call.await.unwrap().unwrap();
        assert_eq!(reply.get_ref().text, index.to_string());
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_calls_finish() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    let serving = tokio::spawn(
        Server::builder()
            .add_service(EchoServer::new(EchoService::default()))
            .serve_with_listener(listener, async {
                let _ = signal.await;
            }),
    );
    let client = EchoClient::connect(format!("http://{addr}")).await.unwrap();
    let slow = tokio::spawn(async move {
        client
            .unary(EchoRequest {
                sleep_ms: 300,
                ..text("slow")
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    shutdown.send(()).unwrap();
    assert_eq!(slow.await.unwrap().unwrap().get_ref().text, "slow");
    serving.await.unwrap().unwrap();
}
