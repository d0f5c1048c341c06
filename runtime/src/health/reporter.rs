//! The statuses the health service reports, and the handle that sets them.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::watch;

use super::ServingStatus;
use crate::server::NamedService;

/// Every service's status, shared by the reporter and the calls under way.
#[derive(Debug)]
pub(super) struct Statuses {
    services: HashMap<String, ServingStatus>,
    shut_down: bool,
}

impl Statuses {
    /// `service`'s status; `None` if the reporter does not know it.
    pub(super) fn get(&self, service: &str) -> Option<ServingStatus> {
        self.services.get(service).copied()
    }

    /// Whether the server is shutting down: statuses no longer change.
    pub(super) fn is_shut_down(&self) -> bool {
        self.shut_down
    }
}

/// Sets the statuses the health service reports. Cheap to clone; every clone sets the
/// statuses of the same service.
///
/// The whole server is the service named `""`, `SERVING` from the start. Once the server's
/// shutdown has begun, every status is `NOT_SERVING` and changes are ignored.
#[derive(Clone, Debug)]
pub struct HealthReporter {
    // One channel for all services: statuses change rarely, and a watcher of a name never
    // set then costs no entry.
    statuses: Arc<watch::Sender<Statuses>>,
}

impl HealthReporter {
    /// A reporter knowing only `""`, `SERVING`.
    pub(super) fn new() -> HealthReporter {
        let services = HashMap::from([(String::new(), ServingStatus::Serving)]);
        let statuses = Statuses {
            services,
            shut_down: false,
        };
        HealthReporter {
            statuses: Arc::new(watch::Sender::new(statuses)),
        }
    }

    /// `service`'s status; `None` if unknown.
    pub(super) fn status(&self, service: &str) -> Option<ServingStatus> {
        self.statuses.borrow().get(service)
    }

    /// A receiver that sees every change of the statuses.
    pub(super) fn subscribe(&self) -> watch::Receiver<Statuses> {
        self.statuses.subscribe()
    }

    /// Reports the service `S` (e.g. `GreeterServer<MyGreeter>`) as `SERVING`.
    pub fn set_serving<S: NamedService>(&self) {
        self.set_service_status(S::NAME, ServingStatus::Serving);
    }

    /// Reports the service `S` as `NOT_SERVING`.
    pub fn set_not_serving<S: NamedService>(&self) {
        self.set_service_status(S::NAME, ServingStatus::NotServing);
    }

    /// Reports `service` (a fully qualified name such as `helloworld.Greeter`, or `""` for
    /// the whole server) with `status`. Watchers hear of it if it changed.
    pub fn set_service_status(&self, service: &str, status: ServingStatus) {
        self.statuses.send_if_modified(|statuses| {
            let unchanged = statuses.get(service) == Some(status);
            if statuses.shut_down || unchanged {
                return false;
            }
            statuses.services.insert(service.to_owned(), status);
            true
        });
    }

    /// Forgets `service`: `Check` answers `NOT_FOUND` for it again, and its watchers see
    /// `SERVICE_UNKNOWN`.
    pub fn clear_service_status(&self, service: &str) {
        self.statuses.send_if_modified(|statuses| {
            !statuses.shut_down && statuses.services.remove(service).is_some()
        });
    }

    /// Reports every known service `NOT_SERVING` and stops taking changes: the server is
    /// shutting down.
    pub(super) fn shut_down(&self) {
        self.statuses.send_modify(|statuses| {
            statuses.shut_down = true;
            statuses
                .services
                .values_mut()
                .for_each(|status| *status = ServingStatus::NotServing);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_reports_every_service_not_serving_and_ignores_later_changes() {
        let reporter = HealthReporter::new();
        reporter.set_service_status("a.A", ServingStatus::Serving);
        reporter.shut_down();
        reporter.set_service_status("a.A", ServingStatus::Serving);
        reporter.set_service_status("b.B", ServingStatus::Serving);
        reporter.clear_service_status("a.A");
        assert_eq!(reporter.status(""), Some(ServingStatus::NotServing));
        assert_eq!(reporter.status("a.A"), Some(ServingStatus::NotServing));
        assert_eq!(reporter.status("b.B"), None);
    }
}
