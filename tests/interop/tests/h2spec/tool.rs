//! h2spec, the HTTP/2 conformance tester: installed into `target/interop/bin/` from
//! the version pinned by `tests/interop/h2spec/go.mod` (and `go.sum`), and run against
//! a server on 127.0.0.1 over h2c with prior knowledge.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::junit::{self, Case, Outcome};
use crate::support::go;
use crate::support::paths;
use crate::support::process::{self, Exit, Finished, Program, flag};
use crate::support::provision::{self, step};

/// The package `go install` builds, at the version `go.mod` pins.
const PACKAGE: &str = "github.com/summerwind/h2spec/cmd/h2spec";

/// Seconds h2spec waits for the frame a case expects (its `-o`) before failing it.
const CASE_TIMEOUT_SECONDS: &str = "2";

/// Longest a run of every case may take before h2spec is killed. A run takes about
/// 10 s; a server that stalled every case would take 145 × 2 s.
const FULL_RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Longest a run of one case may take before h2spec is killed.
const SINGLE_CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// The installed h2spec.
#[derive(Clone, Debug)]
pub struct H2spec {
    exe: PathBuf,
}

/// A run of every case.
#[derive(Debug)]
pub struct FullRun {
    /// Every case, in h2spec's order.
    pub cases: Vec<Case>,
    /// The log holding h2spec's output.
    pub log: PathBuf,
    /// h2spec's output: each case, then the failures in detail.
    pub output: String,
}

impl H2spec {
    /// Runs every case against 127.0.0.1:`port`, logging to `<logs>/all-cases.log`.
    pub fn run_all(&self, port: u16, logs: &Path) -> Result<FullRun, String> {
        let run = self.run(port, None, logs, "all-cases", FULL_RUN_TIMEOUT)?;
        Ok(FullRun {
            cases: junit::parse_full_run(&run.report)?,
            log: run.log,
            output: run.finished.output,
        })
    }

    /// Runs the case `id` alone against 127.0.0.1:`port`, logging to
    /// `<logs>/<log_name>.log`, and returns its outcome.
    pub fn run_case(
        &self,
        port: u16,
        id: &str,
        logs: &Path,
        log_name: &str,
    ) -> Result<Outcome, String> {
        let run = self.run(port, Some(id), logs, log_name, SINGLE_CASE_TIMEOUT)?;
        junit::parse_single_case(&run.report, id)
    }

    /// Runs h2spec on `case` alone, or on every case. Fails if it had to be killed or
    /// wrote no report; its exit status is not checked, as it is 1 whenever a case
    /// fails.
    fn run(
        &self,
        port: u16,
        case: Option<&str>,
        logs: &Path,
        log_name: &str,
        timeout: Duration,
    ) -> Result<Run, String> {
        let report = logs.join(format!("{log_name}.xml"));
        let log = logs.join(format!("{log_name}.log"));
        // A report left by an earlier run must not pass for this one's.
        let _ = fs::remove_file(&report);
        let mut command = Program::new(&self.exe)
            .arg("-h")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(port.to_string())
            .arg("-o")
            .arg(CASE_TIMEOUT_SECONDS)
            .arg(flag("--junit-report", &report))
            .command();
        command.args(case);
        let shown = format!("{command:?}");
        let finished = process::run(command, &log, timeout)
            .map_err(|err| format!("running {shown}: {err}"))?;
        let written = match finished.exit {
            Exit::TimedOut(_) => Err(format!("{shown} {}", finished.exit)),
            Exit::Status(_) => fs::read_to_string(&report).map_err(|err| {
                format!(
                    "{shown} {}, and its report {} cannot be read: {err}",
                    finished.exit,
                    report.display()
                )
            }),
        };
        match written {
            Ok(report) => Ok(Run {
                report,
                log,
                finished,
            }),
            Err(why) => Err(format!("{why}:\n{}", finished.output)),
        }
    }
}

/// One h2spec process that ended and wrote its report.
struct Run {
    /// The JUnit report.
    report: String,
    /// The log of its output.
    log: PathBuf,
    /// How it ended, and its output.
    finished: Finished,
}

/// Installs h2spec into `target/interop/bin/h2spec` unless it is there, installed from
/// the current pin.
pub fn provision() -> Result<H2spec, String> {
    let exe = paths::interop_dir().join("bin/h2spec");
    provision::ensure("h2spec", &go::pin(&module_dir())?, &[&exe], || {
        install(&exe)
    })?;
    Ok(H2spec { exe })
}

/// `tests/interop/h2spec/`: the Go module that pins h2spec.
fn module_dir() -> PathBuf {
    paths::package_dir().join("h2spec")
}

/// `go install`s h2spec into a staging directory (its GOBIN), then moves it into
/// place, so a half-written binary never looks installed.
fn install(exe: &Path) -> Result<(), String> {
    let staging = exe.with_file_name("h2spec-staging");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|err| format!("creating {}: {err}", staging.display()))?;
    let mut install = go::in_module(&module_dir(), &["install", PACKAGE]);
    install.env("GOBIN", &staging);
    step(install, "h2spec-install", go::NOT_FOUND)?;
    provision::move_file(&staging.join("h2spec"), exe)
}
