//! A subchannel: the connection to one server address, opened when the balancer asks,
//! and re-opened with backoff while it fails.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::backoff::{Backoff, BackoffConfig};
use super::state::ConnectivityState;
use crate::status::Status;
use crate::transport::HttpVersion;
use crate::transport::body::Body;
use crate::transport::connect::Connector;
use crate::transport::error::SendError;
use crate::transport::http1::client::Http1Client;
use crate::transport::http2::Http2Connection;
use crate::transport::http2::keepalive::Keepalive;
use crate::transport::incoming::IncomingBody;

/// How every subchannel of a channel connects.
pub(crate) struct ConnectSettings {
    pub(crate) version: HttpVersion,
    /// A fixed limit on each attempt (tonic's `connect_timeout`); when unset, an
    /// attempt may last until the next is due, and at least `min_connect_timeout`.
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) min_connect_timeout: Duration,
    pub(crate) backoff: BackoffConfig,
    pub(crate) keepalive: Option<Keepalive>,
    pub(crate) max_http1_connections: usize,
}

/// A connection calls can be sent on.
#[derive(Clone)]
pub(crate) enum Connection {
    Http2(Http2Connection),
    Http1(Arc<Http1Pool>),
}

/// An HTTP/1.1 pool, and whether a call found its server gone: HTTP/1.1 has no event
/// that says so sooner.
pub(crate) struct Http1Pool {
    client: Http1Client,
    lost: watch::Sender<bool>,
    /// Whether a call was ever sent on the pool.
    carried: AtomicBool,
}

impl Http1Pool {
    /// Sends a request on a pooled connection and waits for the response head.
    pub(crate) async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<IncomingBody>, SendError> {
        self.carried.store(true, Ordering::Relaxed);
        let result = self.client.send(request).await;
        if result.as_ref().is_err_and(|error| error.unprocessed) {
            // A connection could not be opened: the address is down.
            self.lost.send_replace(true);
        }
        result
    }
}

impl Connection {
    /// Whether `other` is a handle on the same connection.
    pub(crate) fn same_as(&self, other: &Connection) -> bool {
        match (self, other) {
            (Connection::Http2(a), Connection::Http2(b)) => a.same_as(b),
            (Connection::Http1(a), Connection::Http1(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Whether new calls may go on this connection.
    pub(crate) fn is_usable(&self) -> bool {
        match self {
            Connection::Http2(connection) => connection.is_usable(),
            Connection::Http1(pool) => !*pool.lost.borrow(),
        }
    }

    /// Whether it ever carried a call.
    fn carried_calls(&self) -> bool {
        match self {
            Connection::Http2(connection) => connection.carried_calls(),
            Connection::Http1(pool) => pool.carried.load(Ordering::Relaxed),
        }
    }

    /// Whether a call is under way on it.
    pub(crate) fn has_calls(&self) -> bool {
        match self {
            Connection::Http2(connection) => connection.has_calls(),
            Connection::Http1(pool) => pool.client.has_calls(),
        }
    }

    /// Completes once the connection takes no more calls.
    async fn unusable(&self) {
        match self {
            Connection::Http2(connection) => connection.unusable().await,
            Connection::Http1(pool) => {
                // The sender lives in the pool, so the wait cannot fail.
                let _ = pool.lost.subscribe().wait_for(|lost| *lost).await;
            }
        }
    }
}

/// The connection to one address. Dropping it stops reconnecting; calls already on
/// its connection finish.
pub(crate) struct Subchannel {
    shared: Arc<Shared>,
}

struct Shared {
    connector: Connector,
    settings: Arc<ConnectSettings>,
    state: Mutex<State>,
    /// Told of every state change: the channel's balancer listens.
    changed: Arc<Notify>,
    stopped: AtomicBool,
    stop: Notify,
}

struct State {
    connectivity: ConnectivityState,
    connection: Option<Connection>,
    /// Why the last attempt failed.
    last_error: Option<Status>,
    /// Whether a task is connecting or watching the connection.
    running: bool,
    /// The backoff of a connection that ended too soon to count as a success: the next
    /// attempt waits on it instead of starting over.
    unfinished_backoff: Option<Backoff>,
}

impl Subchannel {
    /// An idle subchannel to the server `connector` reaches, which reports its changes
    /// to `changed`.
    pub(crate) fn new(
        connector: Connector,
        settings: Arc<ConnectSettings>,
        changed: Arc<Notify>,
    ) -> Subchannel {
        Subchannel {
            shared: Arc::new(Shared {
                connector,
                settings,
                state: Mutex::new(State {
                    connectivity: ConnectivityState::Idle,
                    connection: None,
                    last_error: None,
                    running: false,
                    unfinished_backoff: None,
                }),
                changed,
                stopped: AtomicBool::new(false),
                stop: Notify::new(),
            }),
        }
    }

    /// The connector, which names the address.
    pub(crate) fn connector(&self) -> &Connector {
        &self.shared.connector
    }

    /// The state, and the connection when ready.
    pub(crate) fn snapshot(&self) -> (ConnectivityState, Option<Connection>, Option<Status>) {
        let state = self.shared.lock();
        (
            state.connectivity,
            state.connection.clone(),
            state.last_error.clone(),
        )
    }

    /// Starts connecting, unless it already is or is connected.
    pub(crate) fn connect(&self) {
        let mut state = self.shared.lock();
        if state.running || self.shared.stopped.load(Ordering::Acquire) {
            return;
        }
        state.running = true;
        drop(state);
        tokio::spawn(Arc::clone(&self.shared).run());
    }
}

impl Drop for Subchannel {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Release);
        self.shared.stop.notify_waiters();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain values, consistent after every assignment.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set(&self, connectivity: ConnectivityState, connection: Option<Connection>) {
        let mut state = self.lock();
        state.connectivity = connectivity;
        state.connection = connection;
        drop(state);
        self.changed.notify_one();
    }

    fn fail(&self, error: Status) {
        let mut state = self.lock();
        state.connectivity = ConnectivityState::TransientFailure;
        state.connection = None;
        state.last_error = Some(error);
        drop(state);
        self.changed.notify_one();
    }

    /// Completes once the subchannel is dropped.
    async fn stopped(&self) {
        let stop = self.stop.notified();
        if !self.stopped.load(Ordering::Acquire) {
            stop.await;
        }
    }

    /// Connects, backing off between failures, until a connection opens and later
    /// ends, or the subchannel is dropped. The subchannel is then idle, and the
    /// balancer decides whether to connect again.
    async fn run(self: Arc<Shared>) {
        let resumed = self.lock().unfinished_backoff.take();
        let mut backoff = match resumed {
            Some(mut backoff) => {
                // The last connection ended at once: back off before the next, or a
                // server that accepts and closes would be reconnected to in a loop.
                let ended_at_once = self.lock().last_error.clone();
                if let Some(error) = ended_at_once {
                    self.fail(error);
                }
                tokio::select! {
                    () = backoff.wait() => {}
                    () = self.stopped() => return self.finish(),
                }
                backoff
            }
            None => Backoff::start(self.settings.backoff),
        };
        loop {
            self.set(ConnectivityState::Connecting, None);
            let timeout = self
                .settings
                .connect_timeout
                .unwrap_or_else(|| backoff.attempt_timeout(self.settings.min_connect_timeout));
            let opened = tokio::select! {
                opened = self.open(timeout) => opened,
                () = self.stopped() => break,
            };
            match opened {
                Ok(connection) => {
                    self.set(ConnectivityState::Ready, Some(connection.clone()));
                    let opened_at = Instant::now();
                    tokio::select! {
                        () = connection.unusable() => {}
                        () = self.stopped() => break,
                    }
                    let lived = opened_at.elapsed();
                    if !connection.carried_calls() && !backoff.counts_as_success(lived) {
                        let mut state = self.lock();
                        state.unfinished_backoff = Some(backoff);
                        state.last_error = Some(Status::unavailable(format!(
                            "{} closed the connection {lived:?} after it opened",
                            self.connector.destination()
                        )));
                    }
                    break;
                }
                Err(error) => {
                    tracing::debug!(
                        destination = %self.connector.destination(),
                        %error,
                        "connection attempt failed"
                    );
                    self.fail(error);
                    tokio::select! {
                        () = backoff.wait() => {}
                        () = self.stopped() => break,
                    }
                }
            }
        }
        self.finish();
    }

    /// Ends a run: the subchannel is idle (or shut down), and the balancer decides.
    fn finish(&self) {
        let mut state = self.lock();
        state.running = false;
        state.connection = None;
        state.connectivity = if self.stopped.load(Ordering::Acquire) {
            ConnectivityState::Shutdown
        } else {
            ConnectivityState::Idle
        };
        drop(state);
        self.changed.notify_one();
    }

    /// Opens a connection within `timeout`.
    async fn open(&self, timeout: Duration) -> Result<Connection, Status> {
        let settings = &self.settings;
        let connector = &self.connector;
        match settings.version {
            HttpVersion::Http2 => {
                // One limit for the connect and the HTTP/2 handshake together.
                let handshake = async {
                    let io = connector.connect_unbounded().await?;
                    Http2Connection::handshake(io, settings.keepalive).await
                };
                let connection = connector.within(timeout, handshake).await?;
                Ok(Connection::Http2(connection))
            }
            HttpVersion::Http1 => {
                let client =
                    Http1Client::new(connector.clone(), timeout, settings.max_http1_connections);
                client.probe().await?;
                Ok(Connection::Http1(Arc::new(Http1Pool {
                    client,
                    lost: watch::channel(false).0,
                    carried: AtomicBool::new(false),
                })))
            }
        }
    }
}
