//! One row of the matrix: a client peer running its cases against a server peer over
//! one transport, every case's verdict collected before anything is reported.

use std::path::PathBuf;
use std::time::Duration;

use super::cases;
use super::http::Http;
use super::paths;
use super::peers;
use super::process::{self, Exit, Finished, Program, flag};
use super::report::{Report, Verdicts, parse_verdicts};
use super::server::Server;
use super::tls::{Security, Transport};

/// Longest a client process may run, whether it runs one case or all of them.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How a client peer takes its cases and reports them.
#[derive(Clone, Debug)]
pub enum Client {
    /// One `--test_case` per process, judged by exit status (grpc-go's client).
    OneCasePerRun(Program),
    /// A comma-separated `--test_case` list, a `PASS name` or `FAIL name: reason` line
    /// per case, and a non-zero exit status if any failed (rsrpc's and Python's clients).
    Reporting(Program),
}

/// One cell of the matrix.
#[derive(Debug)]
pub struct Cell {
    /// Whose client runs the cases, e.g. "grpc-go".
    pub client_peer: &'static str,
    /// The client program.
    pub client: Client,
    /// Whose server the client talks to.
    pub server_peer: &'static str,
    /// The server program.
    pub server: Program,
    /// The HTTP version, passed as `--transport` to a client that has the flag
    /// (rsrpc's, Armeria's). `None` for the clients without it, which speak HTTP/2.
    pub http: Option<Http>,
    /// The cases of [`cases::ALL`] this pair cannot run, with the reasons.
    pub excluded: &'static [(&'static str, &'static str)],
    /// Plaintext or TLS.
    pub security: Security,
}

impl Cell {
    /// Runs every case and panics with a report of all failures, if any.
    pub fn run(self) {
        let name = format!(
            "{}-client-to-{}-server-{}-{}",
            self.client_peer,
            self.server_peer,
            self.http.unwrap_or(Http::H2).label(),
            self.security.label()
        );
        let title = format!("interop cell {name}");
        let transport = match self.security {
            Security::Plaintext => Transport::Plaintext,
            Security::Tls => Transport::Tls(peers::certs().clone()),
        };
        let (logs, _logs_lock) =
            paths::fresh_logs(&name).unwrap_or_else(|err| panic!("{title}: {err}"));
        let mut server = Server::start(&self.server, &transport, &logs.join("server.log"))
            .unwrap_or_else(|err| panic!("{title}: {err}"));

        let mut report = Report::new(title);
        let runner = ClientRunner {
            port: server.port(),
            http: self.http,
            transport,
            logs,
        };
        let cases = cases::all_except(self.excluded);
        match &self.client {
            Client::OneCasePerRun(program) => runner.one_per_run(program, &cases, &mut report),
            Client::Reporting(program) => runner.reporting(program, &cases, &mut report),
        }
        if let Some(why) = server.exited() {
            report.fail("(server)", why);
        }
        if report.has_failures() {
            report.attach(server.log(), &server.output());
        }
        report.finish(self.excluded);
    }
}

/// Runs a cell's client processes against its running server.
struct ClientRunner {
    port: u16,
    http: Option<Http>,
    transport: Transport,
    logs: PathBuf,
}

impl ClientRunner {
    /// Runs each case in its own process.
    fn one_per_run(&self, program: &Program, cases: &[&str], report: &mut Report) {
        for case in cases {
            let (log, run) = self.run(program, case, case);
            if run.exit.success() {
                report.pass(case);
            } else {
                report.fail(case, format!("the client {}", run.exit));
                report.attach(&log, &run.output);
            }
        }
    }

    /// Runs all cases in one process. A case left without a verdict (the client
    /// crashed or hung before it) is rerun alone, so it gets its own verdict.
    fn reporting(&self, program: &Program, cases: &[&str], report: &mut Report) {
        let (log, batch) = self.run(program, &cases.join(","), "all-cases");
        let verdicts = parse_verdicts(&batch.output);
        let mut attach = !consistent_exit(batch.exit, &verdicts, cases, report);
        for case in cases {
            match verdicts.get(case) {
                Some(Ok(())) => report.pass(case),
                Some(Err(reason)) => {
                    report.fail(case, format!("FAIL {reason}"));
                    attach = true;
                }
                None => self.rerun_alone(program, case, report),
            }
        }
        if attach {
            report.attach(&log, &batch.output);
        }
    }

    /// Reruns `case` by itself after the batch run left it without a verdict.
    fn rerun_alone(&self, program: &Program, case: &str, report: &mut Report) {
        let (log, run) = self.run(program, case, case);
        let verdicts = parse_verdicts(&run.output);
        match verdicts.get(case) {
            Some(Ok(())) => {
                report.pass(case);
                return;
            }
            Some(Err(reason)) => report.fail(case, format!("FAIL {reason}")),
            None => report.fail(
                case,
                format!(
                    "no PASS/FAIL line, in the batch run or alone (the client {})",
                    run.exit
                ),
            ),
        }
        report.attach(&log, &run.output);
    }

    /// Runs the client with `--test_case=test_case`, logging to `<log_name>.log`.
    fn run(&self, program: &Program, test_case: &str, log_name: &str) -> (PathBuf, Finished) {
        let log = self.logs.join(format!("{log_name}.log"));
        let mut command = program.command();
        command
            .arg(flag("--server_host", "127.0.0.1"))
            .arg(flag("--server_port", self.port.to_string()))
            .arg(flag("--test_case", test_case))
            .args(self.http.map(Http::client_arg))
            .args(self.transport.client_args());
        let shown = format!("{command:?}");
        let finished = process::run(command, &log, CLIENT_TIMEOUT)
            .unwrap_or_else(|err| panic!("running {shown}: {err}"));
        (log, finished)
    }
}

/// Checks that the client finished in time and kept the reporting contract (exit
/// status 0 exactly when every case printed PASS). Records a failure and returns
/// false if not.
fn consistent_exit(
    exit: Exit,
    verdicts: &Verdicts<'_>,
    cases: &[&str],
    report: &mut Report,
) -> bool {
    let all_passed = cases
        .iter()
        .all(|case| matches!(verdicts.get(case), Some(Ok(()))));
    let why = match exit {
        Exit::TimedOut(_) => format!("the client {exit}"),
        _ if exit.success() == all_passed => return true,
        _ if all_passed => format!("every case printed PASS but the client {exit}"),
        _ => "the client exited 0 although not every case printed PASS".to_owned(),
    };
    report.fail("(client)", why);
    false
}
