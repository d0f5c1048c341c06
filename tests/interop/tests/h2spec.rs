//! HTTP/2 conformance of rsrpc's server: h2spec runs every case against
//! `interop-server` over h2c, and the test fails on every case that passed in the
//! baseline (`tests/interop/h2spec/baseline-hyper.txt`, taken on hyper's HTTP/2 server)
//! but does not pass now. `tests/interop/README.md` has the counts and the cases a gRPC
//! server fails by design.

#[allow(
    dead_code,
    reason = "the matrix's harness: this test uses only its server, process and provisioning parts"
)]
mod support;

#[path = "h2spec/baseline.rs"]
mod baseline;
#[path = "h2spec/junit.rs"]
mod junit;
#[path = "h2spec/tool.rs"]
mod tool;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use junit::{Case, Outcome};
use support::paths;
use support::peers;
use support::report::Report;
use support::server::Server;
use support::tls::Transport;
use tool::H2spec;

/// The baseline, relative to the package directory.
const BASELINE: &str = "h2spec/baseline-hyper.txt";

/// How many times a baseline case that failed in the full run is run again alone
/// before it counts as a regression. Several cases race the server's immediate
/// answer to their first frame and fail one run in five or so (see the README).
const RERUNS: usize = 5;

#[test]
fn every_baseline_case_still_passes() {
    let title = format!("h2spec cases of {BASELINE}");
    let h2spec =
        tool::provision().unwrap_or_else(|err| panic!("{title}: h2spec is not available: {err}"));
    let baseline = baseline::load(&paths::package_dir().join(BASELINE))
        .unwrap_or_else(|err| panic!("{title}: {err}"));
    let (logs, _logs_lock) =
        paths::fresh_logs("h2spec").unwrap_or_else(|err| panic!("{title}: {err}"));
    let mut server = Server::start(
        &peers::rsrpc_server(),
        &Transport::Plaintext,
        &logs.join("server.log"),
    )
    .unwrap_or_else(|err| panic!("{title}: {err}"));

    let mut report = Report::new(title);
    match h2spec.run_all(server.port(), &logs) {
        Ok(run) => {
            println!("{}", summary(&run.cases, &baseline));
            let checker = Checker {
                h2spec: &h2spec,
                port: server.port(),
                logs: &logs,
            };
            checker.check(&run.cases, &baseline, &mut report);
            if report.has_failures() {
                report.attach(&run.log, &run.output);
            }
        }
        Err(err) => report.fail("(h2spec)", err),
    }
    if let Some(why) = server.exited() {
        report.fail("(server)", why);
    }
    if report.has_failures() {
        report.attach(server.log(), &server.output());
    }
    report.finish(&[]);
}

/// The counts of a full run, and the cases that pass now but are not in the baseline.
fn summary(cases: &[Case], baseline: &BTreeSet<String>) -> String {
    let count =
        |outcome: fn(&Outcome) -> bool| cases.iter().filter(|c| outcome(&c.outcome)).count();
    let mut summary = format!(
        "h2spec: {} cases, {} passed, {} failed, {} skipped",
        cases.len(),
        count(|outcome| *outcome == Outcome::Passed),
        count(|outcome| matches!(outcome, Outcome::Failed(_))),
        count(|outcome| *outcome == Outcome::Skipped),
    );
    for case in cases {
        if case.outcome == Outcome::Passed && !baseline.contains(&case.id) {
            let _ = write!(
                summary,
                "\n  passes, not in the baseline: {} {}",
                case.id, case.description
            );
        }
    }
    summary
}

/// Checks the baseline cases against a full run, rerunning the ones that failed in it.
struct Checker<'a> {
    h2spec: &'a H2spec,
    port: u16,
    logs: &'a Path,
}

impl Checker<'_> {
    /// Records every baseline case in `report`: passed if it passed in the full run or
    /// in one of its reruns.
    fn check(&self, cases: &[Case], baseline: &BTreeSet<String>, report: &mut Report) {
        for id in baseline {
            let verdict = match cases.iter().find(|case| &case.id == id) {
                Some(case) if case.outcome == Outcome::Passed => Ok(()),
                Some(case) => self.rerun(case),
                None => Err("not among the cases h2spec ran".to_owned()),
            };
            match verdict {
                Ok(()) => report.pass(id),
                Err(why) => report.fail(id, why),
            }
        }
    }

    /// Runs a case that failed in the full run alone, up to [`RERUNS`] times, until it
    /// passes. If it never does, says how it went in the full run and the last rerun.
    fn rerun(&self, case: &Case) -> Result<(), String> {
        let mut last = String::new();
        for attempt in 1..=RERUNS {
            let log_name = format!("rerun-{}-{attempt}", case.id.replace('/', "_"));
            match self
                .h2spec
                .run_case(self.port, &case.id, self.logs, &log_name)
            {
                Ok(Outcome::Passed) => {
                    println!(
                        "  passed on rerun {attempt}: {} {}",
                        case.id, case.description
                    );
                    return Ok(());
                }
                Ok(outcome) => last = describe(&outcome),
                Err(err) => last = err,
            }
        }
        Err(format!(
            "{}\n    in the full run: {}\n    in rerun {RERUNS}: {last}",
            case.description,
            describe(&case.outcome),
        ))
    }
}

/// A failed or skipped outcome in a line, for the report.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Passed => "passed".to_owned(),
        Outcome::Skipped => "skipped".to_owned(),
        Outcome::Failed(reason) => format!("failed: {}", reason.replace('\n', " / ")),
    }
}
