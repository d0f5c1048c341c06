//! The targets rsrpc is held to: bounds on the paired ratios of a run, or columns a
//! figure must report.

use super::figures::{
    CLIENT_CPU_PER_CALL, KIB_PER_CONNECTION, KIB_PER_STREAM, P99, SERVER_CPU_PER_CALL,
    SERVER_CPU_PER_MESSAGE,
};
use super::instructions::{CLIENT_IR_PER_CALL, SERVER_IR_PER_CALL};
use super::stats;
use super::table::Table;

/// A promise about one metric of a figure.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// What is promised, in words.
    pub text: &'static str,
    /// Figure id.
    pub figure: &'static str,
    /// Row label.
    pub metric: &'static str,
    /// What the row must show.
    pub goal: Goal,
}

/// What a target's row must show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// The subject column over the `against` column must keep within `bound`.
    Ratio {
        /// The column compared with.
        against: &'static str,
        /// The bound on subject / against.
        bound: Bound,
    },
    /// Every one of these columns must have a value.
    Reported(&'static [&'static str]),
}

/// Which side of a ratio is acceptable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// The ratio must not exceed this.
    AtMost(f64),
    /// The ratio must reach this.
    AtLeast(f64),
}

/// What was measured for a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measured {
    /// The paired ratio of the subject to the column compared with.
    Ratio(f64),
    /// How many of the wanted columns have a value.
    Columns(usize),
}

/// How a target came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Met, with what was measured.
    Met(Measured),
    /// Not met, with what was measured.
    NotMet(Measured),
    /// Not measured (figure skipped or failed).
    Unknown,
}

/// The four servers figure 9a reports.
const ALL_SERVERS: &[&str] = &["rsrpc", "tonic", "connect", "floor"];

/// A target on the ratio of rsrpc's `metric` in `figure` to `against`'s.
const fn ratio(
    text: &'static str,
    figure: &'static str,
    metric: &'static str,
    against: &'static str,
    bound: Bound,
) -> Target {
    Target {
        text,
        figure,
        metric,
        goal: Goal::Ratio { against, bound },
    }
}

/// Every target: the issue's, server CPU first on h2load's figure 1h and again on
/// figures 1 and 1b; then those kept from before; then the instruction counts of
/// figure 9 held to the CPU targets' bounds, as evidence that does not move with the
/// machine's load.
pub const TARGETS: [Target; 22] = [
    ratio(
        "server CPU/unary call ≤ 0.70× tonic, under h2load",
        "1h",
        SERVER_CPU_PER_CALL,
        "tonic",
        Bound::AtMost(0.70),
    ),
    ratio(
        "server CPU/unary call ≤ 0.75× connect-rust, under h2load",
        "1h",
        SERVER_CPU_PER_CALL,
        "connect",
        Bound::AtMost(0.75),
    ),
    ratio(
        "server CPU/unary call ≤ 1.0× floor, under h2load",
        "1h",
        SERVER_CPU_PER_CALL,
        "floor",
        Bound::AtMost(1.0),
    ),
    ratio(
        "server CPU/unary call ≤ 0.70× tonic",
        "1",
        SERVER_CPU_PER_CALL,
        "tonic",
        Bound::AtMost(0.70),
    ),
    ratio(
        "server CPU/unary call ≤ 0.75× connect-rust",
        "1",
        SERVER_CPU_PER_CALL,
        "connect",
        Bound::AtMost(0.75),
    ),
    ratio(
        "server CPU/unary call ≤ 1.0× floor",
        "1",
        SERVER_CPU_PER_CALL,
        "floor",
        Bound::AtMost(1.0),
    ),
    ratio(
        "server CPU/unary call ≤ 0.70× tonic, servers capped",
        "1b",
        SERVER_CPU_PER_CALL,
        "tonic",
        Bound::AtMost(0.70),
    ),
    ratio(
        "server CPU/unary call ≤ 0.75× connect-rust, servers capped",
        "1b",
        SERVER_CPU_PER_CALL,
        "connect",
        Bound::AtMost(0.75),
    ),
    ratio(
        "server CPU/unary call ≤ 1.0× floor, servers capped",
        "1b",
        SERVER_CPU_PER_CALL,
        "floor",
        Bound::AtMost(1.0),
    ),
    ratio(
        "server CPU/streamed message ≤ 0.75× tonic",
        "3",
        SERVER_CPU_PER_MESSAGE,
        "tonic",
        Bound::AtMost(0.75),
    ),
    ratio(
        "client CPU/call ≤ 0.55× tonic",
        "2",
        CLIENT_CPU_PER_CALL,
        "tonic",
        Bound::AtMost(0.55),
    ),
    ratio(
        "memory/idle connection ≤ 0.8× tonic",
        "7a",
        KIB_PER_CONNECTION,
        "tonic",
        Bound::AtMost(0.8),
    ),
    Target {
        text: "instructions/call (callgrind) reported for all four servers",
        figure: "9a",
        metric: SERVER_IR_PER_CALL,
        goal: Goal::Reported(ALL_SERVERS),
    },
    ratio("client p99 ≤ tonic", "2", P99, "tonic", Bound::AtMost(1.0)),
    ratio(
        "HTTP/1.1 server CPU/call ≤ 1.3× rsrpc HTTP/2",
        "6",
        SERVER_CPU_PER_CALL,
        "rsrpc HTTP/2",
        Bound::AtMost(1.3),
    ),
    ratio(
        "per-stream memory ≤ tonic",
        "7b",
        KIB_PER_STREAM,
        "tonic",
        Bound::AtMost(1.0),
    ),
    ratio(
        "plugin time ≤ prost+tonic",
        "8a",
        "wall s",
        "prost+tonic",
        Bound::AtMost(1.0),
    ),
    ratio(
        "generated-code compile time ≤ prost+tonic",
        "8b",
        "wall s",
        "prost+tonic",
        Bound::AtMost(1.0),
    ),
    ratio(
        "evidence: server instructions/unary call ≤ 0.70× tonic (callgrind Ir, not CPU time)",
        "9a",
        SERVER_IR_PER_CALL,
        "tonic",
        Bound::AtMost(0.70),
    ),
    ratio(
        "evidence: server instructions/unary call ≤ 0.75× connect-rust (callgrind Ir, not CPU \
         time)",
        "9a",
        SERVER_IR_PER_CALL,
        "connect",
        Bound::AtMost(0.75),
    ),
    ratio(
        "evidence: server instructions/unary call ≤ 1.0× floor (callgrind Ir, not CPU time)",
        "9a",
        SERVER_IR_PER_CALL,
        "floor",
        Bound::AtMost(1.0),
    ),
    ratio(
        "evidence: client instructions/call ≤ 0.55× tonic (callgrind Ir, not CPU time)",
        "9b",
        CLIENT_IR_PER_CALL,
        "tonic",
        Bound::AtMost(0.55),
    ),
];

impl Target {
    /// Checks the target against `tables`.
    pub fn verdict(&self, tables: &[Table]) -> Verdict {
        let Some(table) = tables.iter().find(|table| table.id == self.figure) else {
            return Verdict::Unknown;
        };
        let Some(row) = table.row(self.metric) else {
            return Verdict::Unknown;
        };
        match self.goal {
            Goal::Ratio { against, bound } => {
                let Some(ratio) = table
                    .column(against)
                    .and_then(|column| row.ratio_to(column))
                else {
                    return Verdict::Unknown;
                };
                let met = match bound {
                    Bound::AtMost(bound) => ratio <= bound,
                    Bound::AtLeast(bound) => ratio >= bound,
                };
                judge(met, Measured::Ratio(ratio))
            }
            Goal::Reported(columns) => {
                let reported = columns
                    .iter()
                    .filter(|label| {
                        table
                            .column(label)
                            .is_some_and(|column| row.median(column).is_some())
                    })
                    .count();
                judge(reported == columns.len(), Measured::Columns(reported))
            }
        }
    }

    /// What the target asks for, in a few symbols: `≤ 0.7`, or the columns wanted.
    pub fn wanted(&self) -> String {
        match self.goal {
            Goal::Ratio {
                bound: Bound::AtMost(bound),
                ..
            } => format!("≤ {bound}"),
            Goal::Ratio {
                bound: Bound::AtLeast(bound),
                ..
            } => format!("≥ {bound}"),
            Goal::Reported(columns) => format!("of {}: {}", columns.len(), columns.join(", ")),
        }
    }

    /// For a ratio to a column other than the floor, in a figure that also runs the
    /// floor: the floor's own ratio to that column, which no server on the same hyper/h2
    /// stack can be expected to beat.
    pub fn floor_ratio(&self, tables: &[Table]) -> Option<f64> {
        let Goal::Ratio { against, .. } = self.goal else {
            return None;
        };
        if against == "floor" {
            return None;
        }
        let table = tables.iter().find(|table| table.id == self.figure)?;
        let row = table.row(self.metric)?;
        let floor = table.column("floor")?;
        let other = table.column(against)?;
        stats::paired_ratio(&row.samples[floor], &row.samples[other])
    }
}

/// Met or not, with what was measured.
fn judge(met: bool, measured: Measured) -> Verdict {
    if met {
        Verdict::Met(measured)
    } else {
        Verdict::NotMet(measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::table::{Better, Row};

    /// Figure `id`'s server CPU row with one round per column.
    fn figure(id: &str, columns: &[(&str, Option<f64>)]) -> Table {
        Table {
            id: id.into(),
            columns: columns.iter().map(|(label, _)| (*label).into()).collect(),
            rows: vec![Row {
                label: SERVER_CPU_PER_CALL.into(),
                better: Better::Lower,
                samples: columns.iter().map(|(_, value)| vec![*value]).collect(),
            }],
            ..Table::default()
        }
    }

    /// The ratio target of `figure` against `column`.
    fn against(figure: &str, column: &str) -> Target {
        *TARGETS
            .iter()
            .find(|target| {
                target.figure == figure
                    && matches!(target.goal, Goal::Ratio { against, .. } if against == column)
            })
            .expect("such a target")
    }

    #[test]
    fn floor_ratio_bounds_targets_against_others() {
        let mut table = figure("1h", &[("rsrpc", Some(9.0)), ("tonic", Some(10.0))]);
        let tonic = against("1h", "tonic");
        assert_eq!(tonic.floor_ratio(std::slice::from_ref(&table)), None);
        table.columns.push("floor".into());
        table.rows[0].samples.push(vec![Some(8.5)]);
        let tables = [table];
        assert_eq!(tonic.floor_ratio(&tables), Some(0.85));
        // Targets against the floor itself have no such bound.
        assert_eq!(against("1h", "floor").floor_ratio(&tables), None);
    }

    #[test]
    fn ratio_verdicts() {
        let tonic = against("1h", "tonic");
        let table = |rsrpc| figure("1h", &[("rsrpc", Some(rsrpc)), ("tonic", Some(10.0))]);
        assert_eq!(
            tonic.verdict(&[table(7.0)]),
            Verdict::Met(Measured::Ratio(0.7))
        );
        assert_eq!(
            tonic.verdict(&[table(9.0)]),
            Verdict::NotMet(Measured::Ratio(0.9))
        );
        assert_eq!(tonic.verdict(&[]), Verdict::Unknown);
        // The connect column is missing from this table.
        assert_eq!(
            against("1h", "connect").verdict(&[table(1.0)]),
            Verdict::Unknown
        );
        assert_eq!(tonic.wanted(), "≤ 0.7");
    }

    #[test]
    fn every_server_reported() {
        let reported = TARGETS
            .iter()
            .find(|target| matches!(target.goal, Goal::Reported(_)))
            .expect("a reporting target");
        let mut table = figure(
            "9a",
            &[
                ("rsrpc", Some(1.0)),
                ("tonic", Some(2.0)),
                ("connect", None),
                ("floor", Some(1.0)),
            ],
        );
        table.rows[0].label = SERVER_IR_PER_CALL.into();
        assert_eq!(
            reported.verdict(std::slice::from_ref(&table)),
            Verdict::NotMet(Measured::Columns(3))
        );
        table.rows[0].samples[2] = vec![Some(3.0)];
        assert_eq!(
            reported.verdict(&[table]),
            Verdict::Met(Measured::Columns(4))
        );
        assert_eq!(reported.wanted(), "of 4: rsrpc, tonic, connect, floor");
    }
}
