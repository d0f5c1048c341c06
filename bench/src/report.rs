//! [`Report`]: what one `bench-load` run measured. It prints it as one JSON line, and
//! `bench-run` reads it back.

use serde::{Deserialize, Serialize};

use crate::procfs::Memory;

/// The outcome of one measurement. A "unit" is what the mode counts: a call, a streamed
/// message, a ping-pong round trip, or an idle connection or stream held open.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    /// Units completed in the measured window.
    pub units: u64,
    /// Failed calls (and streams) over the whole run, warm-up included.
    pub errors: u64,
    /// The first failure, to show what went wrong.
    pub first_error: Option<String>,
    /// Length of the measured window.
    pub seconds: f64,
    /// Median latency of the units, when they have one.
    pub p50_us: Option<f64>,
    /// 99th percentile latency.
    pub p99_us: Option<f64>,
    /// CPU time the server used in the window (user + system, all threads).
    pub server_cpu_us: Option<f64>,
    /// CPU time the load generator itself used in the window.
    pub load_cpu_us: f64,
    /// Payload bytes moved per unit, each way.
    pub payload_bytes: u64,
    /// The server's resident memory before the load (memory modes) ...
    pub server_memory_before: Option<Memory>,
    /// ... and at the end of the run.
    pub server_memory_after: Option<Memory>,
}

impl Report {
    /// A measurement that could not be made.
    pub fn failed(error: String) -> Report {
        Report {
            errors: 1,
            first_error: Some(error),
            ..Report::default()
        }
    }

    /// Units per second.
    pub fn rate(&self) -> f64 {
        self.units as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// Server CPU microseconds per unit.
    pub fn server_cpu_per_unit(&self) -> Option<f64> {
        Some(self.server_cpu_us? / self.units_nonzero()?)
    }

    /// Load generator (or measured client) CPU microseconds per unit.
    pub fn load_cpu_per_unit(&self) -> Option<f64> {
        Some(self.load_cpu_us / self.units_nonzero()?)
    }

    /// Server CPU use over the window as a share of one core (1.0 = one core busy).
    pub fn server_busy(&self) -> Option<f64> {
        Some(self.server_cpu_us? / 1e6 / self.seconds)
    }

    /// Load generator CPU use over the window as a share of one core.
    pub fn load_busy(&self) -> f64 {
        self.load_cpu_us / 1e6 / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// Payload mebibytes per second, each way.
    pub fn mib_per_second(&self) -> f64 {
        self.rate() * self.payload_bytes as f64 / (1024.0 * 1024.0)
    }

    /// Growth of the server's resident memory per unit held open, in KiB.
    pub fn rss_growth_per_unit_kib(&self) -> Option<f64> {
        let before = self.server_memory_before?.rss_kib as f64;
        let after = self.server_memory_after?.rss_kib as f64;
        Some((after - before) / self.units_nonzero()?)
    }

    /// Units as a divisor; `None` if there were none.
    fn units_nonzero(&self) -> Option<f64> {
        (self.units > 0).then_some(self.units as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_rates() {
        let report = Report {
            units: 1000,
            seconds: 2.0,
            server_cpu_us: Some(500_000.0),
            load_cpu_us: 250_000.0,
            payload_bytes: 1024 * 1024,
            server_memory_before: Some(Memory {
                rss_kib: 1000,
                peak_kib: 1000,
            }),
            server_memory_after: Some(Memory {
                rss_kib: 3000,
                peak_kib: 4000,
            }),
            ..Report::default()
        };
        assert_eq!(report.rate(), 500.0);
        assert_eq!(report.server_cpu_per_unit(), Some(500.0));
        assert_eq!(report.load_cpu_per_unit(), Some(250.0));
        assert_eq!(report.server_busy(), Some(0.25));
        assert_eq!(report.load_busy(), 0.125);
        assert_eq!(report.mib_per_second(), 500.0);
        assert_eq!(report.rss_growth_per_unit_kib(), Some(2.0));
        assert_eq!(Report::default().server_cpu_per_unit(), None);
    }
}
