//! The formats messages travel in: protobuf's binary form always, and the canonical
//! protobuf JSON mapping for message types generated with JSON support.

use bytes::{Bytes, BytesMut};
use prost::Message;

use super::decode::decode_message;
use super::encode::FrameEncoder;
use crate::status::Status;

/// The format of a call's messages, named by the subtype of its content type
/// (`application/grpc+json`, `application/connect+proto`, `application/json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Protobuf's binary encoding (`proto`), the default.
    #[default]
    Proto,
    /// The canonical protobuf JSON mapping (`json`). The messages' [`Codec`] must have a
    /// JSON form: generate them with the plugin's `json` option.
    Json,
}

impl Format {
    /// The format's name, as content types and Connect's `encoding` parameter spell it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Proto => "proto",
            Format::Json => "json",
        }
    }

    /// The format a content-type subtype names; `None` for one rsrpc does not know.
    pub(crate) fn from_name(name: &[u8]) -> Option<Format> {
        if name.eq_ignore_ascii_case(b"proto") {
            Some(Format::Proto)
        } else if name.eq_ignore_ascii_case(b"json") {
            Some(Format::Json)
        } else {
            None
        }
    }
}

/// The JSON form of a message type: how to write it and how to read it.
pub struct JsonForm<T> {
    encode: fn(&T) -> Result<Vec<u8>, Status>,
    decode: fn(&[u8]) -> Result<T, Status>,
}

impl<T> JsonForm<T> {
    /// The form that `encode` writes and `decode` reads. Both fail with the status the
    /// call ends with (`INTERNAL` for a message that cannot be written or read).
    pub fn new(
        encode: fn(&T) -> Result<Vec<u8>, Status>,
        decode: fn(&[u8]) -> Result<T, Status>,
    ) -> JsonForm<T> {
        JsonForm { encode, decode }
    }
}

impl<T> JsonForm<T> {
    /// Writes `message` as JSON.
    pub fn encode(&self, message: &T) -> Result<Vec<u8>, Status> {
        (self.encode)(message)
    }

    /// Reads a message from JSON.
    pub fn decode(&self, json: &[u8]) -> Result<T, Status> {
        (self.decode)(json)
    }
}

impl<T> Clone for JsonForm<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsonForm<T> {}

impl<T> std::fmt::Debug for JsonForm<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonForm")
    }
}

/// The formats a generated service or client carries the messages of type `T` in.
/// Protobuf's binary form is always one; a codec may add JSON.
///
/// Generated code names its codec: [`ProstCodec`] by default, `JsonCodec` (cargo feature
/// `json`) for code generated with the plugin's `json` option.
pub trait Codec<T>: Send + Sync + 'static {
    /// `T`'s JSON form, if this codec has one.
    fn json() -> Option<JsonForm<T>>;
}

/// Protobuf's binary form only, through prost: requests in JSON are refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProstCodec;

impl<T> Codec<T> for ProstCodec {
    fn json() -> Option<JsonForm<T>> {
        None
    }
}

/// The form messages of type `T` take on one call: binary, or the JSON form of `C`.
pub(crate) struct MessageForm<T> {
    json: Option<JsonForm<T>>,
}

impl<T> Clone for MessageForm<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for MessageForm<T> {}

impl<T> MessageForm<T> {
    /// Protobuf's binary form.
    pub(crate) fn proto() -> MessageForm<T> {
        MessageForm { json: None }
    }

    /// The form of `format` under codec `C`; the refusal of a call in JSON when `C` has
    /// no JSON form.
    pub(crate) fn of<C: Codec<T>>(format: Format) -> Result<MessageForm<T>, Status> {
        match format {
            Format::Proto => Ok(MessageForm::proto()),
            Format::Json => match C::json() {
                Some(json) => Ok(MessageForm { json: Some(json) }),
                None => Err(unsupported_format(format)),
            },
        }
    }
}

impl<T: Message + Default> MessageForm<T> {
    /// Appends `message` to `buf` as one frame of `encoder`.
    pub(crate) fn encode(
        &self,
        encoder: &FrameEncoder,
        message: &T,
        buf: &mut BytesMut,
    ) -> Result<(), Status> {
        match &self.json {
            None => encoder.encode(message, buf),
            Some(json) => encoder.encode_payload(&json.encode(message)?, buf),
        }
    }

    /// Reads a message from the payload of one frame.
    pub(crate) fn decode(&self, payload: Bytes) -> Result<T, Status> {
        match &self.json {
            None => decode_message(payload),
            Some(json) => json.decode(&payload),
        }
    }
}

/// The refusal of a call in a format its codec lacks.
pub(crate) fn unsupported_format(format: Format) -> Status {
    Status::internal(format!(
        "these messages have no {} form: generate them with the plugin's `json` option",
        format.name()
    ))
}
