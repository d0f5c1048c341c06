//! How long and how large each measurement is: the full run, or `--quick`.

use crate::codegen::corpus::Shape;

/// Sizes and durations of the measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Warm-up of each closed-loop run.
    pub warmup_ms: u64,
    /// Measured window of each closed-loop run.
    pub duration_ms: u64,
    /// Messages per server-streaming call.
    pub stream_messages: u32,
    /// Measured streaming calls repeat until this much time has passed.
    pub stream_window_ms: u64,
    /// Idle connections held in figure 7a.
    pub idle_connections: usize,
    /// Connections of figure 7b ...
    pub stream_connections: usize,
    /// ... and streams held on each.
    pub streams_per_connection: usize,
    /// The code-generation corpus.
    pub corpus: Shape,
    /// Rounds of the compile-time measurement, at most (each compiles the corpus).
    pub compile_rounds: usize,
}

impl Budget {
    /// The figures as specified: about 19 minutes on two cores with 5 rounds, half of it
    /// compiling the generated corpus (4 to 5 minutes per generator, so once each).
    pub fn full() -> Budget {
        Budget {
            warmup_ms: 1000,
            duration_ms: 5000,
            stream_messages: 1_000_000,
            stream_window_ms: 2000,
            idle_connections: 10_000,
            stream_connections: 100,
            streams_per_connection: 100,
            corpus: Shape::FULL,
            compile_rounds: 1,
        }
    }

    /// A smoke run: every figure, smaller and shorter.
    pub fn quick() -> Budget {
        Budget {
            warmup_ms: 300,
            duration_ms: 1500,
            stream_messages: 200_000,
            stream_window_ms: 500,
            idle_connections: 2000,
            stream_connections: 20,
            streams_per_connection: 100,
            corpus: Shape {
                files: 50,
                messages_per_file: 10,
            },
            compile_rounds: 1,
        }
    }
}
