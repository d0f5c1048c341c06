//! [`Channel`]: the connections to a target's servers, shared by every call made
//! through it, kept healthy in the background.
//!
//! A channel starts idle. Its first call (or [`Channel::connect_if_idle`]) activates it:
//! the target is resolved, the balancer connects subchannels, and a controller task
//! follows their changes, resolves again from time to time, and returns the channel to
//! idle after its idle timeout. Calls pick a ready connection; with none ready they
//! wait while the channel connects, and fail fast once it is in transient failure.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::balancer::{Balancer, LoadBalancingPolicy};
use super::resolver::Resolver;
use super::state::ConnectivityState;
use super::subchannel::{ConnectSettings, Connection};
use crate::protocol::retry::Retries;
use crate::status::Status;
use crate::transport::body::Body;
use crate::transport::connect::Connector;
use crate::transport::error::SendError;
use crate::transport::incoming::IncomingBody;

/// Re-resolution after a connection failure waits at least this long after the last
/// one, so that a server that stays down is not looked up in a loop.
const MIN_RERESOLUTION_INTERVAL: Duration = Duration::from_secs(1);
/// How long a name resolution may take.
const RESOLUTION_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts of one call on connections that did not take it (closed, or going away)
/// before it fails: each such attempt retires the connection, so this only bounds a
/// server that keeps refusing fresh connections.
const MAX_UNSENT_ATTEMPTS: usize = 8;

/// A client's way to a server, or to the servers of a target. Cheap to clone: clones
/// share the connections.
///
/// Over HTTP/2 (the default), calls to one address are multiplexed on one connection.
/// Over HTTP/1.1, each call in flight has a connection of its own, taken from a pool.
/// Either way the channel reconnects with backoff when connections fail, and tells
/// its state through [`state`](Channel::state) and
/// [`wait_for_state_change`](Channel::wait_for_state_change).
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
}

/// What a channel's clones share.
pub(crate) struct Shared {
    pub(crate) scheme: Scheme,
    /// Named by every call.
    pub(crate) authority: Authority,
    pub(crate) addresses: Addresses,
    pub(crate) policy: LoadBalancingPolicy,
    pub(crate) connect_settings: Arc<ConnectSettings>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) balancer: Mutex<Activity>,
    /// Told of every subchannel's changes; the controller listens.
    pub(crate) changed: Arc<Notify>,
    pub(crate) state: watch::Sender<ConnectivityState>,
    /// Whether a call started since the last idleness check.
    pub(crate) used: AtomicBool,
    /// Rotates round-robin picks.
    pub(crate) turn: AtomicUsize,
    /// Retry policies and throttle; `None` when no call is retried.
    pub(crate) retries: Option<Retries>,
}

/// The balancer while the channel is active; `None` while it is idle.
pub(crate) type Activity = Option<Balancer>;

/// Where a channel's servers are.
pub(crate) enum Addresses {
    /// Fixed: a connector for each.
    Static(Vec<Connector>),
    /// The addresses a name resolves to, each reached with `template` (which holds the
    /// name's TLS identity) at its address.
    Dns {
        template: Connector,
        port: u16,
        resolver: Arc<dyn Resolver>,
        /// How often the name is resolved again.
        interval: Duration,
    },
}

/// What a call finds when it looks for a connection.
enum Pick {
    Ready(Connection),
    Wait,
    Failed(Status),
}

impl Channel {
    pub(crate) fn from_shared(shared: Shared) -> Channel {
        Channel {
            shared: Arc::new(shared),
        }
    }

    /// The channel's connectivity state. Reading it does not start a connection.
    pub fn state(&self) -> ConnectivityState {
        *self.shared.state.borrow()
    }

    /// Waits until the state differs from `from`, and returns the new state.
    pub async fn wait_for_state_change(&self, from: ConnectivityState) -> ConnectivityState {
        let mut states = self.shared.state.subscribe();
        match states.wait_for(|state| *state != from).await {
            Ok(state) => *state,
            // The sender lives as long as `self`.
            Err(_) => ConnectivityState::Shutdown,
        }
    }

    /// Starts connecting if the channel is idle, as a call would.
    pub fn connect_if_idle(&self) {
        let mut activity = self.shared.lock();
        if activity.is_none() {
            self.shared.activate(&mut activity);
        }
    }

    /// Waits until the channel is ready; fails with the last error when it is in
    /// transient failure instead.
    pub(crate) async fn ready(&self) -> Result<(), Status> {
        self.connection(false).await.map(drop)
    }

    /// The channel's retry policies and throttle, if any call is retried.
    pub(crate) fn retries(&self) -> Option<&Retries> {
        self.shared.retries.as_ref()
    }

    /// The URI of a call to `path` on this channel's target.
    pub(crate) fn uri(&self, path: &'static str) -> Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.shared.scheme.clone());
        parts.authority = Some(self.shared.authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_static(path));
        Uri::from_parts(parts).unwrap_or_default()
    }

    /// Sends a request on a ready connection and waits for the response head. Without
    /// `wait_for_ready`, a call made while the channel is in transient failure fails at
    /// once with `UNAVAILABLE`; with it, the call waits for a connection (until its
    /// deadline, which the caller enforces).
    ///
    /// A request that never left (its connection had closed or received GOAWAY) goes
    /// out again on another connection. One the server refused, or excluded by GOAWAY,
    /// goes out once more if `resend` can build it again (gRPC's transparent retry);
    /// otherwise it fails with [`SendError::unprocessed`] set.
    pub(crate) async fn send(
        &self,
        mut request: http::Request<Body>,
        wait_for_ready: bool,
        resend: impl FnOnce() -> Option<http::Request<Body>>,
    ) -> Result<http::Response<IncomingBody>, SendError> {
        let mut resend = Some(resend);
        let mut unsent_attempts = 0;
        loop {
            let connection = match self.shared.pick() {
                Pick::Ready(connection) => connection,
                _ => self
                    .connection(wait_for_ready)
                    .await
                    .map_err(SendError::failed)?,
            };
            let sent = match connection {
                Connection::Http2(connection) => connection.send(request).await,
                Connection::Http1(pool) => pool.send(request).await,
            };
            let error = match sent {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            // The connection may be gone: let the balancer look.
            self.shared.changed.notify_one();
            request = match error.request {
                Some(unsent) if unsent_attempts < MAX_UNSENT_ATTEMPTS => {
                    unsent_attempts += 1;
                    unsent
                }
                None if error.unprocessed => match resend.take().and_then(|resend| resend()) {
                    Some(again) => again,
                    None => return Err(error),
                },
                _ => return Err(error),
            };
        }
    }

    /// A ready connection, waiting for one as `send` describes.
    async fn connection(&self, wait_for_ready: bool) -> Result<Connection, Status> {
        let mut states = self.shared.state.subscribe();
        loop {
            match self.shared.pick() {
                Pick::Ready(connection) => return Ok(connection),
                Pick::Failed(status) if !wait_for_ready => return Err(status),
                Pick::Failed(_) | Pick::Wait => {}
            }
            if states.changed().await.is_err() {
                return Err(Status::unavailable("the channel is shut down"));
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Activity> {
        // The balancer is consistent between statements; a panic cannot tear it.
        self.balancer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn pick(self: &Arc<Self>) -> Pick {
        self.used.store(true, Ordering::Relaxed);
        let mut activity = self.lock();
        let Some(balancer) = activity.as_mut() else {
            self.activate(&mut activity);
            return Pick::Wait;
        };
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        if let Some(connection) = balancer.pick(turn) {
            return Pick::Ready(connection);
        }
        match balancer.refresh(true) {
            ConnectivityState::TransientFailure => Pick::Failed(balancer.failure()),
            _ => Pick::Wait,
        }
    }

    /// Leaves idle: creates the balancer, gives it the static addresses, and starts
    /// the controller, which resolves a DNS target.
    fn activate(self: &Arc<Self>, activity: &mut Activity) {
        let settings = Arc::clone(&self.connect_settings);
        let mut balancer = Balancer::new(self.policy, settings, Arc::clone(&self.changed));
        if let Addresses::Static(connectors) = &self.addresses {
            balancer.set_addresses(connectors.clone());
        }
        let state = balancer.refresh(true);
        *activity = Some(balancer);
        self.state.send_replace(state);
        tokio::spawn(control(Arc::downgrade(self)));
    }

    /// Re-reads the balancer and publishes the state; waiting calls look again.
    fn refresh(&self) -> ConnectivityState {
        let mut activity = self.lock();
        let state = match activity.as_mut() {
            Some(balancer) => balancer.refresh(false),
            None => ConnectivityState::Idle,
        };
        drop(activity);
        self.state.send_replace(state);
        state
    }
}

/// The controller of an active channel: follows subchannel changes, resolves a DNS
/// target (periodically, and soon after a connection fails), and returns the channel
/// to idle when no call was made for its idle timeout. Ends when the channel goes idle
/// or every clone of it is dropped.
async fn control(channel: Weak<Shared>) {
    let Some(shared) = channel.upgrade() else {
        return;
    };
    let changed = Arc::clone(&shared.changed);
    let idle_timeout = shared.idle_timeout;
    let dns = matches!(shared.addresses, Addresses::Dns { .. });
    drop(shared);
    let now = Instant::now();
    let mut resolve_at = dns.then_some(now);
    let mut resolved_at = None::<Instant>;
    let mut idle_check_at = idle_timeout.map(|timeout| now + timeout);
    loop {
        if resolve_at.is_some_and(|at| at <= Instant::now()) {
            let interval = match resolve(&channel).await {
                Some(interval) => interval,
                None => return,
            };
            resolved_at = Some(Instant::now());
            resolve_at = resolved_at.map(|at| at + interval);
        }
        let Some(shared) = channel.upgrade() else {
            return;
        };
        if let (Some(at), Some(timeout)) = (idle_check_at, idle_timeout) {
            if at <= Instant::now() {
                if !shared.used.swap(false, Ordering::Relaxed) && !shared.has_calls() {
                    shared.go_idle();
                    return;
                }
                idle_check_at = Some(Instant::now() + timeout);
            }
        }
        shared.refresh();
        if dns && shared.any_failing() {
            // A failing address may have moved: look the name up again soon.
            let soonest = resolved_at.map_or(Instant::now(), |at| at + MIN_RERESOLUTION_INTERVAL);
            resolve_at = resolve_at.map(|at| at.min(soonest));
        }
        drop(shared);
        let wake_at = [resolve_at, idle_check_at].into_iter().flatten().min();
        tokio::select! {
            () = changed.notified() => {}
            () = sleep_until(wake_at) => {}
        }
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves a DNS target once and hands the addresses to the balancer. Returns when to
/// resolve next (sooner after a failure), or `None` when the channel is gone.
async fn resolve(channel: &Weak<Shared>) -> Option<Duration> {
    let shared = channel.upgrade()?;
    let Addresses::Dns {
        template,
        port,
        resolver,
        interval,
    } = &shared.addresses
    else {
        return Some(Duration::MAX);
    };
    let (template, interval) = (template.clone(), *interval);
    let host = crate::transport::connect::host_of(&template.authority).to_owned();
    let lookup = resolver.resolve(&host, *port);
    drop(shared);
    let result = tokio::time::timeout(RESOLUTION_TIMEOUT, lookup).await;
    let shared = channel.upgrade()?;
    let mut activity = shared.lock();
    let balancer = activity.as_mut()?;
    let addresses = match result {
        Ok(Ok(addresses)) if !addresses.is_empty() => addresses,
        failed => {
            let reason = match failed {
                Ok(Ok(_)) => "no addresses".to_owned(),
                Ok(Err(error)) => error.to_string(),
                Err(_) => format!("timed out after {RESOLUTION_TIMEOUT:?}"),
            };
            balancer.resolution_failed(Status::unavailable(format!(
                "failed to resolve {host}: {reason}"
            )));
            return Some(MIN_RERESOLUTION_INTERVAL.min(interval));
        }
    };
    balancer.set_addresses(
        addresses
            .into_iter()
            .map(|address| Connector {
                address: Some(address),
                ..template.clone()
            })
            .collect(),
    );
    Some(interval)
}

impl Shared {
    fn has_calls(&self) -> bool {
        self.lock().as_ref().is_some_and(Balancer::has_calls)
    }

    fn any_failing(&self) -> bool {
        self.lock().as_ref().is_some_and(Balancer::any_failing)
    }

    /// Returns to idle: the subchannels are dropped, which closes their connections.
    fn go_idle(&self) {
        let balancer = self.lock().take();
        drop(balancer);
        self.state.send_replace(ConnectivityState::Idle);
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("authority", &self.shared.authority)
            .field("version", &self.shared.connect_settings.version)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}
