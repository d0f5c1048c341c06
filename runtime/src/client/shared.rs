//! What a channel's clones share: the balancer while the channel is active, its state,
//! and the settings every connection uses; and the pick of a connection for a call.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http::uri::{Authority, Scheme};
use tokio::sync::{Notify, watch};
use tokio::task::AbortHandle;

use super::balancer::{Balancer, LoadBalancingPolicy};
use super::resolver::Resolver;
use super::state::ConnectivityState;
use super::subchannel::{ConnectSettings, Connection};
use crate::codec::Format;
use crate::interceptor::Interceptors;
use crate::protocol::retry::Retries;
use crate::status::Status;
use crate::transport::connect::Connector;
use crate::web::client::WebSettings;

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
    /// Asks the resolution task to look the name up again (it limits how often).
    pub(crate) resolve_now: Arc<Notify>,
    pub(crate) state: watch::Sender<ConnectivityState>,
    /// Whether a call started since the last idleness check.
    pub(crate) used: AtomicBool,
    /// Rotates round-robin picks.
    pub(crate) turn: AtomicUsize,
    /// Retry policies and throttle; `None` when no call is retried.
    pub(crate) retries: Option<Retries>,
    /// Run before every call.
    pub(crate) interceptors: Interceptors,
    /// The protocol calls speak, beyond gRPC.
    pub(crate) web: WebSettings,
    /// The format of calls' messages.
    pub(crate) format: Format,
}

/// What a channel holds while active; `None` while it is idle.
pub(crate) type Activity = Option<Active>;

/// An active channel: its balancer, and the task resolving its name, which ends with
/// it.
pub(crate) struct Active {
    pub(crate) balancer: Balancer,
    /// Set by the controller when it starts the resolution.
    pub(crate) resolution: Option<AbortHandle>,
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Some(resolution) = &self.resolution {
            resolution.abort();
        }
    }
}

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
pub(crate) enum Pick {
    Ready(Connection),
    /// None is ready yet: wait for the state to change.
    Wait,
    /// As `Wait`, and the pick made an idle channel active.
    Activated,
    Failed(Status),
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Activity> {
        // The balancer is consistent between statements; a panic cannot tear it.
        self.balancer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A ready connection for a call, if any; activates an idle channel (the caller
    /// then starts its controller).
    pub(crate) fn pick(&self) -> Pick {
        self.used.store(true, Ordering::Relaxed);
        let mut activity = self.lock();
        let Some(Active { balancer, .. }) = activity.as_mut() else {
            self.activate(&mut activity);
            return Pick::Activated;
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

    /// Leaves idle: creates the balancer and gives it the static addresses; the caller
    /// starts the controller (and, for a DNS target, the resolution).
    pub(crate) fn activate(&self, activity: &mut Activity) {
        let settings = Arc::clone(&self.connect_settings);
        let mut balancer = Balancer::new(self.policy, settings, Arc::clone(&self.changed));
        if let Addresses::Static(connectors) = &self.addresses {
            balancer.set_addresses(connectors.clone());
        }
        // Whoever activates the channel wants a connection, once there are addresses.
        balancer.request_connection();
        let state = balancer.refresh(false);
        *activity = Some(Active {
            balancer,
            resolution: None,
        });
        self.state.send_replace(state);
    }

    /// Re-reads the balancer and publishes the state; waiting calls look again.
    pub(crate) fn refresh(&self) -> ConnectivityState {
        let mut activity = self.lock();
        let state = match activity.as_mut() {
            Some(active) => active.balancer.refresh(false),
            None => ConnectivityState::Idle,
        };
        drop(activity);
        self.state.send_replace(state);
        state
    }
}

impl Shared {
    /// Whether a call is under way on any connection.
    pub(crate) fn has_calls(&self) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(|active| active.balancer.has_calls())
    }

    /// Whether any address was failing to connect at the last refresh.
    pub(crate) fn any_failing(&self) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(|active| active.balancer.any_failing())
    }

    /// Returns to idle: the subchannels are dropped, which closes their connections.
    pub(crate) fn go_idle(&self) {
        let active = self.lock().take();
        drop(active);
        self.state.send_replace(ConnectivityState::Idle);
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Wakes the controller, which then finds the channel gone and ends.
        self.changed.notify_one();
    }
}
