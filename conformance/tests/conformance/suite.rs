//! The ConnectRPC conformance suite against rsrpc, for the gRPC configuration
//! (`grpc.yaml`): the runner drives the client under test against its reference
//! servers, and its reference clients against the server under test. Every case must
//! pass, but those of the configuration's known-failing list (cases where the suite
//! contradicts the gRPC specification), which must fail.

use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use crate::support::{conformance_dir, runner};

/// One run at a time: the two share two CPU cores with the rest of the tests, and the
/// suite's timing cases need their share.
static RUNS: Mutex<()> = Mutex::new(());

/// The counts the runner prints last: `Total cases: N` then `P passed, F failed`.
#[derive(Debug)]
struct Totals {
    total: u32,
    passed: u32,
    failed: u32,
}

fn totals(output: &str) -> Option<Totals> {
    let mut lines = output
        .lines()
        .skip_while(|line| !line.starts_with("Total cases: "));
    let total = lines
        .next()?
        .strip_prefix("Total cases: ")?
        .trim()
        .parse()
        .ok()?;
    let (passed, failed) = lines.next()?.split_once(", ")?;
    Some(Totals {
        total,
        passed: passed.strip_suffix(" passed")?.parse().ok()?,
        failed: failed.trim().strip_suffix(" failed")?.parse().ok()?,
    })
}

/// Runs the suite of `config` in `mode` against `program`, and checks every case passed.
fn passes_every_case(config: &str, mode: &str, program: &str) {
    let _one_at_a_time = RUNS.lock().unwrap_or_else(|poison| poison.into_inner());
    let runner = runner();
    let started = Instant::now();
    let mut command = Command::new(&runner);
    command.arg("--conf").arg(conformance_dir().join(config));
    let list = config.replace(".yaml", &format!(".{mode}.known-failing.txt"));
    let known_failing = conformance_dir().join(list);
    if known_failing.exists() {
        command
            .arg("--known-failing")
            .arg(format!("@{}", known_failing.display()));
    }
    let output = command
        .args(["--mode", mode, "--", program])
        .output()
        .expect("the runner starts");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The runner prints its results, totals last, on stdout.
    let totals = totals(&stdout);
    eprintln!("{config}, {mode} mode, in {elapsed:.1?}: {totals:?}");
    let totals = totals.unwrap_or_else(|| {
        panic!(
            "the runner printed no totals ({}):\n{stdout}\n{stderr}",
            output.status
        )
    });
    assert!(
        output.status.success() && totals.failed == 0,
        "{config}, {mode} mode: {} of {} cases failed ({}):\n{stdout}\n{stderr}",
        totals.failed,
        totals.total,
        output.status
    );
    assert!(
        totals.passed > 0,
        "{config}, {mode} mode ran no case:\n{stdout}\n{stderr}"
    );
}

#[test]
fn the_client_passes_every_grpc_case() {
    passes_every_case(
        "grpc.yaml",
        "client",
        env!("CARGO_BIN_EXE_conformance-client"),
    );
}

#[test]
fn the_server_passes_every_grpc_case() {
    passes_every_case(
        "grpc.yaml",
        "server",
        env!("CARGO_BIN_EXE_conformance-server"),
    );
}
