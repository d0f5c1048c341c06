//! The signals that ask a server to shut down gracefully.

/// Completes when the process is asked to stop: on SIGINT (Ctrl-C) or SIGTERM, the signal
/// orchestrators such as Kubernetes and systemd send. Elsewhere than Unix, on Ctrl-C.
/// Pass it to [`Server::serve_with_shutdown`](super::Server::serve_with_shutdown).
///
/// If a signal handler cannot be installed, it never completes, and an error is logged.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            (Err(error), _) | (_, Err(error)) => {
                tracing::error!(%error, "cannot listen for shutdown signals");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::error!(%error, "cannot listen for Ctrl-C");
        std::future::pending::<()>().await;
    }
}
