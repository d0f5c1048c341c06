//! Message compression end to end: negotiation, per-call choices, and what the spec says
//! must fail.

use prost::Message;
use rsrpc::client::ClientConfig;
use rsrpc::codec::{Encoding, EncodingSet};
use rsrpc::server::ServiceConfig;
use rsrpc::{Code, Request};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::harness::{TestServer, default_server, frame, raw_call, text};

fn gzip_server_config() -> ServiceConfig {
    ServiceConfig::default().send_compressed(Encoding::Gzip)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const GRPC_HEADERS: [(&str, &str); 2] = [("content-type", "application/grpc"), ("te", "trailers")];

#[tokio::test]
async fn gzip_travels_both_ways() {
    let server = TestServer::start(EchoService::default(), gzip_server_config()).await;
    let client = server
        .client()
        .await
        .with_config(ClientConfig::default().send_compressed(Encoding::Gzip));
    let request = EchoRequest {
        payload: vec![3; 100_000],
        count: 2,
        ..text("zip")
    };
    let reply = client.unary(request.clone()).await.unwrap();
    assert!(
        reply.get_ref().request_compressed,
        "the request went compressed"
    );
    assert_eq!(reply.get_ref().payload, request.payload);

    let mut stream = client.server_stream(request).await.unwrap().into_inner();
    stream.message().await.unwrap().unwrap();
    assert!(
        stream.last_message_compressed(),
        "responses come compressed"
    );
}

#[tokio::test]
async fn per_call_choices_override_the_configuration() {
    let server = TestServer::start(EchoService::default(), gzip_server_config()).await;
    let client = server
        .client()
        .await
        .with_config(ClientConfig::default().send_compressed(Encoding::Gzip));
    let mut request = Request::new(text("plain"));
    request.set_compression(None);
    assert!(
        !client
            .unary(request)
            .await
            .unwrap()
            .get_ref()
            .request_compressed
    );

    let plain = server.client().await;
    let mut request = Request::new(text("zipped"));
    request.set_compression(Some(Encoding::Gzip));
    assert!(
        plain
            .unary(request)
            .await
            .unwrap()
            .get_ref()
            .request_compressed
    );
}

#[tokio::test]
async fn server_compresses_only_for_clients_that_accept_it() {
    let server = TestServer::start(EchoService::default(), gzip_server_config()).await;
    let client = server
        .client()
        .await
        .with_config(ClientConfig::default().accept_compressed(EncodingSet::identity_only()));
    let request = EchoRequest {
        count: 1,
        ..text("x")
    };
    let mut stream = client.server_stream(request).await.unwrap().into_inner();
    stream.message().await.unwrap().unwrap();
    assert!(!stream.last_message_compressed());
}

#[tokio::test]
async fn unknown_encoding_is_unimplemented_with_the_accepted_list() {
    let server = default_server().await;
    let mut headers = GRPC_HEADERS.to_vec();
    headers.push(("grpc-encoding", "snappy"));
    let body = frame(true, b"whatever");
    let response = raw_call(server.addr, "/e2e.Echo/Unary", &headers, body).await;
    assert_eq!(response.grpc_status(), Some("12"));
    let accepted = response.head.headers.get("grpc-accept-encoding").unwrap();
    assert_eq!(accepted, "gzip,identity");
}

#[tokio::test]
async fn encoding_the_service_refuses_is_unimplemented() {
    let config = ServiceConfig::default().accept_compressed(EncodingSet::identity_only());
    let server = TestServer::start(EchoService::default(), config).await;
    let client = server
        .client()
        .await
        .with_config(ClientConfig::default().send_compressed(Encoding::Gzip));
    let status = client.unary(text("x")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

#[tokio::test]
async fn compressed_flag_without_encoding_is_internal() {
    let server = default_server().await;
    let body = frame(true, &gzip(&text("x").encode_to_vec()));
    let response = raw_call(server.addr, "/e2e.Echo/Unary", &GRPC_HEADERS, body).await;
    assert_eq!(response.grpc_status(), Some("13"));
}

#[tokio::test]
async fn raw_gzip_request_is_decoded() {
    let server = default_server().await;
    let mut headers = GRPC_HEADERS.to_vec();
    headers.push(("grpc-encoding", "gzip"));
    let body = frame(true, &gzip(&text("raw").encode_to_vec()));
    let response = raw_call(server.addr, "/e2e.Echo/Unary", &headers, body).await;
    assert_eq!(response.grpc_status(), Some("0"));
    let reply = rsrpc_tests::e2e::EchoReply::decode(&response.body[5..]).unwrap();
    assert_eq!(reply.text, "raw");
    assert!(reply.request_compressed);
}

#[tokio::test]
async fn a_compression_bomb_is_resource_exhausted() {
    let server = default_server().await;
    let mut headers = GRPC_HEADERS.to_vec();
    headers.push(("grpc-encoding", "gzip"));
    // 64 MiB of zeros compress to about 64 KiB: far under the 4 MiB limit on the wire.
    let bomb = EchoRequest {
        payload: vec![0; 64 * 1024 * 1024],
        ..text("bomb")
    };
    let compressed = gzip(&bomb.encode_to_vec());
    assert!(compressed.len() < 1024 * 1024);
    let response = raw_call(
        server.addr,
        "/e2e.Echo/Unary",
        &headers,
        frame(true, &compressed),
    )
    .await;
    assert_eq!(response.grpc_status(), Some("8"));
}
