//! gRPC-Web and Connect, in protobuf and JSON, over HTTP/1.1 and HTTP/2: rsrpc's channel
//! against rsrpc's server, and raw requests where a protocol's HTTP form matters.

use std::time::Duration;

use rsrpc::client::Protocol;
use rsrpc::codec::Format;
use rsrpc::transport::HttpVersion;
use rsrpc::{Channel, Code, Request};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::harness::{TestServer, default_server, http1_exchange, slow, text};
use tokio_stream::StreamExt;

const WEB_PROTOCOLS: [Protocol; 3] = [Protocol::GrpcWeb, Protocol::GrpcWebText, Protocol::Connect];
const FORMATS: [Format; 2] = [Format::Proto, Format::Json];
const VERSIONS: [HttpVersion; 2] = [HttpVersion::Http2, HttpVersion::Http1];

/// A client of `server` speaking `protocol` in `format` over `version`.
async fn client_with(
    server: &TestServer,
    protocol: Protocol,
    format: Format,
    version: HttpVersion,
) -> EchoClient {
    let channel = Channel::builder(server.url())
        .unwrap()
        .protocol(protocol)
        .format(format)
        .http_version(version)
        .connect()
        .await
        .unwrap();
    EchoClient::new(channel)
}

/// Every combination of web protocol, format and HTTP version.
fn combinations() -> impl Iterator<Item = (Protocol, Format, HttpVersion)> {
    WEB_PROTOCOLS.into_iter().flat_map(|protocol| {
        FORMATS.into_iter().flat_map(move |format| {
            VERSIONS
                .into_iter()
                .map(move |version| (protocol, format, version))
        })
    })
}

fn requests(texts: &[&str]) -> impl tokio_stream::Stream<Item = EchoRequest> + Send + 'static {
    let requests: Vec<EchoRequest> = texts.iter().map(|t| text(t)).collect();
    tokio_stream::iter(requests)
}

#[tokio::test]
async fn every_call_kind_works_in_every_protocol_format_and_version() {
    let server = default_server().await;
    for (protocol, format, version) in combinations() {
        let case = format!("{protocol:?} {format:?} {version:?}");
        let client = client_with(&server, protocol, format, version).await;

        let mut request = Request::new(text("héllo"));
        request.metadata_mut().insert("x-echo-tag", "t1").unwrap();
        let reply = client.unary(request).await.expect(&case);
        assert_eq!(reply.get_ref().text, "héllo", "{case}");

        let request = EchoRequest {
            count: 3,
            ..text("s")
        };
        let mut stream = client
            .server_stream(request)
            .await
            .expect(&case)
            .into_inner();
        let mut texts = Vec::new();
        while let Some(reply) = stream.next().await {
            texts.push(reply.expect(&case).text);
        }
        assert_eq!(texts.len(), 3, "{case}");
        let trailers = stream.trailers().expect(&case);
        assert!(
            trailers.get("x-late-sent").is_some(),
            "{case}: {trailers:?}"
        );

        let reply = client
            .client_stream(requests(&["a", "b", "c"]))
            .await
            .expect(&case);
        assert_eq!(reply.get_ref().text, "a,b,c", "{case}");

        let mut replies = client
            .bidi(requests(&["x", "y"]))
            .await
            .expect(&case)
            .into_inner();
        let mut texts = Vec::new();
        while let Some(reply) = replies.next().await {
            texts.push(reply.expect(&case).text);
        }
        assert_eq!(texts, ["x", "y"], "{case}");
    }
}

#[tokio::test]
async fn errors_keep_their_code_message_and_metadata() {
    let server = default_server().await;
    for (protocol, format, version) in combinations() {
        let case = format!("{protocol:?} {format:?} {version:?}");
        let client = client_with(&server, protocol, format, version).await;
        let mut request = Request::new(EchoRequest {
            fail_code: Code::NotFound as i32,
            fail_message: "nothing here: 100% sure".into(),
            ..text("x")
        });
        request
            .metadata_mut()
            .insert("x-echo-why", "because")
            .unwrap();
        let status = client.unary(request).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{case}: {status:?}");
        assert_eq!(status.message(), "nothing here: 100% sure", "{case}");
        let why = status.metadata().get("x-trailer-why");
        assert_eq!(why, Some("because"), "{case}: {status:?}");

        // A stream that fails after its messages delivers them, then the error.
        let request = EchoRequest {
            count: 2,
            fail_code: Code::Aborted as i32,
            ..text("s")
        };
        let mut stream = client
            .server_stream(request)
            .await
            .expect(&case)
            .into_inner();
        assert!(stream.next().await.unwrap().is_ok(), "{case}");
        assert!(stream.next().await.unwrap().is_ok(), "{case}");
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::Aborted, "{case}");
    }
}

#[tokio::test]
async fn deadlines_travel_in_each_protocol() {
    let server = default_server().await;
    for protocol in WEB_PROTOCOLS {
        let client = client_with(&server, protocol, Format::Proto, HttpVersion::Http1).await;
        let mut request = slow(Duration::from_secs(5));
        request.set_timeout(Duration::from_millis(100));
        let status = client.unary(request).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::DeadlineExceeded,
            "{protocol:?}: {status:?}"
        );
    }
}

#[tokio::test]
async fn grpc_carries_json_too() {
    let server = default_server().await;
    for version in VERSIONS {
        let client = client_with(&server, Protocol::Grpc, Format::Json, version).await;
        let reply = client.unary(text("json")).await.unwrap();
        assert_eq!(reply.get_ref().text, "json");
    }
}

#[tokio::test]
async fn connect_get_serves_methods_without_side_effects_only() {
    let server = default_server().await;
    for format in FORMATS {
        let channel = Channel::builder(server.url())
            .unwrap()
            .protocol(Protocol::Connect)
            .format(format)
            .connect_get(true)
            .connect()
            .await
            .unwrap();
        let reply = EchoClient::new(channel).unary(text("got")).await.unwrap();
        assert_eq!(reply.get_ref().text, "got");
    }
    // A GET to a method with side effects (or a stream) is refused.
    let exchange = http1_exchange(
        server.addr,
        b"GET /e2e.Echo/ServerStream?encoding=json&message=%7B%7D HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(exchange.starts_with("HTTP/1.1 405"), "{exchange}");
    assert!(
        exchange.to_ascii_lowercase().contains("allow: post"),
        "{exchange}"
    );
}

#[tokio::test]
async fn connect_get_replies_in_the_format_its_query_names() {
    // connect-web refuses a reply whose content type is not the query's encoding; rsrpc
    // once labelled every GET's reply `application/proto`.
    let server = default_server().await;
    let exchange = http1_exchange(
        server.addr,
        b"GET /e2e.Echo/Unary?connect=v1&encoding=json&message=%7B%22text%22%3A%22got%22%7D HTTP/1.1\r\n\
          host: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(exchange.starts_with("HTTP/1.1 200"), "{exchange}");
    assert!(
        exchange.contains("content-type: application/json\r\n"),
        "{exchange}"
    );
    assert!(exchange.contains(r#"{"text":"got","#), "{exchange}");

    let exchange = http1_exchange(
        server.addr,
        b"GET /e2e.Echo/Unary?connect=v1&encoding=proto&base64=1&message=CgNnb3Q HTTP/1.1\r\n\
          host: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(exchange.starts_with("HTTP/1.1 200"), "{exchange}");
    assert!(
        exchange.contains("content-type: application/proto\r\n"),
        "{exchange}"
    );
}

#[tokio::test]
async fn connect_unary_errors_are_json_with_the_codes_http_status() {
    let server = default_server().await;
    let body = br#"{"text":"x","failCode":5,"failMessage":"gone"}"#;
    let request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n\
         connect-protocol-version: 1\r\ncontent-length: {}\r\n\r\n{}",
        body.len(),
        std::str::from_utf8(body).unwrap()
    );
    let exchange = http1_exchange(server.addr, request.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 404"), "{exchange}");
    assert!(exchange.contains(r#""code":"not_found""#), "{exchange}");
    assert!(exchange.contains(r#""message":"gone""#), "{exchange}");

    let request = "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/xml\r\n\
                   content-length: 4\r\n\r\n<a/>";
    let exchange = http1_exchange(server.addr, request.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 415"), "{exchange}");
}

#[tokio::test]
async fn grpc_web_answers_an_unknown_service_in_its_own_terms() {
    let server = default_server().await;
    let request = "POST /no.Such/Method HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/grpc-web+proto\r\n\
                   content-length: 5\r\n\r\n\0\0\0\0\0";
    let exchange = http1_exchange(server.addr, request.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 200"), "{exchange}");
    assert!(exchange.contains("grpc-status: 12"), "{exchange}");
    assert!(
        exchange.contains("application/grpc-web+proto"),
        "{exchange}"
    );
}

#[tokio::test]
async fn json_replies_use_the_canonical_mapping() {
    let server = default_server().await;
    let body = br#"{"text":"json","count":1}"#;
    let request = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{}",
        body.len(),
        std::str::from_utf8(body).unwrap()
    );
    let exchange = http1_exchange(server.addr, request.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 200"), "{exchange}");
    assert!(
        exchange.contains("content-type: application/json"),
        "{exchange}"
    );
    let json = exchange.split("\r\n\r\n").nth(1).unwrap();
    let reply: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(reply["text"], "json");
    assert!(
        reply.get("requestCompressed").is_none(),
        "defaults are left out: {reply}"
    );
}

#[tokio::test]
async fn browsers_of_allowed_origins_may_call_across_origins() {
    use rsrpc::server::Cors;
    use rsrpc_tests::echo::EchoService;

    let server = TestServer::start_with(
        rsrpc::Server::builder().cors(Cors::allow_origins(["http://page.test:8080"])),
        EchoService::default(),
        rsrpc::server::ServiceConfig::default(),
    )
    .await;
    let preflight = "OPTIONS /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
                     origin: http://page.test:8080\r\naccess-control-request-method: POST\r\n\
                     access-control-request-headers: content-type,x-grpc-web\r\n\r\n";
    let exchange = http1_exchange(server.addr, preflight.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 204"), "{exchange}");
    assert!(
        exchange.contains("access-control-allow-origin: http://page.test:8080"),
        "{exchange}"
    );
    assert!(
        exchange.contains("access-control-allow-headers: content-type,x-grpc-web"),
        "{exchange}"
    );

    let refused = preflight.replace("page.test", "evil.test");
    let exchange = http1_exchange(server.addr, refused.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 403"), "{exchange}");
    assert!(
        !exchange.contains("access-control-allow-origin"),
        "{exchange}"
    );

    let call = "POST /e2e.Echo/Unary HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
                origin: http://page.test:8080\r\ncontent-type: application/grpc-web+proto\r\n\
                content-length: 5\r\n\r\n\0\0\0\0\0";
    let exchange = http1_exchange(server.addr, call.as_bytes()).await;
    assert!(exchange.starts_with("HTTP/1.1 200"), "{exchange}");
    assert!(
        exchange.contains("access-control-allow-origin: http://page.test:8080"),
        "{exchange}"
    );
    let exposed = exchange
        .lines()
        .find(|line| line.starts_with("access-control-expose-headers"))
        .unwrap_or_default();
    assert!(exposed.contains("grpc-accept-encoding"), "{exchange}");
}
