//! Entry points for the HTTP/2 fuzz targets in `fuzz/`, compiled only under
//! `--cfg fuzzing`: the frame scanner, and the PING policy's byte-stream wrapper driven
//! by hand over an in-memory socket.

pub use super::frame_scan::{FrameHead, scan};
pub use super::ping_enforcement::{Policed, police};
