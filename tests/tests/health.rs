//! `rsrpc::health`: Check and Watch as a generated client sees them, the statuses a
//! graceful shutdown reports, and the real `grpc_health_probe` over cleartext and TLS.

use std::process::Output;
use std::time::Duration;

use rsrpc::health::{HealthReporter, health_reporter};
use rsrpc::server::NamedService;
use rsrpc::transport::ServerTlsConfig;
use rsrpc::{Channel, Code, Server, Status, Streaming};
use rsrpc_tests::e2e::echo_server::EchoServer;
use rsrpc_tests::echo::EchoService;
use rsrpc_tests::grpc::health::v1::health_check_response::ServingStatus;
use rsrpc_tests::grpc::health::v1::health_client::HealthClient;
use rsrpc_tests::grpc::health::v1::{HealthCheckRequest, HealthCheckResponse};
use rsrpc_tests::harness::{TestServer, slow};

/// The service the test server serves besides health.
type Echo = EchoServer<EchoService>;

/// A server of the echo service and the health service, with `builder`'s settings.
async fn health_server(builder: Server) -> (HealthReporter, TestServer) {
    let (reporter, health) = health_reporter();
    let server = builder.add_service(health);
    let server = TestServer::start_with(server, EchoService::default(), Default::default()).await;
    (reporter, server)
}

async fn health_client(server: &TestServer) -> HealthClient {
    HealthClient::new(Channel::connect(server.url()).await.unwrap())
}

fn request(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

async fn check(client: &HealthClient, service: &str) -> Result<ServingStatus, Status> {
    let response = client.check(request(service)).await?;
    Ok(response.get_ref().status())
}

async fn watch(client: &HealthClient, service: &str) -> Streaming<HealthCheckResponse> {
    client.watch(request(service)).await.unwrap().into_inner()
}

/// The next status a Watch sends, within a second.
async fn next_status(watch: &mut Streaming<HealthCheckResponse>) -> ServingStatus {
    let next = tokio::time::timeout(Duration::from_secs(1), watch.message());
    let message = next.await.expect("a status within a second").unwrap();
    message.expect("a status, not the end of the call").status()
}

/// Asserts that a Watch sends nothing more for a while.
async fn assert_quiet(watch: &mut Streaming<HealthCheckResponse>) {
    let next = tokio::time::timeout(Duration::from_millis(200), watch.message()).await;
    assert!(next.is_err(), "unexpected message: {next:?}");
}

#[tokio::test]
async fn check_answers_each_status_and_not_found_for_unknown_services() {
    let (reporter, server) = health_server(Server::builder()).await;
    let client = health_client(&server).await;
    assert_eq!(check(&client, "").await.unwrap(), ServingStatus::Serving);
    let unknown = check(&client, Echo::NAME).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    reporter.set_serving::<Echo>();
    assert_eq!(
        check(&client, Echo::NAME).await.unwrap(),
        ServingStatus::Serving
    );
    reporter.set_not_serving::<Echo>();
    let status = check(&client, Echo::NAME).await.unwrap();
    assert_eq!(status, ServingStatus::NotServing);
    reporter.clear_service_status(Echo::NAME);
    let cleared = check(&client, Echo::NAME).await.unwrap_err();
    assert_eq!(cleared.code(), Code::NotFound, "{cleared:?}");
}

#[tokio::test]
async fn a_long_unknown_name_is_not_found_without_the_name_in_the_status() {
    let (_health, server) = health_server(Server::builder()).await;
    let client = health_client(&server).await;
    let status = check(&client, &"a".repeat(64 * 1024)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

#[tokio::test]
async fn watch_sends_the_status_at_once_then_each_change() {
    let (reporter, server) = health_server(Server::builder()).await;
    let client = health_client(&server).await;
    let mut whole = watch(&client, "").await;
    assert_eq!(next_status(&mut whole).await, ServingStatus::Serving);
    let mut echo = watch(&client, Echo::NAME).await;
    assert_eq!(next_status(&mut echo).await, ServingStatus::ServiceUnknown);

    reporter.set_serving::<Echo>();
    assert_eq!(next_status(&mut echo).await, ServingStatus::Serving);
    // Neither a repeat nor another service's change is sent.
    reporter.set_serving::<Echo>();
    reporter.set_service_status("other.Service", rsrpc::health::ServingStatus::NotServing);
    assert_quiet(&mut echo).await;
    assert_quiet(&mut whole).await;

    reporter.set_not_serving::<Echo>();
    assert_eq!(next_status(&mut echo).await, ServingStatus::NotServing);
    reporter.clear_service_status(Echo::NAME);
    assert_eq!(next_status(&mut echo).await, ServingStatus::ServiceUnknown);
    reporter.set_service_status("", rsrpc::health::ServingStatus::NotServing);
    assert_eq!(next_status(&mut whole).await, ServingStatus::NotServing);
}

#[tokio::test]
async fn shutdown_reports_not_serving_then_ends_watches_without_holding_the_drain() {
    let builder = Server::builder().graceful_shutdown_timeout(Duration::from_secs(60));
    let (reporter, mut server) = health_server(builder).await;
    reporter.set_serving::<Echo>();
    let client = health_client(&server).await;
    let mut watches = [watch(&client, "").await, watch(&client, Echo::NAME).await];
    for watch in &mut watches {
        assert_eq!(next_status(watch).await, ServingStatus::Serving);
    }
    // A call under way when the drain begins, which the drain must wait for.
    let echo = server.client().await;
    let call = tokio::spawn(async move { echo.unary(slow(Duration::from_secs(2))).await });
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.trigger_shutdown();
    for watch in &mut watches {
        assert_eq!(next_status(watch).await, ServingStatus::NotServing);
        let end = tokio::time::timeout(Duration::from_secs(1), watch.message()).await;
        let status = end.expect("the watch ends at once").unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    assert!(
        !call.is_finished(),
        "the watches ended before the drain did"
    );
    // Changes during the drain are ignored: watchers were told NOT_SERVING for good.
    reporter.set_serving::<Echo>();
    call.await.unwrap().expect("the call under way completes");
    server.finished_within(Duration::from_secs(5)).await;
}

/// grpc_health_probe's exit statuses (its README): 3 when the RPC fails (NOT_FOUND for an
/// unknown service), 4 when the status is not SERVING.
const PROBE_RPC_FAILED: i32 = 3;
const PROBE_UNHEALTHY: i32 = 4;

/// Runs grpc_health_probe against `server` for `service`, with `extra` arguments.
async fn probe(server: &TestServer, service: &str, extra: &[&str]) -> Output {
    let addr = format!("-addr=localhost:{}", server.addr.port());
    tokio::process::Command::new(rsrpc_tests::tools::grpc_health_probe())
        .arg(addr)
        .arg(format!("-service={service}"))
        .args(["-connect-timeout=5s", "-rpc-timeout=5s"])
        .args(extra)
        .output()
        .await
        .expect("run grpc_health_probe")
}

/// Checks what grpc_health_probe reports for a serving `""` and service, an unknown one
/// and a NOT_SERVING one.
async fn assert_probe_sees_each_status(extra: &[&str], builder: Server) {
    let (reporter, server) = health_server(builder).await;
    reporter.set_serving::<Echo>();
    for service in ["", Echo::NAME] {
        let output = probe(&server, service, extra).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "`{service}`: {output:?}");
        assert!(stderr.contains("status: SERVING"), "`{service}`: {stderr}");
    }
    let unknown = probe(&server, "no.Such", extra).await;
    assert_eq!(unknown.status.code(), Some(PROBE_RPC_FAILED), "{unknown:?}");
    reporter.set_not_serving::<Echo>();
    let not_serving = probe(&server, Echo::NAME, extra).await;
    assert_eq!(
        not_serving.status.code(),
        Some(PROBE_UNHEALTHY),
        "{not_serving:?}"
    );
    let stderr = String::from_utf8_lossy(&not_serving.stderr);
    assert!(stderr.contains("NOT_SERVING"), "{stderr}");
}

#[tokio::test]
async fn grpc_health_probe_sees_each_status() {
    assert_probe_sees_each_status(&[], Server::builder()).await;
}

#[tokio::test]
async fn grpc_health_probe_sees_each_status_over_tls() {
    // A self-signed certificate, trusted as its own CA.
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.pem();
    let key = certified.signing_key.serialize_pem();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert).unwrap();
    let tls = ServerTlsConfig::from_pem(&cert, &key).unwrap();
    let ca_flag = format!("-tls-ca-cert={}", ca.display());
    let flags = ["-tls", &ca_flag, "-tls-server-name=localhost"];
    assert_probe_sees_each_status(&flags, Server::builder().tls_config(tls)).await;
}
