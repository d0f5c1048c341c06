//! The example programs run to completion and print what they promise.

use std::process::Command;

/// Runs an example binary; panics with its output unless it succeeds.
fn run(binary: &str) -> String {
    let output = Command::new(binary).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{binary} failed:\n{stdout}\n{stderr}"
    );
    stdout + &stderr
}

#[test]
fn auth_refuses_missing_and_wrong_tokens_and_greets_the_signed_in_user() {
    let output = run(env!("CARGO_BIN_EXE_auth"));
    assert!(
        output.contains("with no token: Unauthenticated (missing bearer token)"),
        "{output}"
    );
    assert!(
        output.contains("with a wrong token: Unauthenticated (invalid bearer token)"),
        "{output}"
    );
    assert!(
        output.contains("with alice's token: Hello world, signed in as alice!"),
        "{output}"
    );
}

#[test]
fn rest_and_grpc_share_one_port() {
    let output = run(env!("CARGO_BIN_EXE_rest_and_grpc"));
    assert!(output.contains("gRPC: Hello world!"), "{output}");
    assert!(
        output.contains("REST /healthz: HTTP/1.1 200 OK ok"),
        "{output}"
    );
    assert!(
        output.contains("REST /greet/world: HTTP/1.1 200 OK Hello world, over REST!"),
        "{output}"
    );
    // rsrpc's span of the gRPC call, with its OpenTelemetry fields.
    assert!(output.contains("rpc.system=\"grpc\""), "{output}");
    assert!(output.contains("rpc.grpc.status_code=0"), "{output}");
    // REST requests are not gRPC calls: no gRPC span.
    assert_eq!(output.matches("grpc.server{").count(), 1, "{output}");
}

#[test]
fn the_demo_runs() {
    let output = run(env!("CARGO_BIN_EXE_demo"));
    for way in [
        "Grpc over Http2, in proto",
        "Grpc over Http1, in proto",
        "GrpcWeb over Http1, in proto",
        "Connect over Http1, in json",
        "Connect over Http2, in proto",
    ] {
        assert!(output.contains(way), "{way}: {output}");
    }
    // Every way calls every method, failures included.
    assert_eq!(
        output.matches("SayHello(\"\") -> InvalidArgument").count(),
        5,
        "{output}"
    );
    assert_eq!(
        output.matches("RecordRoute -> 4 points").count(),
        5,
        "{output}"
    );
}
