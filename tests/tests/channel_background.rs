//! The channel's background work, and what it must not do: reconnect in a loop to a
//! server that closes after the handshake, let a slow DNS lookup hold up waiting calls,
//! outlive the channel, or ignore `connect_if_idle`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rsrpc::Channel;
use rsrpc::client::LoadBalancingPolicy;

/// A server that completes the HTTP/2 handshake (SETTINGS, answers the client's PING),
/// then closes the connection: each connection "succeeds" and ends at once.
async fn handshake_then_close() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else {
                    return;
                };
                // Polling accept answers the client's PING; then drop the connection.
                let _ = tokio::time::timeout(Duration::from_millis(20), connection.accept()).await;
            });
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn round_robin_backs_off_from_a_server_that_closes_after_the_handshake() {
    let (addr, accepted) = handshake_then_close().await;
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .load_balancing_policy(LoadBalancingPolicy::RoundRobin)
        .connect_lazy()
        .unwrap();
    channel.connect_if_idle();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts = accepted.load(Ordering::Relaxed);
    // The default backoff (1 s, x1.6) allows about 2 attempts in 2 s.
    assert!(attempts <= 3, "{attempts} connections in 2 s: no backoff");
}

#[tokio::test]
async fn pick_first_backs_off_from_a_server_that_closes_after_the_handshake() {
    let (addr, accepted) = handshake_then_close().await;
    let channel = Channel::builder(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
        .unwrap();
    let client = rsrpc_tests::e2e::echo_client::EchoClient::new(channel.clone());
    let mut request = rsrpc::Request::new(rsrpc_tests::harness::text("x"));
    request.set_wait_for_ready(true);
    request.set_timeout(Duration::from_secs(2));
    let _ = client.unary(request).await;
    let attempts = accepted.load(Ordering::Relaxed);
    assert!(attempts <= 3, "{attempts} connections in 2 s: no backoff");
}

/// Answers `addr` at once the first time, then takes 10 s for every later lookup (a
/// slow or unreachable DNS server).
struct SlowAfterFirst {
    addr: SocketAddr,
    lookups: Arc<AtomicUsize>,
}

impl rsrpc::client::Resolver for SlowAfterFirst {
    fn resolve(&self, _host: &str, _port: u16) -> rsrpc::client::ResolveFuture {
        let first = self.lookups.fetch_add(1, Ordering::SeqCst) == 0;
        let addr = self.addr;
        Box::pin(async move {
            if !first {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Ok(vec![addr])
        })
    }
}

#[tokio::test]
async fn a_slow_re_resolution_does_not_hide_a_ready_connection_from_waiting_calls() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let channel = Channel::builder(format!("dns:///backend.test:{}", addr.port()))
        .unwrap()
        .resolution_interval(Duration::from_millis(200))
        .resolver(SlowAfterFirst {
            addr,
            lookups: Arc::default(),
        })
        .backoff(rsrpc_tests::recovery::quick_backoff())
        .connect_lazy()
        .unwrap();
    let client = rsrpc_tests::e2e::echo_client::EchoClient::new(channel.clone());
    // The server is down: the call waits for ready; the failure makes the channel
    // resolve the name again, which takes 10 s.
    let waiting = tokio::spawn(async move {
        let mut request = rsrpc::Request::new(rsrpc_tests::harness::text("x"));
        request.set_wait_for_ready(true);
        request.set_timeout(Duration::from_secs(4));
        let started = tokio::time::Instant::now();
        (client.unary(request).await.map(drop), started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _server = rsrpc_tests::harness::server_on(addr).await;
    let (result, took) = waiting.await.unwrap();
    println!("{result:?} after {took:?}");
    assert!(
        result.is_ok(),
        "the server was up 2.5 s before the deadline: {result:?}"
    );
}

#[tokio::test]
async fn dropping_a_channel_whose_connection_ended_ends_its_tasks() {
    let server = rsrpc_tests::harness::default_server().await;
    let url = server.url();
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let before_server_tasks = tasks();
    let channel = Channel::builder(url)
        .unwrap()
        .idle_timeout(None)
        .connect_lazy()
        .unwrap();
    let client = rsrpc_tests::e2e::echo_client::EchoClient::new(channel.clone());
    client.unary(rsrpc_tests::harness::text("x")).await.unwrap();
    // The server goes away: the connection ends, pick_first leaves the address idle.
    server.kill().await;
    for _ in 0..100 {
        if channel.state() == rsrpc::client::ConnectivityState::Idle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(channel.state(), rsrpc::client::ConnectivityState::Idle);
    drop(client);
    drop(channel);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left = tasks();
    println!(
        "tasks alive before the channel: {before_server_tasks}, after it and the server: {left}"
    );
    assert_eq!(
        left, 0,
        "tasks still alive after the channel and server are gone"
    );
}

/// Always answers `addr`.
struct Fixed(SocketAddr);

impl rsrpc::client::Resolver for Fixed {
    fn resolve(&self, _host: &str, _port: u16) -> rsrpc::client::ResolveFuture {
        let addr = self.0;
        Box::pin(async move { Ok(vec![addr]) })
    }
}

async fn becomes_ready(channel: &Channel) -> bool {
    let wait = async {
        let mut state = channel.state();
        while state != rsrpc::client::ConnectivityState::Ready {
            state = channel.wait_for_state_change(state).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(3), wait)
        .await
        .is_ok()
}

#[tokio::test]
async fn connect_if_idle_connects_a_dns_pick_first_channel() {
    let server = rsrpc_tests::harness::default_server().await;
    let addr: SocketAddr = server.url().trim_start_matches("http://").parse().unwrap();
    let channel = Channel::builder(format!("dns:///backend.test:{}", addr.port()))
        .unwrap()
        .resolver(Fixed(addr))
        .connect_lazy()
        .unwrap();
    channel.connect_if_idle();
    let ready = becomes_ready(&channel).await;
    assert!(ready, "connect_if_idle did not connect");
}

#[tokio::test]
async fn connect_if_idle_reconnects_after_the_connection_ended() {
    let server = rsrpc_tests::harness::default_server().await;
    let addr: SocketAddr = server.url().trim_start_matches("http://").parse().unwrap();
    let channel = Channel::builder(server.url())
        .unwrap()
        .connect_lazy()
        .unwrap();
    channel.connect_if_idle();
    assert!(becomes_ready(&channel).await);
    // The server restarts on the same port: the connection ends, the channel is idle.
    server.kill().await;
    let _server = rsrpc_tests::harness::server_on(addr).await;
    let idle = async {
        let mut state = channel.state();
        while state != rsrpc::client::ConnectivityState::Idle {
            state = channel.wait_for_state_change(state).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(3), idle)
        .await
        .unwrap();
    channel.connect_if_idle();
    let ready = becomes_ready(&channel).await;
    assert!(ready, "connect_if_idle did not reconnect an idle channel");
}
