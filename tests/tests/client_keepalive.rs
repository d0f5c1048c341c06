//! Client keepalive on HTTP/2: a call on a connection whose peer went silent fails with
//! `UNAVAILABLE` instead of hanging, and `keep_alive_while_idle` decides whether an idle
//! connection is checked too. The silent peer is a proxy that stops forwarding without
//! closing. TCP keepalive, HTTP/1.1's only way to notice a dead peer, is checked on the
//! kernel's timer. Bounds like "within 10 s" only check that something happens at all.

use std::time::Duration;

use rsrpc::{Channel, Code};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::harness::{default_server, text};
use rsrpc_tests::proxy::BlackHoleProxy;

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);
/// Keepalive interval and timeout short enough for tests to wait out.
const SHORT: Duration = Duration::from_millis(200);

/// A client through `proxy`, PINGing every `SHORT` when `keepalive`, with `while_idle`.
async fn client(proxy: &BlackHoleProxy, keepalive: bool, while_idle: bool) -> EchoClient {
    let mut builder = Channel::builder(format!("http://{}", proxy.addr)).unwrap();
    if keepalive {
        builder = builder
            .http2_keep_alive_interval(SHORT)
            .keep_alive_timeout(SHORT)
            .keep_alive_while_idle(while_idle);
    }
    EchoClient::new(builder.connect().await.unwrap())
}

#[tokio::test]
async fn a_call_into_a_black_hole_fails_unavailable_instead_of_hanging() {
    let server = default_server().await;
    let proxy = BlackHoleProxy::start(server.addr).await;
    let client = client(&proxy, true, false).await;
    client.unary(text("before")).await.unwrap();
    proxy.black_hole();
    let call = client.unary(text("into the hole"));
    let status = tokio::time::timeout(PATIENCE, call)
        .await
        .expect("the call hangs")
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    // The channel reconnects for the next call.
    tokio::time::timeout(PATIENCE, client.unary(text("after")))
        .await
        .expect("the next call hangs")
        .unwrap();
    assert_eq!(proxy.connections(), 2);
}

#[tokio::test]
async fn without_keepalive_a_call_into_a_black_hole_waits() {
    let server = default_server().await;
    let proxy = BlackHoleProxy::start(server.addr).await;
    let client = client(&proxy, false, false).await;
    client.unary(text("before")).await.unwrap();
    proxy.black_hole();
    let call = client.unary(text("into the hole"));
    let waited = tokio::time::timeout(SHORT * 6, call).await;
    assert!(waited.is_err(), "the call ended: {waited:?}");
}

#[tokio::test]
async fn keep_alive_while_idle_checks_a_connection_with_no_call() {
    let server = default_server().await;
    // While idle: the silent connection is found dead and dropped before the next call,
    // which opens a new one.
    let proxy = BlackHoleProxy::start(server.addr).await;
    let idle_checked = client(&proxy, true, true).await;
    idle_checked.unary(text("before")).await.unwrap();
    proxy.black_hole();
    tokio::time::sleep(SHORT * 6).await;
    tokio::time::timeout(PATIENCE, idle_checked.unary(text("after")))
        .await
        .expect("the call went into the dead connection")
        .unwrap();
    assert_eq!(proxy.connections(), 2);

    // Not while idle: nothing checks the connection until the next call, which goes on it
    // and fails once its PING goes unanswered.
    let proxy = BlackHoleProxy::start(server.addr).await;
    let unchecked = client(&proxy, true, false).await;
    unchecked.unary(text("before")).await.unwrap();
    proxy.black_hole();
    tokio::time::sleep(SHORT * 6).await;
    let status = tokio::time::timeout(PATIENCE, unchecked.unary(text("after")))
        .await
        .expect("the call hangs")
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

/// The timer of the established TCP connection to `port`, as `/proc/net/tcp` shows it:
/// 2 means a keepalive timer is armed, 0 none.
fn timer_of_connection_to(port: u16) -> Option<u32> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let remote_port = u16::from_str_radix(fields[2].rsplit(':').next()?, 16).ok()?;
        let established = fields[3] == "01";
        (remote_port == port && established)
            .then(|| fields[5].split(':').next()?.parse().ok())
            .flatten()
    })
}

#[tokio::test]
async fn tcp_keepalive_arms_the_kernel_timer_on_client_connections() {
    for (keepalive, expected_timer) in [(Some(Duration::from_secs(30)), 2), (None, 0)] {
        let server = default_server().await;
        let channel = Channel::builder(server.url())
            .unwrap()
            .http_version(rsrpc::transport::HttpVersion::Http1)
            .tcp_keepalive(keepalive)
            .connect()
            .await
            .unwrap();
        let client = EchoClient::new(channel);
        client.unary(text("idle next")).await.unwrap();
        assert_eq!(
            timer_of_connection_to(server.addr.port()),
            Some(expected_timer),
            "tcp_keepalive({keepalive:?})"
        );
    }
}
