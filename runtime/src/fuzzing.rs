//! Entry points for the fuzz targets in `fuzz/`: thin wrappers that reach the crate-private
//! parsers of network input. Compiled only under `--cfg fuzzing` (which cargo-fuzz sets);
//! not part of the public API.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use prost::Message;

use crate::codec::Encoding;
use crate::codec::decode;
use crate::codec::encode::FrameEncoder;
use crate::metadata::MetadataError;
use crate::status::Status;

/// The gRPC frame decoder that splits received bodies into messages.
#[derive(Debug)]
pub struct FrameDecoder(decode::FrameDecoder);

impl FrameDecoder {
    /// A decoder refusing messages over `max_size` bytes (compressed or decompressed) and
    /// decompressing compressed frames with `encoding`.
    pub fn new(max_size: usize, encoding: Option<Encoding>) -> FrameDecoder {
        FrameDecoder(decode::FrameDecoder::new(max_size, encoding))
    }

    /// Feeds a chunk of body bytes.
    pub fn push(&mut self, chunk: Bytes) {
        self.0.push(chunk);
    }

    /// The payload of the next complete frame, decompressed; `Ok(None)` until one arrived.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, Status> {
        self.0.next_frame()
    }

    /// Whether the last frame returned was compressed.
    pub fn last_compressed(&self) -> bool {
        self.0.last_compressed()
    }

    /// Checks, at the end of the body, that no partial frame is left over.
    pub fn finish(&self) -> Result<(), Status> {
        self.0.finish()
    }
}

/// Appends `message` to `buf` as one frame, as the sending side of a call does.
pub fn encode_frame<M: Message>(
    message: &M,
    max_size: usize,
    encoding: Option<Encoding>,
    buf: &mut BytesMut,
) -> Result<(), Status> {
    let encoder = FrameEncoder {
        max_size,
        encoding,
        switch: None,
    };
    encoder.encode(message, buf)
}

/// Decodes one protobuf message from a frame payload, as calls do.
pub fn decode_message<M: Message + Default>(payload: Bytes) -> Result<M, Status> {
    decode::decode_message(payload)
}

/// Decompresses a message payload, refusing output over `max_size` bytes.
pub fn decompress(encoding: Encoding, input: &[u8], max_size: usize) -> Result<Vec<u8>, Status> {
    encoding.decompress(input, max_size)
}

/// Parses a `grpc-timeout` header value; `None` when malformed.
pub fn parse_timeout(value: &HeaderValue) -> Option<Duration> {
    crate::protocol::wire::parse_timeout(value)
}

/// Encodes a timeout as a `grpc-timeout` header value.
pub fn encode_timeout(timeout: Duration) -> HeaderValue {
    crate::protocol::wire::encode_timeout(timeout)
}

/// Headers never exposed as metadata, besides `grpc-*` and pseudo-headers.
pub const TRANSPORT_HEADERS: &[&str] = crate::metadata::TRANSPORT_HEADERS;

/// Decodes a `-bin` metadata value (comma-separated base64, padded or not).
pub fn decode_base64(raw: &[u8]) -> Result<Bytes, MetadataError> {
    crate::metadata::decode_base64(raw)
}

/// Encodes bytes as a `-bin` metadata value (unpadded standard base64).
pub fn encode_base64(bytes: &[u8]) -> String {
    crate::metadata::encode_base64(bytes)
}

/// Reads a status from trailers (or a Trailers-Only header block); `None` without
/// `grpc-status`.
pub fn status_from_headers(headers: &HeaderMap) -> Option<Status> {
    Status::from_headers(headers)
}

/// Writes a status (`grpc-status`, `grpc-message`, `grpc-status-details-bin` and its
/// metadata) into `headers`, as a server ends a call.
pub fn status_write_to(status: &Status, headers: &mut HeaderMap) {
    status.write_to(headers);
}

/// The HTTP/1.1 server's parsers and connection loop.
pub use crate::transport::http1::fuzzing as http1;

/// The HTTP/2 server's frame scanner and PING policy.
pub use crate::transport::http2::fuzzing as http2;

/// The web protocols' parsers: gRPC-Web and Connect requests and responses.
pub use crate::web::fuzzing as web;
