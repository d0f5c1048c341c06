//! The closed-loop driver: callers each make one call at a time, as fast as answers
//! come, through a warm-up and then a measured window bounded in time and in calls.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::latency::Latencies;
use crate::procfs::{self, Pid};
use crate::report::Report;

/// Something that makes one call at a time.
pub trait Caller: Send + 'static {
    /// Makes one call; an error stops this caller.
    fn call(&mut self) -> impl Future<Output = Result<(), String>> + Send;
}

/// When to measure.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Calls before the window, not counted, to warm connections and caches.
    pub warmup: Duration,
    /// Length of the measured window, at most.
    pub duration: Duration,
    /// Calls completed in the window, at most: the window closes early on reaching it.
    pub max_calls: u64,
}

/// State the callers and the driver share.
#[derive(Default)]
struct Shared {
    /// Completions count while set.
    measuring: AtomicBool,
    /// Callers stop after their current call once set.
    stopped: AtomicBool,
    completed: AtomicU64,
    max_calls: u64,
    /// Signalled when `max_calls` is reached.
    full: Notify,
    failures: Failures,
}

/// Failed calls: how many, and the first one's message.
#[derive(Default)]
pub struct Failures {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl Failures {
    /// Counts a failure, keeping its message if it is the first.
    pub fn record(&self, error: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(error);
    }

    /// Writes the count and first message into `report`.
    pub fn fill(&self, report: &mut Report) {
        report.errors = self.count.load(Ordering::Relaxed);
        report.first_error = self.first.lock().unwrap_or_else(|e| e.into_inner()).clone();
    }
}

/// Runs `callers` concurrently through `window` and reports the completed calls, their
/// latencies, and the CPU time `server` and this process used in the window.
pub async fn closed_loop<C: Caller>(
    callers: Vec<C>,
    window: Window,
    server: Option<u32>,
) -> Report {
    let shared = Arc::new(Shared {
        max_calls: window.max_calls.max(1),
        ..Shared::default()
    });
    // One histogram per caller, so recording never contends; read once callers stop.
    let histograms: Vec<_> = callers
        .into_iter()
        .map(|caller| {
            let histogram = Arc::new(Mutex::new(Latencies::default()));
            tokio::spawn(drive(caller, Arc::clone(&shared), Arc::clone(&histogram)));
            histogram
        })
        .collect();

    tokio::time::sleep(window.warmup).await;
    let before = CpuSample::take(server);
    shared.measuring.store(true, Ordering::Release);
    let started = Instant::now();
    tokio::select! {
        () = tokio::time::sleep(window.duration) => {}
        () = shared.full.notified() => {}
    }
    shared.stopped.store(true, Ordering::Release);
    let seconds = started.elapsed().as_secs_f64();
    let after = CpuSample::take(server);

    // Calls still in flight are abandoned: the process exits after reporting.
    let mut latencies = Latencies::default();
    for histogram in &histograms {
        latencies.merge(&histogram.lock().unwrap_or_else(|e| e.into_inner()));
    }
    let mut report = Report {
        units: latencies.count(),
        seconds,
        p50_us: (latencies.count() > 0).then(|| latencies.quantile_micros(0.5)),
        p99_us: (latencies.count() > 0).then(|| latencies.quantile_micros(0.99)),
        ..Report::default()
    };
    after.since(&before, &mut report);
    report.server_memory_after = server.and_then(|pid| procfs::memory(Pid::Other(pid)).ok());
    shared.failures.fill(&mut report);
    report
}

/// One caller's loop: call until stopped, recording the calls that end in the window.
async fn drive<C: Caller>(mut caller: C, shared: Arc<Shared>, histogram: Arc<Mutex<Latencies>>) {
    while !shared.stopped.load(Ordering::Acquire) {
        let started = Instant::now();
        if let Err(error) = caller.call().await {
            shared.failures.record(error);
            return;
        }
        if shared.measuring.load(Ordering::Acquire) && !shared.stopped.load(Ordering::Acquire) {
            let latency = started.elapsed();
            histogram
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(latency);
            if shared.completed.fetch_add(1, Ordering::Relaxed) + 1 == shared.max_calls {
                shared.stopped.store(true, Ordering::Release);
                shared.full.notify_one();
            }
        }
    }
}

/// CPU time used so far by the server (if known) and by this process, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    server: Option<f64>,
    load: f64,
}

impl CpuSample {
    /// Reads both counters now.
    pub fn take(server: Option<u32>) -> CpuSample {
        CpuSample {
            server: server.and_then(|pid| procfs::cpu_micros(Pid::Other(pid)).ok()),
            load: procfs::cpu_micros(Pid::This).unwrap_or(0.0),
        }
    }

    /// Writes the CPU used between `earlier` and this sample into `report`.
    pub fn since(&self, earlier: &CpuSample, report: &mut Report) {
        report.server_cpu_us = self
            .server
            .zip(earlier.server)
            .map(|(now, then)| now - then);
        report.load_cpu_us = self.load - earlier.load;
    }
}
