//! `interop-server` stops gracefully on SIGTERM and SIGINT: a call under way finishes,
//! then the process exits with success.

mod spawned;

use std::process::Command;
use std::time::Duration;

use interop::grpc::testing::test_service_client::TestServiceClient;
use interop::grpc::testing::{ResponseParameters, StreamingOutputCallRequest};

use spawned::{InteropServer, interop_server};

/// Starts `interop-server` on a free port, with a call streaming from it, sends `signal`
/// mid-call, and checks the call completes and the process exits with success.
async fn stops_gracefully_on(signal: &str) {
    let InteropServer {
        process: mut server,
        port,
        stderr: mut lines,
    } = interop_server().await;

    let client = TestServiceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    // Five messages, 200 ms apart: the signal arrives while they are being sent.
    let paced = ResponseParameters {
        size: 10,
        interval_us: 200_000,
        ..Default::default()
    };
    let request = StreamingOutputCallRequest {
        response_parameters: vec![paced; 5],
        ..Default::default()
    };
    let mut stream = client
        .streaming_output_call(request)
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());

    let pid = server.id().unwrap().to_string();
    let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
    assert!(sent.success());

    let mut received = 1;
    while stream.message().await.unwrap().is_some() {
        received += 1;
    }
    assert_eq!(received, 5, "the call under way was cut short");
    let status = tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("the server exits after the drain")
        .unwrap();
    assert!(status.success(), "{signal}: {status}");
    let said = lines.next_line().await.unwrap().unwrap_or_default();
    assert!(said.contains("shut down"), "{said}");
}

#[tokio::test]
async fn sigterm_drains_then_exits_with_success() {
    stops_gracefully_on("-TERM").await;
}

#[tokio::test]
async fn sigint_drains_then_exits_with_success() {
    stops_gracefully_on("-INT").await;
}
