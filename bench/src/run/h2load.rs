//! Figure 1h's load generator: nghttp2's `h2load`, a C client that costs the load side
//! less per call than `bench-load`, so that the server saturates before it does.
//!
//! `bench/install-h2load` puts a pinned Debian build under `target/bench-tools/h2load`.
//! h2load checks HTTP statuses only, not `grpc-status`: figure 1 checks that the same
//! request succeeds on every server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::process::{Launcher, RunningServer, run_to_end};
use crate::grpc_frame;
use crate::proto::helloworld::HelloRequest;
use crate::report::Report;

/// Calls of each measured run.
pub const CALLS: u64 = 200_000;
/// Calls of the run before it, which is not measured.
pub const WARMUP_CALLS: u64 = 20_000;
/// Bytes of name in the request, as in figure 1.
const NAME_BYTES: usize = 16;
/// The method called.
const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";
/// What installs h2load, relative to the workspace root.
const INSTALL_SCRIPT: &str = "bench/install-h2load";

/// Where h2load and the request body it sends are.
#[derive(Debug, Clone)]
pub struct H2load {
    /// The wrapper that runs the installed h2load.
    pub binary: PathBuf,
    /// The request body: one gRPC frame holding a `HelloRequest`.
    pub request: PathBuf,
}

impl H2load {
    /// The paths under the workspace `root`.
    pub fn under(root: &Path) -> H2load {
        H2load {
            binary: root.join("target/bench-tools/h2load/bin/h2load"),
            request: root.join("target/bench/h2load/say-hello.bin"),
        }
    }

    /// Installs h2load with [`INSTALL_SCRIPT`] unless it runs already, and writes the
    /// request body; an error says what is missing and how to get it.
    pub fn prepare(&self, root: &Path) -> Result<(), String> {
        if !self.runs() {
            eprintln!("figure 1h: installing h2load with {INSTALL_SCRIPT}");
            let installed = Command::new(root.join(INSTALL_SCRIPT))
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if !installed || !self.runs() {
                return Err(format!(
                    "figure 1h needs h2load (Debian's nghttp2-client) and {INSTALL_SCRIPT} could \
                     not install it (see its message above); run it by hand or leave 1h out \
                     with --figures"
                ));
            }
        }
        let name = "x".repeat(NAME_BYTES);
        let frame = grpc_frame::encode(&HelloRequest { name });
        if let Some(parent) = self.request.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&self.request, frame)
            .map_err(|e| format!("cannot write {}: {e}", self.request.display()))
    }

    /// Whether the installed h2load starts.
    fn runs(&self) -> bool {
        Command::new(&self.binary)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// h2load's arguments for `calls` calls to `addr` (`HOST:PORT`), after `options`.
    pub fn args(&self, calls: &str, options: &[String], addr: &str) -> Vec<String> {
        let mut args = vec![
            "-n".to_owned(),
            calls.to_owned(),
            "-d".to_owned(),
            self.request.display().to_string(),
            "-H".to_owned(),
            "content-type: application/grpc".to_owned(),
            "-H".to_owned(),
            "te: trailers".to_owned(),
        ];
        args.extend(options.iter().cloned());
        args.push(format!("http://{addr}{SAY_HELLO}"));
        args
    }
}

/// The h2load options of figure 1h: 50 connections × 10 calls in flight, one thread.
pub fn options() -> Vec<String> {
    ["-c", "50", "-m", "10", "-t", "1"]
        .map(str::to_owned)
        .to_vec()
}

/// Runs h2load against `server` with `options`: [`WARMUP_CALLS`] calls, then [`CALLS`]
/// measured ones. The server's CPU is read around the measured run, h2load's from the
/// resource usage of waited-for children. Any call that did not get a 2xx answer makes
/// the run an error.
pub fn run(
    launcher: &Launcher,
    server: &RunningServer,
    options: &[String],
    timeout: Duration,
) -> Result<Report, String> {
    let addr = server.addr.to_string();
    let run_once = |calls: u64| -> Result<Summary, String> {
        let args = launcher.h2load.args(&calls.to_string(), options, &addr);
        let output = run_to_end("h2load", &launcher.h2load_command(&args), timeout)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "h2load failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Summary::parse(&stdout, calls)
    };
    run_once(WARMUP_CALLS)?;
    let server_pid = crate::procfs::Pid::Other(server.pid());
    let server_before = crate::procfs::cpu_micros(server_pid).map_err(|e| e.to_string())?;
    let load_before = children_cpu_micros();
    let summary = run_once(CALLS)?;
    let server_after = crate::procfs::cpu_micros(server_pid).map_err(|e| e.to_string())?;
    Ok(Report {
        units: CALLS,
        seconds: summary.seconds,
        server_cpu_us: Some(server_after - server_before),
        load_cpu_us: children_cpu_micros() - load_before,
        payload_bytes: NAME_BYTES as u64,
        ..Report::default()
    })
}

/// User plus system CPU time of this process's waited-for children, in microseconds.
fn children_cpu_micros() -> f64 {
    // SAFETY: getrusage only writes the struct passed in; all zeros is a valid rusage.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let micros = |time: libc::timeval| time.tv_sec as f64 * 1e6 + time.tv_usec as f64;
    micros(usage.ru_utime) + micros(usage.ru_stime)
}

/// What one h2load run reports, once checked.
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    /// Wall time of the run, connection setup included.
    seconds: f64,
}

impl Summary {
    /// Reads h2load's closing lines, requiring that all `calls` calls were made, none
    /// failed, and each got a 2xx answer.
    fn parse(stdout: &str, calls: u64) -> Result<Summary, String> {
        let line = |prefix: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(prefix))
                .ok_or_else(|| format!("h2load printed no `{prefix}` line"))
        };
        let requests = line("requests: ")?;
        let statuses = line("status codes: ")?;
        let all_done = ["total", "started", "done", "succeeded"]
            .iter()
            .all(|what| count(requests, what) == Some(calls));
        let none_failed = ["failed", "errored", "timeout"]
            .iter()
            .all(|what| count(requests, what) == Some(0));
        if !(all_done && none_failed && count(statuses, "2xx") == Some(calls)) {
            return Err(format!(
                "not every call succeeded with 2xx: requests: {requests}; status codes: \
                 {statuses}"
            ));
        }
        let finished = line("finished in ")?;
        let seconds = finished
            .split(',')
            .next()
            .and_then(duration_seconds)
            .ok_or_else(|| format!("cannot read the duration of `finished in {finished}`"))?;
        Ok(Summary { seconds })
    }
}

/// The number before `what` in a list such as `10 total, 9 done, 1 failed`.
fn count(list: &str, what: &str) -> Option<u64> {
    list.split(',').find_map(|item| {
        let (number, name) = item.trim().split_once(' ')?;
        (name == what).then(|| number.parse().ok()).flatten()
    })
}

/// h2load's duration (`1.71s`, `850.12ms`, `90us`) in seconds.
fn duration_seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, per_second) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e3)
    } else if let Some(us) = text.strip_suffix("us") {
        (us, 1e6)
    } else {
        (text.strip_suffix('s')?, 1.0)
    };
    Some(number.parse::<f64>().ok()? / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
starting benchmark...
progress: 100% done

finished in 1.71s, 29314.96 req/s, 1.51MB/s
requests: 50000 total, 50000 started, 50000 done, 50000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 50000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 2.59MB (2712949) total, 151.81KB (155450) headers (space savings 95.96%), 1.10MB (1150000) data
";

    #[test]
    fn reads_a_successful_run() {
        assert_eq!(
            Summary::parse(OUTPUT, 50_000),
            Ok(Summary { seconds: 1.71 })
        );
    }

    #[test]
    fn a_failed_call_is_an_error() {
        let failed = OUTPUT
            .replace("50000 succeeded, 0 failed", "49999 succeeded, 1 failed")
            .replace("50000 2xx, 0 3xx, 0 4xx", "49999 2xx, 0 3xx, 1 4xx");
        assert!(Summary::parse(&failed, 50_000).is_err());
        let not_2xx = OUTPUT.replace("50000 2xx, 0 3xx", "49000 2xx, 1000 3xx");
        assert!(Summary::parse(&not_2xx, 50_000).is_err());
        // Fewer calls than asked for.
        assert!(Summary::parse(OUTPUT, 60_000).is_err());
        assert!(Summary::parse("finished in 1s", 1).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("850ms"), Some(0.85));
        assert_eq!(duration_seconds("2s"), Some(2.0));
        assert_eq!(duration_seconds("90us"), Some(90e-6));
        assert_eq!(duration_seconds("soon"), None);
    }

    #[test]
    fn arguments_end_with_the_url() {
        let h2load = H2load::under(Path::new("/r"));
        let args = h2load.args("200000", &options(), "127.0.0.1:9");
        assert_eq!(
            args[..4],
            ["-n", "200000", "-d", "/r/target/bench/h2load/say-hello.bin"]
        );
        assert!(args.windows(2).any(|w| w == ["-H", "te: trailers"]));
        assert_eq!(
            args.last().map(String::as_str),
            Some("http://127.0.0.1:9/helloworld.Greeter/SayHello")
        );
    }
}
