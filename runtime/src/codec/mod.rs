//! The gRPC message codec: length-prefixed framing of protobuf messages.
//!
//! Every message travels as a 1-byte compressed flag, a 4-byte big-endian length and the
//! payload. [`encode`] writes such frames; [`decode`] splits a byte stream back into them.

pub(crate) mod decode;
pub(crate) mod encode;

/// Default limit on the size of a received message: 4 MiB, as in other gRPC stacks.
pub const DEFAULT_MAX_RECEIVE_SIZE: usize = 4 * 1024 * 1024;
/// Default limit on the size of a sent message: the largest a length prefix can express.
pub const DEFAULT_MAX_SEND_SIZE: usize = u32::MAX as usize;
/// Size of the frame header: compressed flag and length.
pub(crate) const HEADER_SIZE: usize = 5;
