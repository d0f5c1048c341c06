//! The targets rsrpc is held to, checked against the paired ratios of a run.

use super::figures::{
    CLIENT_CPU_PER_CALL, KIB_PER_CONNECTION, KIB_PER_STREAM, MESSAGES_PER_SECOND, P99,
    SERVER_CPU_PER_CALL,
};
use super::instructions::{CLIENT_IR_PER_CALL, SERVER_IR_PER_CALL};
use super::stats;
use super::table::Table;

/// A bound on the ratio of the subject column to another column of a figure.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// What is promised, in words.
    pub text: &'static str,
    /// Figure id.
    pub figure: &'static str,
    /// Row label.
    pub metric: &'static str,
    /// The column compared with.
    pub against: &'static str,
    /// The bound on subject / against.
    pub bound: Bound,
}

/// Which side of a ratio is acceptable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// The ratio must not exceed this.
    AtMost(f64),
    /// The ratio must reach this.
    AtLeast(f64),
}

/// How a target came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Met, with the measured ratio.
    Met(f64),
    /// Not met, with the measured ratio.
    NotMet(f64),
    /// Not measured (figure skipped or failed).
    Unknown,
}

/// Every target, in the order of the brief, then the instruction counts of figure 9 held
/// to the CPU targets' bounds, as evidence that does not move with the machine's load.
pub const TARGETS: [Target; 15] = [
    Target {
        text: "server CPU/unary call ≤ 0.8× tonic",
        figure: "1",
        metric: SERVER_CPU_PER_CALL,
        against: "tonic",
        bound: Bound::AtMost(0.8),
    },
    Target {
        text: "server CPU/unary call ≤ 1.15× floor",
        figure: "1",
        metric: SERVER_CPU_PER_CALL,
        against: "floor",
        bound: Bound::AtMost(1.15),
    },
    Target {
        text: "server CPU/unary call ≤ 0.8× tonic, servers capped",
        figure: "1b",
        metric: SERVER_CPU_PER_CALL,
        against: "tonic",
        bound: Bound::AtMost(0.8),
    },
    Target {
        text: "server CPU/unary call ≤ 1.15× floor, servers capped",
        figure: "1b",
        metric: SERVER_CPU_PER_CALL,
        against: "floor",
        bound: Bound::AtMost(1.15),
    },
    Target {
        text: "client CPU/call ≤ 0.8× tonic",
        figure: "2",
        metric: CLIENT_CPU_PER_CALL,
        against: "tonic",
        bound: Bound::AtMost(0.8),
    },
    Target {
        text: "client p99 ≤ tonic",
        figure: "2",
        metric: P99,
        against: "tonic",
        bound: Bound::AtMost(1.0),
    },
    Target {
        text: "server-streaming messages/s ≥ 1.3× tonic",
        figure: "3",
        metric: MESSAGES_PER_SECOND,
        against: "tonic",
        bound: Bound::AtLeast(1.3),
    },
    Target {
        text: "HTTP/1.1 server CPU/call ≤ 1.3× rsrpc HTTP/2",
        figure: "6",
        metric: SERVER_CPU_PER_CALL,
        against: "rsrpc HTTP/2",
        bound: Bound::AtMost(1.3),
    },
    Target {
        text: "idle-connection memory ≤ tonic",
        figure: "7a",
        metric: KIB_PER_CONNECTION,
        against: "tonic",
        bound: Bound::AtMost(1.0),
    },
    Target {
        text: "per-stream memory ≤ tonic",
        figure: "7b",
        metric: KIB_PER_STREAM,
        against: "tonic",
        bound: Bound::AtMost(1.0),
    },
    Target {
        text: "plugin time ≤ prost+tonic",
        figure: "8a",
        metric: "wall s",
        against: "prost+tonic",
        bound: Bound::AtMost(1.0),
    },
    Target {
        text: "generated-code compile time ≤ prost+tonic",
        figure: "8b",
        metric: "wall s",
        against: "prost+tonic",
        bound: Bound::AtMost(1.0),
    },
    Target {
        text: "evidence: server instructions/unary call ≤ 0.8× tonic (callgrind Ir, not CPU time)",
        figure: "9a",
        metric: SERVER_IR_PER_CALL,
        against: "tonic",
        bound: Bound::AtMost(0.8),
    },
    Target {
        text: "evidence: server instructions/unary call ≤ 1.15× floor (callgrind Ir, not CPU time)",
        figure: "9a",
        metric: SERVER_IR_PER_CALL,
        against: "floor",
        bound: Bound::AtMost(1.15),
    },
    Target {
        text: "evidence: client instructions/call ≤ 0.8× tonic (callgrind Ir, not CPU time)",
        figure: "9b",
        metric: CLIENT_IR_PER_CALL,
        against: "tonic",
        bound: Bound::AtMost(0.8),
    },
];

impl Target {
    /// Checks the target against `tables`.
    pub fn verdict(&self, tables: &[Table]) -> Verdict {
        let ratio = tables
            .iter()
            .find(|table| table.id == self.figure)
            .and_then(|table| {
                let column = table.column(self.against)?;
                table.row(self.metric)?.ratio_to(column)
            });
        match (ratio, self.bound) {
            (None, _) => Verdict::Unknown,
            (Some(r), Bound::AtMost(bound)) if r <= bound => Verdict::Met(r),
            (Some(r), Bound::AtLeast(bound)) if r >= bound => Verdict::Met(r),
            (Some(r), _) => Verdict::NotMet(r),
        }
    }

    /// For a target against tonic in a figure that also runs the floor: the floor's own
    /// ratio to tonic, which no server on the same hyper/h2 stack can be expected to beat.
    pub fn floor_ratio(&self, tables: &[Table]) -> Option<f64> {
        if self.against != "tonic" {
            return None;
        }
        let table = tables.iter().find(|table| table.id == self.figure)?;
        let row = table.row(self.metric)?;
        let floor = table.column("floor")?;
        let tonic = table.column("tonic")?;
        stats::paired_ratio(&row.samples[floor], &row.samples[tonic])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::table::{Better, Row};

    fn figure_one(rsrpc: f64, tonic: f64) -> Table {
        Table {
            id: "1".into(),
            columns: vec!["rsrpc".into(), "tonic".into()],
            rows: vec![Row {
                label: SERVER_CPU_PER_CALL.into(),
                better: Better::Lower,
                samples: vec![vec![Some(rsrpc)], vec![Some(tonic)]],
            }],
            ..Table::default()
        }
    }

    #[test]
    fn floor_ratio_bounds_targets_against_tonic() {
        let mut table = figure_one(9.0, 10.0);
        assert_eq!(TARGETS[0].floor_ratio(std::slice::from_ref(&table)), None);
        table.columns.push("floor".into());
        table.rows[0].samples.push(vec![Some(8.5)]);
        let tables = [table];
        assert_eq!(TARGETS[0].floor_ratio(&tables), Some(0.85));
        // Targets against the floor itself have no such bound.
        assert_eq!(TARGETS[1].floor_ratio(&tables), None);
    }

    #[test]
    fn verdicts() {
        let target = TARGETS[0];
        assert_eq!(target.verdict(&[figure_one(7.0, 10.0)]), Verdict::Met(0.7));
        assert_eq!(
            target.verdict(&[figure_one(9.0, 10.0)]),
            Verdict::NotMet(0.9)
        );
        assert_eq!(target.verdict(&[]), Verdict::Unknown);
        // The floor column is missing from this table.
        assert_eq!(
            TARGETS[1].verdict(&[figure_one(1.0, 1.0)]),
            Verdict::Unknown
        );
    }
}
