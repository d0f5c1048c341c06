//! Load balancing: a channel's subchannels, one per address, which of them to connect,
//! which one takes each call, and the channel's state as theirs add up.

use std::sync::Arc;

use tokio::sync::Notify;

use super::state::ConnectivityState;
use super::subchannel::{ConnectSettings, Connection, Subchannel};
use crate::status::Status;
use crate::transport::connect::Connector;

/// How a channel spreads calls over the addresses of its target, as grpc-go's
/// policies of the same names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoadBalancingPolicy {
    /// Connect to the addresses in order until one succeeds, and send every call there
    /// (the default, as in grpc-go). The next address is tried when the one before
    /// fails to connect; once one is ready the others are dropped, and the channel
    /// stays on it until it fails, then starts again from the first.
    #[default]
    PickFirst,
    /// Connect to every address, and send calls to the ready ones in turn. An address
    /// that fails leaves the rotation, and rejoins once it reconnects.
    RoundRobin,
}

/// A subchannel's state, its connection when ready, and its last error.
type Snapshot = (ConnectivityState, Option<Connection>, Option<Status>);

/// The subchannels of an active channel and what the policy makes of them.
pub(crate) struct Balancer {
    policy: LoadBalancingPolicy,
    settings: Arc<ConnectSettings>,
    /// Told of every subchannel's state changes.
    changed: Arc<Notify>,
    subchannels: Vec<Subchannel>,
    /// The connections calls may take, in the policy's order.
    ready: Vec<Connection>,
    state: ConnectivityState,
    /// Why connecting failed, for calls that fail fast.
    last_error: Option<Status>,
    /// Why the target's name did not resolve, if it did not.
    resolution_error: Option<Status>,
    /// A connection was asked for (`connect_if_idle`, or activation) before there were
    /// addresses to connect to.
    connect_requested: bool,
    /// Whether a subchannel was failing at the last refresh, which read them all.
    any_failing: bool,
}

impl Balancer {
    /// A balancer with no addresses yet.
    pub(crate) fn new(
        policy: LoadBalancingPolicy,
        settings: Arc<ConnectSettings>,
        changed: Arc<Notify>,
    ) -> Balancer {
        Balancer {
            policy,
            settings,
            changed,
            subchannels: Vec::new(),
            ready: Vec::new(),
            state: ConnectivityState::Connecting,
            last_error: None,
            resolution_error: None,
            connect_requested: false,
            any_failing: false,
        }
    }

    /// Replaces the addresses: subchannels to addresses still listed stay, with their
    /// connections; the others are dropped.
    pub(crate) fn set_addresses(&mut self, connectors: Vec<Connector>) {
        let mut kept = std::mem::take(&mut self.subchannels);
        self.subchannels = connectors
            .into_iter()
            .map(|connector| {
                let same = kept.iter().position(|subchannel| {
                    let existing = subchannel.connector();
                    existing.address == connector.address
                        && existing.authority == connector.authority
                });
                match same {
                    Some(index) => kept.swap_remove(index),
                    None => Subchannel::new(
                        connector,
                        Arc::clone(&self.settings),
                        Arc::clone(&self.changed),
                    ),
                }
            })
            .collect();
        self.resolution_error = None;
    }

    /// Makes the next refresh connect as a waiting call would, even before the target
    /// has resolved.
    pub(crate) fn request_connection(&mut self) {
        self.connect_requested = true;
    }

    /// Records that the target's name failed to resolve.
    pub(crate) fn resolution_failed(&mut self, error: Status) {
        self.resolution_error = Some(error);
    }

    /// A connection for the next call, if one is ready; `turn` rotates round-robin
    /// picks.
    pub(crate) fn pick(&self, turn: usize) -> Option<Connection> {
        let count = self.ready.len();
        (0..count)
            .map(|offset| &self.ready[(turn + offset) % count])
            .find(|connection| connection.is_usable())
            .cloned()
    }

    /// The status of a call that fails fast: `UNAVAILABLE` with the last error.
    pub(crate) fn failure(&self) -> Status {
        let error = self.last_error.as_ref().or(self.resolution_error.as_ref());
        match error {
            Some(error) => Status::unavailable(format!(
                "no connection to the server is ready (last error: {})",
                error.message()
            )),
            None => Status::unavailable("no connection to the server is ready"),
        }
    }

    /// Whether a call is under way on any connection.
    pub(crate) fn has_calls(&self) -> bool {
        self.subchannels
            .iter()
            .filter_map(|subchannel| subchannel.snapshot().1)
            .any(|connection| connection.has_calls())
    }

    /// Whether any subchannel was failing to connect at the last refresh.
    pub(crate) fn any_failing(&self) -> bool {
        self.any_failing
    }

    /// Reads the subchannels' states: rebuilds the ready list and the channel's state,
    /// and starts the connections the policy wants. `demand` says a call is waiting,
    /// which makes an idle pick-first channel connect.
    pub(crate) fn refresh(&mut self, demand: bool) -> ConnectivityState {
        let demand = demand || self.connect_requested;
        if !self.subchannels.is_empty() {
            self.connect_requested = false;
        }
        let mut snapshots: Vec<_> = self.subchannels.iter().map(Subchannel::snapshot).collect();
        self.ready = snapshots
            .iter()
            .filter(|(state, _, _)| *state == ConnectivityState::Ready)
            .filter_map(|(_, connection, _)| connection.clone())
            .filter(Connection::is_usable)
            .collect();
        if let Some(error) = snapshots
            .iter()
            .filter(|(state, _, _)| *state == ConnectivityState::TransientFailure)
            .find_map(|(_, _, error)| error.clone())
        {
            self.last_error = Some(error);
        }
        if self.policy == LoadBalancingPolicy::PickFirst {
            self.keep_only_the_first_ready(&mut snapshots);
        }
        self.any_failing = snapshots
            .iter()
            .any(|(state, _, _)| *state == ConnectivityState::TransientFailure);
        self.start_connections(&snapshots, demand);
        self.state = self.aggregate(&snapshots);
        self.state
    }

    /// Pick-first uses one connection: once an address is ready, the others stop
    /// connecting (or close their connections once their calls end), and the channel
    /// stays on that address until it fails, as grpc-go's pick_first does.
    fn keep_only_the_first_ready(&mut self, snapshots: &mut [Snapshot]) {
        self.ready.truncate(1);
        let Some(chosen) = self.ready.first() else {
            return;
        };
        for (index, snapshot) in snapshots.iter_mut().enumerate() {
            let is_chosen = snapshot
                .1
                .as_ref()
                .is_some_and(|connection| connection.same_as(chosen));
            if !is_chosen && snapshot.0 != ConnectivityState::Idle {
                let connector = self.subchannels[index].connector().clone();
                self.subchannels[index] = Subchannel::new(
                    connector,
                    Arc::clone(&self.settings),
                    Arc::clone(&self.changed),
                );
                *snapshot = (ConnectivityState::Idle, None, None);
            }
        }
    }

    fn start_connections(&self, snapshots: &[Snapshot], demand: bool) {
        match self.policy {
            LoadBalancingPolicy::RoundRobin => {
                for (subchannel, (state, _, _)) in self.subchannels.iter().zip(snapshots) {
                    if *state == ConnectivityState::Idle {
                        subchannel.connect();
                    }
                }
            }
            LoadBalancingPolicy::PickFirst => {
                // The first address not failing is the one to use or try; past the
                // first, it is tried because those before it failed.
                let next = snapshots
                    .iter()
                    .position(|(state, _, _)| *state != ConnectivityState::TransientFailure);
                if let Some(index) = next {
                    if snapshots[index].0 == ConnectivityState::Idle && (demand || index > 0) {
                        self.subchannels[index].connect();
                    }
                }
            }
        }
    }

    /// The channel's state: ready if any address is; in transient failure when every
    /// address failed, and from then on until one is ready again (grpc-go's "sticky"
    /// failure, so that calls keep failing fast while addresses retry).
    fn aggregate(&self, snapshots: &[Snapshot]) -> ConnectivityState {
        use ConnectivityState::*;
        let any =
            |wanted: ConnectivityState| snapshots.iter().any(|(state, _, _)| *state == wanted);
        if !self.ready.is_empty() {
            return Ready;
        }
        if snapshots.is_empty() {
            return match self.resolution_error {
                Some(_) => TransientFailure,
                None => Connecting,
            };
        }
        let all_failed = snapshots
            .iter()
            .all(|(state, _, _)| *state == TransientFailure);
        if all_failed || (self.state == TransientFailure && !any(Idle)) {
            return TransientFailure;
        }
        if any(Connecting) || any(TransientFailure) {
            return Connecting;
        }
        Idle
    }
}
