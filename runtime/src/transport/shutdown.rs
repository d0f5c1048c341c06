//! The server's shutdown, as each connection sees it: first a drain, in which calls under
//! way finish and idle connections close; then, if the drain outlasts its deadline, a
//! forced close of whatever is left.

use tokio::sync::watch;

/// How far the server's shutdown has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Serving as usual.
    Serving,
    /// No new calls: finish the ones under way, then close.
    Draining,
    /// Close now, calls under way or not.
    Closing,
}

/// Starts a shutdown: the server's side of [`Shutdown`].
#[derive(Debug)]
pub(crate) struct ShutdownTrigger(watch::Sender<Phase>);

/// A connection's view of the server's shutdown. A server that goes away without a
/// shutdown counts as [`Phase::Closing`].
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<Phase>);

/// A trigger and the view it moves.
pub(crate) fn channel() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(Phase::Serving);
    (ShutdownTrigger(sender), Shutdown(receiver))
}

impl ShutdownTrigger {
    /// Moves every connection on to `phase`.
    pub(crate) fn advance(&self, phase: Phase) {
        self.0.send_replace(phase);
    }
}

impl Shutdown {
    /// Whether the drain has begun.
    pub(crate) fn is_draining(&self) -> bool {
        *self.0.borrow() >= Phase::Draining
    }

    /// Completes once the drain begins.
    pub(crate) async fn draining(&mut self) {
        self.reached(Phase::Draining).await;
    }

    /// Completes once connections must close at once.
    pub(crate) async fn closing(&mut self) {
        self.reached(Phase::Closing).await;
    }

    /// Completes once the shutdown has reached `phase`.
    async fn reached(&mut self, phase: Phase) {
        // An error means the server is gone: nothing is left to wait for.
        let _ = self.0.wait_for(|now| *now >= phase).await;
    }
}
