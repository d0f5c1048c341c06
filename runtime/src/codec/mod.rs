//! The message codec: the formats messages are written in, and their length-prefixed
//! framing.
//!
//! Every message travels as a 1-byte flag, a 4-byte big-endian length and the payload.
//! `encode` writes such frames, `decode` splits a byte stream back into them, and
//! [`Encoding`] compresses payloads. A payload is protobuf's binary form, or JSON when
//! the messages' [`Codec`] has a JSON form ([`Format`]).

mod compression;
pub(crate) mod decode;
pub(crate) mod encode;
mod format;
#[cfg(feature = "json")]
mod json;

pub(crate) use compression::CompressionChoice;
pub use compression::{CompressionSwitch, Encoding, EncodingSet};
pub use format::{Codec, Format, JsonForm, ProstCodec};
pub(crate) use format::{MessageForm, unsupported_format};
#[cfg(feature = "json")]
pub use json::{JsonCodec, message_descriptor, register_descriptors};

/// Default limit on the size of a received message: 4 MiB, as in other gRPC stacks.
pub const DEFAULT_MAX_RECEIVE_SIZE: usize = 4 * 1024 * 1024;
/// Default limit on the size of a sent message: the largest a length prefix can express.
pub const DEFAULT_MAX_SEND_SIZE: usize = u32::MAX as usize;
/// Size of the frame header: compressed flag and length.
pub(crate) const HEADER_SIZE: usize = 5;

/// How one side of a call frames messages, resolved from its configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodecSettings {
    /// Largest message accepted.
    pub(crate) max_receive_message_size: usize,
    /// Largest message sent.
    pub(crate) max_send_message_size: usize,
    /// Encoding to compress sent messages with, when the peer accepts it.
    pub(crate) send_compressed: Option<Encoding>,
    /// Encodings accepted from the peer.
    pub(crate) accept_compressed: EncodingSet,
}

impl Default for CodecSettings {
    fn default() -> Self {
        CodecSettings {
            max_receive_message_size: DEFAULT_MAX_RECEIVE_SIZE,
            max_send_message_size: DEFAULT_MAX_SEND_SIZE,
            send_compressed: None,
            accept_compressed: EncodingSet::default(),
        }
    }
}

/// Marks, in the extensions of a unary request (on the server) or of a unary response (on
/// the client), that its message arrived compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed;
