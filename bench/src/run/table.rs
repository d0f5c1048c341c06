//! [`Table`]: the samples of one figure, per metric, per compared variant, per round.

use super::stats;

/// Whether a smaller or a larger value of a metric is the better one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Smaller is better (time, CPU, memory).
    Lower,
    /// Larger is better (throughput).
    Higher,
}

/// One metric of a figure, as measured for every column in every round.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured, with its unit.
    pub label: String,
    /// Which way is better.
    pub better: Better,
    /// `samples[column][round]`; `None` where the measurement failed.
    pub samples: Vec<Vec<Option<f64>>>,
}

impl Row {
    /// The median of a column over its rounds.
    pub fn median(&self, column: usize) -> Option<f64> {
        let values: Vec<f64> = self.samples[column].iter().flatten().copied().collect();
        stats::median(&values)
    }

    /// The first column over `column`, round by round, as a median of ratios.
    pub fn ratio_to(&self, column: usize) -> Option<f64> {
        stats::paired_ratio(&self.samples[0], &self.samples[column])
    }
}

/// A figure's results: the first column is the subject (rsrpc), compared with each of
/// the others.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Figure number, e.g. `"1"` or `"7a"`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What was run and how, in a sentence or two.
    pub description: String,
    /// The compared variants.
    pub columns: Vec<String>,
    /// The metrics.
    pub rows: Vec<Row>,
    /// The command lines run for each column (one round's worth).
    pub commands: Vec<String>,
    /// Failures, by column and round.
    pub errors: Vec<String>,
    /// More material, each shown collapsed under the table.
    pub details: Vec<Details>,
}

/// A collapsed section of Markdown under a table.
#[derive(Debug, Clone, Default)]
pub struct Details {
    /// What it holds, shown when collapsed.
    pub summary: String,
    /// The Markdown shown when expanded.
    pub body: String,
}

impl Table {
    /// The row labelled `label`.
    pub fn row(&self, label: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.label == label)
    }

    /// The index of the column labelled `label`.
    pub fn column(&self, label: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratios_by_column() {
        let row = Row {
            label: "x".into(),
            better: Better::Lower,
            samples: vec![vec![Some(2.0), Some(4.0)], vec![Some(1.0), None]],
        };
        assert_eq!(row.median(0), Some(3.0));
        assert_eq!(row.median(1), Some(1.0));
        assert_eq!(row.ratio_to(1), Some(2.0));
    }
}
