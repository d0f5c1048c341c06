//! Verdicts of one matrix cell: the clients' `PASS`/`FAIL` lines, and a report that
//! lists every failing case with the output needed to debug it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Longest tail of a log that a report shows; the full log stays on disk.
const MAX_SHOWN: usize = 16 * 1024;

/// Case name to verdict: `Err` holds a failure's reason.
pub type Verdicts<'a> = BTreeMap<&'a str, Result<(), &'a str>>;

/// The verdicts in a reporting client's output: `PASS name`, or `FAIL name: reason`
/// (an `Err` with the reason). Other lines are ignored.
pub fn parse_verdicts(output: &str) -> Verdicts<'_> {
    let mut verdicts = BTreeMap::new();
    for line in output.lines().map(str::trim) {
        if let Some(case) = line.strip_prefix("PASS ") {
            verdicts.insert(case.trim(), Ok(()));
        } else if let Some(rest) = line.strip_prefix("FAIL ") {
            let (case, reason) = rest.split_once(':').unwrap_or((rest, ""));
            verdicts.insert(case.trim(), Err(reason.trim()));
        }
    }
    verdicts
}

/// The outcome of one cell, collected case by case and checked once at the end.
#[derive(Debug)]
pub struct Report {
    title: String,
    passed: Vec<String>,
    failed: Vec<(String, String)>,
    logs: Vec<(String, String)>,
}

impl Report {
    /// An empty report for the cell called `title`.
    pub fn new(title: String) -> Report {
        Report {
            title,
            passed: Vec::new(),
            failed: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// Records that `case` passed.
    pub fn pass(&mut self, case: &str) {
        self.passed.push(case.to_owned());
    }

    /// Records that `case` (or a cell-wide check in parentheses) failed, and why.
    pub fn fail(&mut self, case: &str, why: impl Into<String>) {
        self.failed.push((case.to_owned(), why.into()));
    }

    /// Whether anything has failed so far.
    pub fn has_failures(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Adds a log to show if the cell fails.
    pub fn attach(&mut self, log: &Path, contents: &str) {
        self.logs
            .push((log.display().to_string(), tail(contents).to_owned()));
    }

    /// Panics with every failure and the attached logs if anything failed; otherwise
    /// prints a summary (shown by `cargo test -- --nocapture`).
    pub fn finish(self, not_run: &[(&str, &str)]) {
        let mut summary = format!(
            "{}: {} passed, {} failed",
            self.title,
            self.passed.len(),
            self.failed.len()
        );
        for (case, reason) in not_run {
            let _ = write!(summary, "\n  not run: {case} ({reason})");
        }
        if self.failed.is_empty() {
            println!("{summary}");
            return;
        }
        for (case, why) in &self.failed {
            let _ = write!(summary, "\n  FAILED {case}: {why}");
        }
        for (log, contents) in &self.logs {
            let _ = write!(summary, "\n\n--- {log} ---\n{contents}");
        }
        panic!("{summary}");
    }
}

/// The end of `text`, at most [`MAX_SHOWN`] bytes, cut at a character boundary.
fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(MAX_SHOWN);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
