//! [`ConnectivityState`]: how ready a channel is to carry calls.

use std::fmt;

/// The connectivity state of a [`Channel`](crate::Channel), as gRPC defines it
/// (`connectivity-semantics-and-api.md`) and grpc-go names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectivityState {
    /// No connection and none being opened: the next call, or
    /// [`Channel::connect_if_idle`](crate::Channel::connect_if_idle), starts one. A
    /// channel starts here, and returns here after its idle timeout.
    Idle,
    /// A connection is being opened.
    Connecting,
    /// A connection is open and calls go out at once.
    Ready,
    /// Connecting failed; the channel retries after a backoff. Calls fail at once with
    /// `UNAVAILABLE` unless they wait for ready.
    TransientFailure,
    /// Every clone of the channel was dropped, or the channel was shut down.
    Shutdown,
}

impl fmt::Display for ConnectivityState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectivityState::Idle => "IDLE",
            ConnectivityState::Connecting => "CONNECTING",
            ConnectivityState::Ready => "READY",
            ConnectivityState::TransientFailure => "TRANSIENT_FAILURE",
            ConnectivityState::Shutdown => "SHUTDOWN",
        })
    }
}
