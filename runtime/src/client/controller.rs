//! The background tasks of an active channel: the controller, which follows subchannel
//! changes and returns the channel to idle, and the resolution of a DNS target. Both
//! hold the channel weakly and end when it goes idle or is dropped.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::backoff::Backoff;
use super::shared::{Addresses, Shared};
use crate::status::Status;
use crate::transport::connect::{Connector, host_of};

/// Re-resolution asked for by a failing address waits at least this long after the
/// last lookup (grpc-go's DNS resolver's 30 s), so that a server that stays down does
/// not have every channel query DNS in a loop.
const MIN_RERESOLUTION_INTERVAL: Duration = Duration::from_secs(30);
/// How long a name resolution may take.
const RESOLUTION_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts the tasks of a channel just made active: the controller, and the resolution
/// of a DNS target (which ends when the channel goes idle).
pub(super) fn start(shared: &Arc<Shared>) {
    if matches!(shared.addresses, Addresses::Dns { .. }) {
        let resolution = tokio::spawn(resolve_continuously(Arc::downgrade(shared)));
        if let Some(active) = shared.lock().as_mut() {
            active.resolution = Some(resolution.abort_handle());
        }
    }
    tokio::spawn(control(Arc::downgrade(shared)));
}

/// Follows subchannel changes (publishing the channel's state, so that waiting calls
/// look again), asks for re-resolution while an address fails, and returns the channel
/// to idle when no call was made for its idle timeout.
async fn control(channel: Weak<Shared>) {
    let Some(shared) = channel.upgrade() else {
        return;
    };
    let changed = Arc::clone(&shared.changed);
    let idle_timeout = shared.idle_timeout;
    drop(shared);
    let mut idle_check_at = idle_timeout.map(|timeout| Instant::now() + timeout);
    loop {
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
        if shared.lock().is_none() {
            // Gone idle: the next activation starts a controller of its own.
            return;
        }
        shared.refresh();
        if shared.any_failing() {
            // A failing address may have moved.
            shared.resolve_now.notify_one();
        }
        drop(shared);
        tokio::select! {
            () = changed.notified() => {}
            () = sleep_until(idle_check_at) => {}
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

/// Resolves a DNS target and hands the addresses to the balancer: again every
/// resolution interval, sooner when the controller asks (but not within
/// [`MIN_RERESOLUTION_INTERVAL`] of the last lookup), and after a failed lookup with
/// the channel's connection backoff. Runs beside the controller, so that a slow lookup
/// holds up nothing else.
async fn resolve_continuously(channel: Weak<Shared>) {
    let Some(shared) = channel.upgrade() else {
        return;
    };
    let Addresses::Dns {
        template,
        port,
        resolver,
        interval,
    } = &shared.addresses
    else {
        return;
    };
    let (template, port, resolver, interval) =
        (template.clone(), *port, Arc::clone(resolver), *interval);
    let resolve_now = Arc::clone(&shared.resolve_now);
    let backoff_config = shared.connect_settings.backoff;
    drop(shared);
    let host = host_of(&template.authority).to_owned();
    let mut failing = None::<Backoff>;
    loop {
        let looked_up_at = Instant::now();
        let lookup = tokio::time::timeout(RESOLUTION_TIMEOUT, resolver.resolve(&host, port)).await;
        let addresses = match lookup {
            Ok(Ok(addresses)) if !addresses.is_empty() => Ok(addresses),
            Ok(Ok(_)) => Err("no addresses".to_owned()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("timed out after {RESOLUTION_TIMEOUT:?}")),
        };
        let resolved = addresses.is_ok();
        let Some(shared) = channel.upgrade() else {
            return;
        };
        if !apply(&shared, addresses, &template, &host) {
            return;
        }
        drop(shared);
        if resolved {
            failing = None;
            let soonest = looked_up_at + interval.min(MIN_RERESOLUTION_INTERVAL);
            tokio::select! {
                () = tokio::time::sleep_until(looked_up_at + interval) => {}
                () = async {
                    resolve_now.notified().await;
                    tokio::time::sleep_until(soonest).await;
                } => {}
            }
        } else {
            failing
                .get_or_insert_with(|| Backoff::start(backoff_config))
                .wait()
                .await;
        }
    }
}

/// Hands a lookup's outcome to the balancer; `false` when the channel is idle.
fn apply(
    shared: &Shared,
    addresses: Result<Vec<std::net::SocketAddr>, String>,
    template: &Connector,
    host: &str,
) -> bool {
    let mut activity = shared.lock();
    let Some(active) = activity.as_mut() else {
        return false;
    };
    match addresses {
        Ok(addresses) => active.balancer.set_addresses(
            addresses
                .into_iter()
                .map(|address| Connector {
                    address: Some(address),
                    ..template.clone()
                })
                .collect(),
        ),
        Err(reason) => active
            .balancer
            .resolution_failed(Status::unavailable(format!(
                "failed to resolve {host}: {reason}"
            ))),
    }
    drop(activity);
    // The controller publishes the new state.
    shared.changed.notify_one();
    true
}
