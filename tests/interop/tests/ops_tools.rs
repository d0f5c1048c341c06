//! `interop-server` answers the tools operators point at a gRPC server: grpc_health_probe
//! finds `grpc.testing.TestService` SERVING, and grpcurl lists, through reflection, every
//! service it serves and calls one.

mod spawned;

use std::process::{Command, Output};

use rsrpc_tests::tools::{grpc_health_probe, grpcurl};
use spawned::interop_server;

fn run(program: &std::path::Path, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test]
async fn grpc_health_probe_finds_the_test_service_serving() {
    let server = interop_server().await;
    let addr = format!("-addr=127.0.0.1:{}", server.port);
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
    let server = interop_server().await;
    let addr = format!("127.0.0.1:{}", server.port);
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
