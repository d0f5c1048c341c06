//! A channel that heals: connectivity states, lazy connection and idleness, fail-fast
//! calls with the last connection error, wait-for-ready, and recovery from a server
//! that dies and comes back on the same port, over HTTP/2 and HTTP/1.1. Bounds like
//! "within 10 s" only check that something happens at all; the recovery bound is the
//! issue's requirement, with the backoff capped as it allows.

use std::net::SocketAddr;
use std::time::Duration;

use rsrpc::client::{BackoffConfig, ConnectivityState};
use rsrpc::transport::HttpVersion;
use rsrpc::{Channel, Code, Request};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::harness::{default_server, server_on, text};
use rsrpc_tests::recovery::{self, Refuser, quick_backoff};
use tokio::time::Instant;

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);

/// A loopback address no server listens on (bound, then released).
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

async fn wait_for_state(channel: &Channel, wanted: ConnectivityState) {
    let wait = async {
        let mut state = channel.state();
        while state != wanted {
            state = channel.wait_for_state_change(state).await;
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("the channel never became {wanted}"));
}

#[tokio::test]
async fn a_lazy_channel_starts_idle_and_connects_on_its_first_call() {
    let server = default_server().await;
    let channel = Channel::builder(server.url())
        .unwrap()
        .connect_lazy()
        .unwrap();
    assert_eq!(channel.state(), ConnectivityState::Idle);
    // Reading the state does not connect.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(channel.state(), ConnectivityState::Idle);
    let client = EchoClient::new(channel.clone());
    client.unary(text("hello")).await.unwrap();
    assert_eq!(channel.state(), ConnectivityState::Ready);
}

#[tokio::test]
async fn connect_if_idle_goes_through_connecting_to_ready() {
    let server = default_server().await;
    let channel = Channel::builder(server.url())
        .unwrap()
        .connect_lazy()
        .unwrap();
    let mut states = Vec::new();
    let watch = {
        let channel = channel.clone();
        tokio::spawn(async move {
            let mut state = ConnectivityState::Idle;
            while state != ConnectivityState::Ready {
                state = channel.wait_for_state_change(state).await;
                states.push(state);
            }
            states
        })
    };
    tokio::task::yield_now().await;
    channel.connect_if_idle();
    let states = tokio::time::timeout(PATIENCE, watch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        states,
        [ConnectivityState::Connecting, ConnectivityState::Ready]
    );
}

#[tokio::test]
async fn calls_fail_fast_in_transient_failure_with_the_last_error() {
    let addr = free_addr();
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
        .unwrap();
    let client = EchoClient::new(channel.clone());
    // No deadline: failing fast, not a timeout, must end the call.
    let first = tokio::time::timeout(PATIENCE, client.unary(text("nobody")))
        .await
        .expect("the call fails instead of waiting")
        .unwrap_err();
    assert_eq!(first.code(), Code::Unavailable, "{first:?}");
    assert!(
        first.message().contains(&addr.to_string()),
        "the message names what failed: {first:?}"
    );
    assert_eq!(channel.state(), ConnectivityState::TransientFailure);
    // In transient failure, the next call fails without waiting for the reconnection
    // (due after the 1 s backoff).
    let started = Instant::now();
    let second = client.unary(text("still nobody")).await.unwrap_err();
    assert_eq!(second.code(), Code::Unavailable);
    assert!(second.message().contains("last error"), "{second:?}");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the call waited"
    );
    // `connect` reports the same failure.
    let error = Channel::connect(format!("http://{addr}"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("failed to connect"), "{error}");
}

#[tokio::test]
async fn a_call_that_waits_for_ready_succeeds_once_the_server_comes_up() {
    let addr = free_addr();
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .backoff(quick_backoff())
        .connect_lazy()
        .unwrap();
    let client = EchoClient::new(channel.clone());
    let mut request = Request::new(text("patient"));
    request.set_wait_for_ready(true);
    request.set_timeout(PATIENCE);
    let call = tokio::spawn(async move { client.unary(request).await });
    wait_for_state(&channel, ConnectivityState::TransientFailure).await;
    assert!(
        !call.is_finished(),
        "the call waits through transient failure"
    );
    let _server = server_on(addr).await;
    let reply = call.await.unwrap().unwrap();
    assert_eq!(reply.into_inner().text, "patient");
    assert_eq!(channel.state(), ConnectivityState::Ready);
}

#[tokio::test]
async fn a_call_that_waits_for_ready_ends_at_its_deadline() {
    let addr = free_addr();
    let client = EchoClient::new(
        Channel::builder(format!("http://{addr}"))
            .unwrap()
            .connect_lazy()
            .unwrap(),
    );
    let mut request = Request::new(text("patient"));
    request.set_wait_for_ready(true);
    request.set_timeout(Duration::from_millis(300));
    let status = tokio::time::timeout(PATIENCE, client.unary(request))
        .await
        .expect("the deadline ends the wait")
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
}

#[tokio::test]
async fn an_idle_channel_closes_its_connection_and_reconnects_on_the_next_call() {
    let server = default_server().await;
    let channel = Channel::builder(server.url())
        .unwrap()
        .idle_timeout(Some(Duration::from_millis(200)))
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel.clone());
    // A call longer than the idle timeout keeps the channel active.
    let mut slow = text("slow");
    slow.sleep_ms = 600;
    client.unary(slow).await.unwrap();
    assert_eq!(channel.state(), ConnectivityState::Ready);
    wait_for_state(&channel, ConnectivityState::Idle).await;
    client.unary(text("again")).await.unwrap();
    assert_eq!(channel.state(), ConnectivityState::Ready);
}

#[tokio::test]
async fn the_channel_recovers_when_the_server_restarts_over_http2() {
    recovers_when_the_server_restarts(HttpVersion::Http2).await;
}

#[tokio::test]
async fn the_channel_recovers_when_the_server_restarts_over_http1() {
    recovers_when_the_server_restarts(HttpVersion::Http1).await;
}

/// Kills the server under load and restarts it on the same port 2 s later: see
/// [`rsrpc_tests::recovery`] for the bounds.
async fn recovers_when_the_server_restarts(version: HttpVersion) {
    const DEADLINE: Duration = Duration::from_millis(500);
    let server = default_server().await;
    let addr = server.addr;
    let channel = Channel::builder(server.url())
        .unwrap()
        .http_version(version)
        .backoff(recovery::capped_backoff())
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    let call = recovery::unary_load(client, DEADLINE);
    let fault = async {
        server.kill().await;
        tokio::time::sleep(recovery::DOWN_FOR).await;
        server_on(addr).await
    };
    let (recovery, _restarted) = recovery::through_fault(call, fault).await;
    let (took, failures) = recovery.check(DEADLINE);
    println!(
        "{version:?}: first success {took:?} after the server listened again; \
         {failures} of {} calls failed",
        recovery::CALLS
    );
}

#[tokio::test]
async fn the_backoff_starts_over_after_a_successful_connection() {
    let addr = free_addr();
    // 100 ms, then 400 ms, 1.6 s, 6.4 s: no jitter, so the waits are exact.
    let backoff = BackoffConfig::default()
        .base_delay(Duration::from_millis(100))
        .multiplier(4.0)
        .jitter(0.0);
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .backoff(backoff)
        .connect_lazy()
        .unwrap();
    let client = EchoClient::new(channel.clone());

    // Three failed attempts grow the backoff to 1.6 s.
    let mut refuser = Refuser::start(addr).await;
    let _ = client.unary(text("refused")).await;
    for _ in 0..3 {
        refuser.next_attempt().await;
    }
    refuser.stop().await;
    let server = server_on(addr).await;
    wait_for_state(&channel, ConnectivityState::Ready).await;
    client.unary(text("up")).await.unwrap();
    // A connection counts as a success once it has lived the base delay.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Failing again: the first retry comes 100 ms after the first failure, not 6.4 s.
    server.kill().await;
    let mut refuser = Refuser::start(addr).await;
    let _ = client.unary(text("refused again")).await;
    let first = refuser.next_attempt().await;
    let retry = refuser.next_attempt().await;
    let waited = retry - first;
    assert!(
        waited < Duration::from_secs(1),
        "the backoff did not start over: the retry came after {waited:?}"
    );
}

#[tokio::test]
async fn a_server_that_accepts_and_closes_at_once_is_retried_with_backoff() {
    let addr = free_addr();
    let mut refuser = Refuser::start(addr).await;
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
        .unwrap();
    let client = EchoClient::new(channel.clone());
    let status = client.unary(text("refused")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("HTTP/2 handshake failed"),
        "{status:?}"
    );
    assert_eq!(channel.state(), ConnectivityState::TransientFailure);
    // Not a connection that counts as made (and resets the backoff): within 1.5 s the
    // default backoff allows the first attempt and one retry after 1 s ± 20%.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut attempts = 0;
    while refuser.attempts.try_recv().is_ok() {
        attempts += 1;
    }
    assert!(
        (1..=2).contains(&attempts),
        "{attempts} connection attempts in 1.5 s"
    );
}
