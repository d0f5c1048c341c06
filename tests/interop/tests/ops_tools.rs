//! `interop-server` answers the tools operators point at a gRPC server: grpc_health_probe
//! finds `grpc.testing.TestService` SERVING, and grpcurl lists, through reflection, every
//! service it serves and calls one.

use std::process::{Command, Output, Stdio};

use rsrpc_tests::tools::{grpc_health_probe, grpcurl};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Runs `interop-server` on a free port until dropped; returns it and its port.
async fn interop_server() -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_interop-server"))
        .arg(format!("--port={port}"))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let listening = lines.next_line().await.unwrap().unwrap();
    assert!(listening.contains("listening"), "{listening}");
    (server, port)
}

fn run(program: &std::path::Path, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test]
async fn grpc_health_probe_finds_the_test_service_serving() {
    let (_server, port) = interop_server().await;
    let addr = format!("-addr=127.0.0.1:{port}");
    let probe = grpc_health_probe();
    for service in ["", "grpc.testing.TestService"] {
        let output = run(&probe, &[&addr, &format!("-service={service}")]);
        assert!(output.status.success(), "{service:?}: {}", text(&output));
        assert!(text(&output).contains("SERVING"), "{}", text(&output));
    }
    let unknown = run(&probe, &[&addr, "-service=grpc.testing.Nothing"]);
    assert!(!unknown.status.success(), "{}", text(&unknown));
}

#[tokio::test]
async fn grpcurl_lists_every_service_through_reflection_and_calls_one() {
    let (_server, port) = interop_server().await;
    let addr = format!("127.0.0.1:{port}");
    let grpcurl = grpcurl();
    let list = run(&grpcurl, &["-plaintext", &addr, "list"]);
    assert!(list.status.success(), "{}", text(&list));
    let services: Vec<String> = text(&list).lines().map(str::to_owned).collect();
    for service in [
        "grpc.testing.TestService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            services.iter().any(|listed| listed == service),
            "{services:?}"
        );
    }
    let call = run(
        &grpcurl,
        &[
            "-plaintext",
            "-d",
            r#"{"response_size": 3}"#,
            &addr,
            "grpc.testing.TestService/UnaryCall",
        ],
    );
    assert!(call.status.success(), "{}", text(&call));
    assert!(text(&call).contains(r#""body": "AAAA""#), "{}", text(&call));
}
