//! Calls under load through a fault, and the bounds a healing channel must keep: the
//! issue's "kill the server under 20 calls/s, bring it back 2 s later" scenario, shared
//! by the tests of a restarted server, a restarted proxy and a restarted back end.

use std::future::Future;
use std::time::Duration;

use rsrpc::{Code, Status};
use tokio::time::Instant;

/// Calls made, one every [`CALL_INTERVAL`] (20 a second).
pub const CALLS: usize = 120;
/// Time between the starts of two calls.
pub const CALL_INTERVAL: Duration = Duration::from_millis(50);
/// When the fault starts, after the load.
pub const FAULT_AFTER: Duration = Duration::from_secs(1);
/// How long the service stays down.
pub const DOWN_FOR: Duration = Duration::from_secs(2);
/// The bound on the first success after the service is back.
pub const RECOVERY_BOUND: Duration = Duration::from_secs(1);
/// How far past its deadline a call may end: scheduling, not waiting.
const DEADLINE_SLACK: Duration = Duration::from_millis(250);

/// Backoff short enough for tests to wait out: 50 ms, growing to 200 ms.
pub fn quick_backoff() -> rsrpc::client::BackoffConfig {
    rsrpc::client::BackoffConfig::default()
        .base_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
}

/// The backoff of the recovery scenarios: capped so that an attempt comes at least
/// every 0.6 s (0.5 s + 20% jitter), as the issue allows (capping, or resetting on a
/// fresh resolution).
pub fn capped_backoff() -> rsrpc::client::BackoffConfig {
    rsrpc::client::BackoffConfig::default().max_delay(Duration::from_millis(500))
}

/// The call of the load: a unary echo through `client` with `deadline`.
pub fn unary_load(
    client: crate::e2e::echo_client::EchoClient,
    deadline: Duration,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<(), Status>> + Send>> + Send + 'static
{
    move || {
        let client = client.clone();
        Box::pin(async move {
            let mut request = rsrpc::Request::new(crate::harness::text("load"));
            request.set_timeout(deadline);
            client.unary(request).await.map(drop)
        })
    }
}

/// How one call of the load ended.
#[derive(Debug)]
pub struct Outcome {
    /// When it started.
    pub started: Instant,
    /// When it ended.
    pub ended: Instant,
    /// Its result.
    pub result: Result<(), Status>,
}

/// The calls of a load run through a fault.
#[derive(Debug)]
pub struct Recovery {
    /// Every call, in the order they ended.
    pub outcomes: Vec<Outcome>,
    /// When the service was back (listening again).
    pub back_at: Instant,
}

/// Starts a call every [`CALL_INTERVAL`] with `call` ([`CALLS`] in all), runs `fault`
/// after [`FAULT_AFTER`], and returns once every call has ended. `fault` takes the
/// service down and brings it back, completing when it is back; what it returns (the
/// restarted server, say) comes back beside the outcomes.
pub async fn through_fault<C, Call, F, T>(call: C, fault: F) -> (Recovery, T)
where
    C: Fn() -> Call + Send + 'static,
    Call: Future<Output = Result<(), Status>> + Send + 'static,
    F: Future<Output = T>,
{
    let (outcomes, mut received) = tokio::sync::mpsc::unbounded_channel();
    let load = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CALL_INTERVAL);
        for _ in 0..CALLS {
            ticks.tick().await;
            let (call, outcomes) = (call(), outcomes.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let result = call.await;
                let ended = Instant::now();
                let _ = outcomes.send(Outcome {
                    started,
                    ended,
                    result,
                });
            });
        }
    });
    tokio::time::sleep(FAULT_AFTER).await;
    let back = fault.await;
    let back_at = Instant::now();
    load.await.unwrap();
    let mut all = Vec::new();
    while let Ok(Some(outcome)) =
        tokio::time::timeout(Duration::from_secs(5), received.recv()).await
    {
        all.push(outcome);
        if all.len() == CALLS {
            break;
        }
    }
    assert_eq!(all.len(), CALLS, "every call ended");
    (
        Recovery {
            outcomes: all,
            back_at,
        },
        back,
    )
}

impl Recovery {
    /// Checks the bounds for calls with `deadline`: none outlived it, every
    /// failure is `UNAVAILABLE` or `DEADLINE_EXCEEDED`, the fault was noticed, and the
    /// first success came within [`RECOVERY_BOUND`] of the service being back. Returns
    /// that time to recover, and how many calls failed.
    pub fn check(&self, deadline: Duration) -> (Duration, usize) {
        for outcome in &self.outcomes {
            let took = outcome.ended - outcome.started;
            assert!(
                took < deadline + DEADLINE_SLACK,
                "a call outlived its deadline: {took:?}"
            );
            if let Err(status) = &outcome.result {
                assert!(
                    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded),
                    "a call failed with {status:?}"
                );
            }
        }
        let failures = self.outcomes.iter().filter(|o| o.result.is_err()).count();
        assert!(failures > 0, "the fault went unnoticed");
        let first_success = self
            .outcomes
            .iter()
            .filter(|outcome| outcome.result.is_ok() && outcome.ended > self.back_at)
            .map(|outcome| outcome.ended)
            .min()
            .expect("calls succeed once the service is back");
        let recovery = first_success - self.back_at;
        assert!(
            recovery < RECOVERY_BOUND,
            "the first success came {recovery:?} after the service was back"
        );
        (recovery, failures)
    }
}

/// A listener that accepts connections and closes them at once, recording when each
/// attempt came: a server whose connections always fail.
pub struct Refuser {
    /// When each connection attempt came.
    pub attempts: tokio::sync::mpsc::UnboundedReceiver<Instant>,
    task: tokio::task::JoinHandle<()>,
}

impl Refuser {
    /// Listens on `addr`.
    pub async fn start(addr: std::net::SocketAddr) -> Refuser {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let (sender, attempts) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                drop(connection);
                let _ = sender.send(Instant::now());
            }
        });
        Refuser { attempts, task }
    }

    /// Waits for the next attempt; fails the test if none comes.
    pub async fn next_attempt(&mut self) -> Instant {
        tokio::time::timeout(Duration::from_secs(10), self.attempts.recv())
            .await
            .expect("the channel tries again")
            .unwrap()
    }

    /// Stops listening.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}
