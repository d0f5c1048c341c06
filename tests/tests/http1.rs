//! gRPC over HTTP/1.1, the Armeria way: every call kind, full duplex, trailers decided
//! late, requests without `te: trailers`, bad input, and the client's connection pool.

use std::collections::HashSet;
use std::time::Duration;

use prost::Message;
use rsrpc::{Code, Request};
use rsrpc_tests::e2e::EchoRequest;
use rsrpc_tests::harness::{
    TestServer, assert_full_duplex, default_server, frame, http1_exchange, http1_hang_up,
    http1_request, text,
};
use tokio_stream::StreamExt;

const GRPC_HEADERS: &str = "content-type: application/grpc\r\nte: trailers\r\n";
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn every_call_kind_works_over_http1() {
    let server = default_server().await;
    let client = server.http1_client(4).await;
    assert_eq!(
        client.unary(text("one")).await.unwrap().get_ref().text,
        "one"
    );

    let request = EchoRequest {
        count: 100,
        ..text("s")
    };
    let replies: Vec<_> = client
        .server_stream(request)
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies.len(), 100);
    assert_eq!(replies[99].as_ref().unwrap().text, "s 99");

    let requests = tokio_stream::iter(["a", "b", "c"].map(text));
    let joined = client.client_stream(requests).await.unwrap();
    assert_eq!(joined.get_ref().text, "a,b,c");
}

#[tokio::test]
async fn bidi_is_full_duplex_over_http1() {
    let server = default_server().await;
    assert_full_duplex(&server.http1_client(1).await).await;
}

#[tokio::test]
async fn late_trailers_reach_the_client_over_both_versions() {
    let server = default_server().await;
    for client in [server.http1_client(1).await, server.client().await] {
        let mut request = Request::new(EchoRequest {
            count: 3,
            ..text("t")
        });
        request
            .metadata_mut()
            .insert("x-echo-early", "yes")
            .unwrap();
        let mut stream = client.server_stream(request).await.unwrap().into_inner();
        while stream.message().await.unwrap().is_some() {}
        let trailers = stream.trailers().unwrap();
        assert_eq!(trailers.get("x-late-sent"), Some("2"));
        assert_eq!(trailers.get("x-trailer-early"), Some("yes"));

        // A failure at the end carries metadata named only then.
        let mut request = Request::new(EchoRequest {
            count: 2,
            fail_code: Code::DataLoss as i32,
            fail_message: "lost ü".into(),
            ..text("f")
        });
        request.metadata_mut().insert("x-echo-why", "late").unwrap();
        let items: Vec<_> = client
            .server_stream(request)
            .await
            .unwrap()
            .into_inner()
            .collect()
            .await;
        let status = items.last().unwrap().as_ref().unwrap_err();
        assert_eq!(status.code(), Code::DataLoss);
        assert_eq!(status.message(), "lost ü");
        assert_eq!(status.metadata().get("x-trailer-why"), Some("late"));
        assert_eq!(status.metadata().get("x-late-sent"), Some("1"));
    }
}

#[tokio::test]
async fn raw_http1_response_is_chunked_with_trailers() {
    let server = default_server().await;
    let body = frame(false, &text("raw").encode_to_vec());
    let request = http1_request("/e2e.Echo/Unary", GRPC_HEADERS, &body);
    let response = http1_exchange(server.addr, &request).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("transfer-encoding: chunked\r\n"),
        "{response}"
    );
    assert!(
        response.ends_with("0\r\ngrpc-status: 0\r\n\r\n"),
        "{response}"
    );
}

#[tokio::test]
async fn request_without_te_trailers_gets_the_status_in_the_headers() {
    let server = default_server().await;
    let body = frame(false, &text("plain").encode_to_vec());
    let request = http1_request(
        "/e2e.Echo/Unary",
        "content-type: application/grpc\r\n",
        &body,
    );
    let response = http1_exchange(server.addr, &request).await;
    let (head, rest) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("grpc-status: 0"), "{head}");
    assert!(head.contains("content-length: "), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert!(rest.contains("plain"));

    let failing = EchoRequest {
        fail_code: Code::NotFound as i32,
        fail_message: "nothing here".into(),
        count: 2,
        ..text("x")
    };
    let body = frame(false, &failing.encode_to_vec());
    let request = http1_request(
        "/e2e.Echo/ServerStream",
        "content-type: application/grpc\r\n",
        &body,
    );
    let response = http1_exchange(server.addr, &request).await;
    let head = response.split_once("\r\n\r\n").unwrap().0;
    assert!(head.contains("grpc-status: 5"), "{head}");
    assert!(head.contains("grpc-message: nothing here"), "{head}");
}

/// After each bad request, the server must still serve a good one on a new connection.
async fn assert_still_serving(server: &TestServer) {
    let client = server.http1_client(1).await;
    assert_eq!(client.unary(text("ok")).await.unwrap().get_ref().text, "ok");
}

#[tokio::test]
async fn bad_http1_input_gets_the_right_error() {
    let server = default_server().await;

    let response = http1_exchange(server.addr, b"GARBAGE\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert_still_serving(&server).await;

    let response = http1_exchange(server.addr, b"POST /e2e.Echo/Unary HTTP/1.0\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 505 "), "{response}");

    let body = frame(false, &text("x").encode_to_vec());
    let request = http1_request("/e2e.Echo/Unary", "content-type: text/plain\r\n", &body);
    let response = http1_exchange(server.addr, &request).await;
    assert!(response.starts_with("HTTP/1.1 415 "), "{response}");

    let oversized = [0u8, 0xff, 0xff, 0xff, 0xff];
    let request = http1_request("/e2e.Echo/Unary", GRPC_HEADERS, &oversized);
    let response = http1_exchange(server.addr, &request).await;
    assert!(response.contains("grpc-status: 8"), "{response}");

    let malformed = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\n{GRPC_HEADERS}transfer-encoding: chunked\r\n\r\nzz\r\n"
    );
    let response = http1_exchange(server.addr, malformed.as_bytes()).await;
    assert!(response.contains("grpc-status: 13"), "{response}");

    // A chunk cut short, then the client hangs up.
    let truncated = format!(
        "POST /e2e.Echo/Unary HTTP/1.1\r\n{GRPC_HEADERS}transfer-encoding: chunked\r\n\r\n20\r\nshort"
    );
    http1_hang_up(server.addr, truncated.as_bytes()).await;
    // A head cut short.
    http1_hang_up(server.addr, b"POST /e2e.Echo/Unary HTTP/1.1\r\ncontent-ty").await;
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn pool_reuses_connections_and_respects_its_limit() {
    let server = default_server().await;
    let client = server.http1_client(2).await;
    let peer = |reply: rsrpc::Response<rsrpc_tests::e2e::EchoReply>| reply.into_inner().peer;

    let first = peer(client.unary(text("a")).await.unwrap());
    for _ in 0..5 {
        assert_eq!(
            peer(client.unary(text("b")).await.unwrap()),
            first,
            "reused"
        );
    }

    let calls = (0..6).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let slow = EchoRequest {
                sleep_ms: 100,
                ..text("slow")
            };
            client.unary(slow).await
        })
    });
    let mut peers = HashSet::new();
    for call in calls {
        peers.insert(peer(call.await.unwrap().unwrap()));
    }
    assert!(peers.len() <= 2, "{peers:?} exceeds the limit of 2");
}

#[tokio::test]
async fn cancelling_a_call_closes_its_connection() {
    let server = default_server().await;
    let client = server.http1_client(1).await;
    let before = client.unary(text("a")).await.unwrap().into_inner().peer;

    let call = tokio::spawn({
        let client = client.clone();
        async move {
            let slow = EchoRequest {
                sleep_ms: 60_000,
                ..text("slow")
            };
            client.unary(slow).await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    call.abort();
    tokio::time::timeout(PATIENCE, server.service.wait_cancelled(1))
        .await
        .expect("closing the connection stops the handler");

    let mut timed_out = Request::new(EchoRequest {
        sleep_ms: 60_000,
        ..text("slow")
    });
    timed_out.set_timeout(Duration::from_millis(100));
    let status = client.unary(timed_out).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    tokio::time::timeout(PATIENCE, server.service.wait_cancelled(2))
        .await
        .expect("the timed-out call's handler is stopped too");

    let after = client.unary(text("b")).await.unwrap().into_inner().peer;
    assert_ne!(before, after, "a cancelled call's connection is not reused");
}

#[tokio::test]
async fn answers_that_leave_the_request_unread_keep_the_connection() {
    let server = default_server().await;
    let channel = rsrpc::Channel::builder(server.url())
        .unwrap()
        .http_version(rsrpc::transport::HttpVersion::Http1)
        .max_http1_connections(1)
        .connect()
        .await
        .unwrap();
    let unregistered =
        rsrpc_tests::e2e::unregistered_client::UnregisteredClient::new(channel.clone());
    let echo = rsrpc_tests::e2e::echo_client::EchoClient::new(channel);
    let first = echo.unary(text("a")).await.unwrap().into_inner().peer;
    for _ in 0..20 {
        // Answered before the request body is read: the body is skipped, the
        // connection kept.
        let status = unregistered.call(text("x")).await.unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented);
        let peer = echo.unary(text("b")).await.unwrap().into_inner().peer;
        assert_eq!(peer, first, "the connection was closed");
    }
}
