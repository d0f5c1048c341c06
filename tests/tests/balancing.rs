//! Many back ends: `round_robin` and `pick_first` over `balance_list` and `dns:///`
//! targets, with servers on 127.0.0.1, 127.0.0.2 and 127.0.0.3. A server that dies leaves
//! the rotation without failing calls beyond those in flight on it, and rejoins once it
//! is back.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsrpc::client::{LoadBalancingPolicy, ResolveFuture, Resolver};
use rsrpc::{Channel, Status};
use rsrpc_tests::e2e::echo_client::EchoClient;
use rsrpc_tests::harness::{TestServer, server_on, text};
use rsrpc_tests::recovery::{Refuser, quick_backoff};

/// Long enough for anything that should happen at all.
const PATIENCE: Duration = Duration::from_secs(10);

/// A server on each of 127.0.0.1, 127.0.0.2 and 127.0.0.3.
async fn three_servers() -> Vec<TestServer> {
    let mut servers = Vec::new();
    for host in 1..=3 {
        servers.push(server_on(format!("127.0.0.{host}:0").parse().unwrap()).await);
    }
    servers
}

fn calls(servers: &[TestServer]) -> Vec<usize> {
    servers
        .iter()
        .map(|server| server.service.unary_calls())
        .collect()
}

/// Calls until every server in `servers` has answered since `before`.
async fn until_all_answer(client: &EchoClient, servers: &[&TestServer]) {
    let before: Vec<usize> = servers.iter().map(|s| s.service.unary_calls()).collect();
    let wait = async {
        loop {
            client.unary(text("warm up")).await.unwrap();
            let answered = servers
                .iter()
                .zip(&before)
                .all(|(server, before)| server.service.unary_calls() > *before);
            if answered {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("every server answers");
}

fn round_robin_over(servers: &[TestServer]) -> EchoClient {
    let urls = servers.iter().map(TestServer::url);
    let channel = Channel::balance_list(urls)
        .unwrap()
        .load_balancing_policy(LoadBalancingPolicy::RoundRobin)
        .backoff(quick_backoff())
        .connect_lazy()
        .unwrap();
    EchoClient::new(channel)
}

/// Makes `count` sequential calls; returns the calls each server took.
async fn spread(client: &EchoClient, servers: &[TestServer], count: usize) -> Vec<usize> {
    let before = calls(servers);
    for _ in 0..count {
        client.unary(text("spread")).await.unwrap();
    }
    calls(servers)
        .iter()
        .zip(before)
        .map(|(after, before)| after - before)
        .collect()
}

/// Callers that each keep one unary call in flight, answered after `sleep_ms`, until
/// stopped.
struct Callers {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<(usize, Vec<Status>)>>,
}

impl Callers {
    fn start(client: &EchoClient, count: usize, sleep_ms: u32) -> Callers {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..count)
            .map(|_| {
                let (client, stop) = (client.clone(), Arc::clone(&stop));
                tokio::spawn(async move {
                    let (mut ok, mut failed) = (0, Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        let mut request = text("load");
                        request.sleep_ms = sleep_ms;
                        match client.unary(request).await {
                            Ok(_) => ok += 1,
                            Err(status) => failed.push(status),
                        }
                    }
                    (ok, failed)
                })
            })
            .collect();
        Callers { stop, tasks }
    }

    /// Stops the callers; returns how many calls succeeded, and the failures.
    async fn stop(self) -> (usize, Vec<Status>) {
        self.stop.store(true, Ordering::Relaxed);
        let (mut ok, mut failures) = (0, Vec::new());
        for task in self.tasks {
            let (done, failed) = task.await.unwrap();
            ok += done;
            failures.extend(failed);
        }
        (ok, failures)
    }
}

#[tokio::test]
async fn round_robin_spreads_calls_evenly_over_three_servers() {
    let servers = three_servers().await;
    let client = round_robin_over(&servers);
    until_all_answer(&client, &servers.iter().collect::<Vec<_>>()).await;
    let taken = spread(&client, &servers, 300).await;
    for share in &taken {
        assert!((90..=110).contains(share), "uneven spread: {taken:?}");
    }
}

#[tokio::test]
async fn a_dead_server_leaves_the_rotation_and_rejoins_when_it_restarts() {
    let mut servers = three_servers().await;
    let client = round_robin_over(&servers);
    until_all_answer(&client, &servers.iter().collect::<Vec<_>>()).await;

    // Kill the second under load from 8 concurrent callers: only calls in flight on it
    // may fail.
    let callers = Callers::start(&client, 8, 5);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dead = servers.remove(1);
    let dead_addr = dead.addr;
    dead.kill().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ok, failures) = callers.stop().await;
    assert!(ok > 0);
    assert!(
        failures.len() <= 8,
        "more calls failed than were in flight: {failures:?}"
    );
    for status in &failures {
        assert_eq!(status.code(), rsrpc::Code::Unavailable, "{status:?}");
    }
    println!(
        "{} calls failed when a server died under 8 callers",
        failures.len()
    );
    // The rest go to the two left, and none fails.
    let taken = spread(&client, &servers, 100).await;
    assert_eq!(taken.iter().sum::<usize>(), 100);
    for share in &taken {
        assert!((40..=60).contains(share), "uneven spread: {taken:?}");
    }

    // Restarted on its address, it rejoins the rotation.
    let restarted = server_on(dead_addr).await;
    let all = [&servers[0], &restarted, &servers[1]];
    until_all_answer(&client, &all).await;
}

#[tokio::test]
async fn pick_first_sends_every_call_to_the_first_address_that_connects() {
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        listener.local_addr().unwrap()
    };
    let servers = vec![
        server_on("127.0.0.3:0".parse().unwrap()).await,
        server_on("127.0.0.1:0".parse().unwrap()).await,
    ];
    let urls = [format!("http://{dead}"), servers[0].url(), servers[1].url()];
    let channel = Channel::balance_list(urls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    let taken = spread(&client, &servers, 20).await;
    assert_eq!(
        taken,
        [20, 0],
        "the first reachable address takes every call"
    );
}

/// A resolver whose answer the test changes.
#[derive(Clone, Default)]
struct TestResolver {
    addresses: Arc<Mutex<Vec<SocketAddr>>>,
    lookups: Arc<AtomicUsize>,
}

impl TestResolver {
    fn answer(&self, servers: &[&TestServer]) {
        *self.addresses.lock().unwrap() = servers.iter().map(|server| server.addr).collect();
    }
}

impl Resolver for TestResolver {
    fn resolve(&self, host: &str, _port: u16) -> ResolveFuture {
        assert_eq!(host, "backends.test");
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let addresses = self.addresses.lock().unwrap().clone();
        Box::pin(async move { Ok(addresses) })
    }
}

#[tokio::test]
async fn a_dns_target_balances_over_every_address_and_follows_changes() {
    let servers = three_servers().await;
    let resolver = TestResolver::default();
    resolver.answer(&[&servers[0], &servers[1]]);
    let channel = Channel::builder("dns:///backends.test:50051")
        .unwrap()
        .resolver(resolver.clone())
        .resolution_interval(Duration::from_millis(100))
        .load_balancing_policy(LoadBalancingPolicy::RoundRobin)
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    until_all_answer(&client, &[&servers[0], &servers[1]]).await;
    assert_eq!(servers[2].service.unary_calls(), 0);

    // The name now points at the third server only.
    resolver.answer(&[&servers[2]]);
    until_all_answer(&client, &[&servers[2]]).await;
    let taken = spread(&client, &servers, 30).await;
    assert_eq!(taken, [0, 0, 30], "calls follow the new addresses");
    assert!(resolver.lookups.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn a_dns_target_that_does_not_resolve_fails_with_the_reason() {
    let resolver = TestResolver::default();
    let channel = Channel::builder("dns:///backends.test:50051")
        .unwrap()
        .resolver(resolver)
        .connect_lazy()
        .unwrap();
    let status = EchoClient::new(channel)
        .unary(text("nowhere"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), rsrpc::Code::Unavailable);
    assert!(
        status.message().contains("failed to resolve backends.test"),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_dns_target_resolves_with_the_system_resolver() {
    let server = server_on("127.0.0.1:0".parse().unwrap()).await;
    // `localhost` may also resolve to ::1, where nothing listens: pick_first moves on.
    let target = format!("dns:///localhost:{}", server.addr.port());
    let client = EchoClient::new(Channel::connect(target).await.unwrap());
    client.unary(text("resolved")).await.unwrap();
    assert_eq!(server.service.unary_calls(), 1);
}

#[tokio::test]
async fn a_graceful_shutdown_under_200_calls_in_flight_loses_none_with_round_robin() {
    no_call_lost_when_a_server_drains(LoadBalancingPolicy::RoundRobin).await;
}

#[tokio::test]
async fn a_graceful_shutdown_under_200_calls_in_flight_loses_none_with_pick_first() {
    no_call_lost_when_a_server_drains(LoadBalancingPolicy::PickFirst).await;
}

/// 200 callers keep a call each in flight through a `balance_list` of two servers; the
/// first shuts down gracefully. No call may fail: those it accepted finish, those it
/// did not process are retried on the second, and new ones go there.
async fn no_call_lost_when_a_server_drains(policy: LoadBalancingPolicy) {
    const CALLERS: usize = 200;
    let mut draining = server_on("127.0.0.1:0".parse().unwrap()).await;
    let remaining = server_on("127.0.0.2:0".parse().unwrap()).await;
    let channel = Channel::balance_list([draining.url(), remaining.url()])
        .unwrap()
        .load_balancing_policy(policy)
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    let callers = Callers::start(&client, CALLERS, 20);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let drained_service = draining.service.clone();
    let before = drained_service.unary_calls();
    assert!(
        before > 0,
        "the first server took calls before its shutdown"
    );
    draining.trigger_shutdown();
    draining.finished_within(PATIENCE).await;
    let after_shutdown = remaining.service.unary_calls();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, failures) = callers.stop().await;
    assert!(
        failures.is_empty(),
        "{} calls failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(drained_service.cancelled(), 0, "the drain cut calls");
    assert_eq!(
        drained_service.finished_unary(),
        drained_service.unary_calls(),
        "every call the draining server accepted finished"
    );
    assert!(
        remaining.service.unary_calls() > after_shutdown,
        "calls moved to the second server"
    );
    println!("{policy:?}: {ok} calls, none failed");
}

#[tokio::test]
async fn pick_first_stops_trying_other_addresses_once_one_is_ready() {
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut refuser = Refuser::start(refused).await;
    let server = server_on("127.0.0.3:0".parse().unwrap()).await;
    let channel = Channel::balance_list([format!("http://{refused}"), server.url()])
        .unwrap()
        .backoff(quick_backoff())
        .connect()
        .await
        .unwrap();
    let client = EchoClient::new(channel);
    client.unary(text("second address")).await.unwrap();
    while refuser.attempts.try_recv().is_ok() {}
    // The first address would be retried every 200 ms at most; it is not retried.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        refuser.attempts.try_recv().is_err(),
        "pick_first kept connecting to an address it no longer uses"
    );
    // Nor does it switch back when the first address comes up.
    refuser.stop().await;
    let first = server_on(refused).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let taken = spread(&client, &[first, server], 20).await;
    assert_eq!(taken, [0, 20]);
}
