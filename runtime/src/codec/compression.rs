//! Message compression: the encodings rsrpc speaks, and how their names are written.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{BufMut, BytesMut};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use http::HeaderValue;

use crate::status::Status;

/// A message compression algorithm. Identity (no compression) is `None` where an
/// `Option<Encoding>` is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// gzip (RFC 1952).
    Gzip,
}

impl Encoding {
    /// Every encoding rsrpc implements.
    pub const ALL: [Encoding; 1] = [Encoding::Gzip];

    /// The name used in `grpc-encoding` headers.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
        }
    }

    /// Parses a `grpc-encoding` value: `Ok(None)` for identity, `Err` with the name for an
    /// encoding rsrpc does not implement.
    pub(crate) fn parse(value: &HeaderValue) -> Result<Option<Encoding>, String> {
        match value.as_bytes() {
            b"identity" => Ok(None),
            b"gzip" => Ok(Some(Encoding::Gzip)),
            other => Err(String::from_utf8_lossy(other).into_owned()),
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Compresses `input`, appending to `out`.
    pub(crate) fn compress(self, input: &[u8], out: &mut BytesMut) -> Result<(), Status> {
        match self {
            Encoding::Gzip => {
                let mut encoder = GzEncoder::new(out.writer(), Compression::fast());
                encoder
                    .write_all(input)
                    .and_then(|()| encoder.finish().map(drop))
                    .map_err(|error| Status::internal(format!("gzip compression failed: {error}")))
            }
        }
    }

    /// Decompresses `input`, failing with `RESOURCE_EXHAUSTED` as soon as the output would
    /// exceed `max_size`: a small compressed message cannot inflate past the limit.
    pub(crate) fn decompress(self, input: &[u8], max_size: usize) -> Result<Vec<u8>, Status> {
        let mut out = Vec::new();
        let limit = u64::try_from(max_size)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let read = match self {
            Encoding::Gzip => GzDecoder::new(input).take(limit).read_to_end(&mut out),
        };
        read.map_err(|error| Status::internal(format!("invalid {self} message: {error}")))?;
        if out.len() > max_size {
            return Err(Status::resource_exhausted(format!(
                "decompressed message is larger than the receive limit of {max_size} bytes"
            )));
        }
        Ok(out)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of encodings: what a peer accepts for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingSet {
    bits: u8,
}

impl EncodingSet {
    /// No compressed encodings: identity only.
    pub const fn identity_only() -> EncodingSet {
        EncodingSet { bits: 0 }
    }

    /// Every encoding rsrpc implements.
    pub fn all() -> EncodingSet {
        Encoding::ALL
            .into_iter()
            .fold(EncodingSet::identity_only(), EncodingSet::with)
    }

    /// This set plus `encoding`.
    pub fn with(self, encoding: Encoding) -> EncodingSet {
        EncodingSet {
            bits: self.bits | encoding.bit(),
        }
    }

    /// Whether `encoding` is in the set.
    pub fn contains(self, encoding: Encoding) -> bool {
        self.bits & encoding.bit() != 0
    }

    fn iter(self) -> impl Iterator<Item = Encoding> {
        Encoding::ALL
            .into_iter()
            .filter(move |encoding| self.contains(*encoding))
    }

    /// The `grpc-accept-encoding` value advertising this set (identity included).
    pub(crate) fn header_value(self) -> HeaderValue {
        // Sent on every call: the usual sets need no formatting.
        if self == EncodingSet::all() {
            return HeaderValue::from_static("gzip,identity");
        }
        if self == EncodingSet::identity_only() {
            return HeaderValue::from_static("identity");
        }
        let names: Vec<&str> = self
            .iter()
            .map(Encoding::name)
            .chain(["identity"])
            .collect();
        HeaderValue::try_from(names.join(",")).expect("encoding names are valid header text")
    }

    /// The encodings named in a peer's `grpc-accept-encoding` that rsrpc implements.
    pub(crate) fn from_header(value: Option<&HeaderValue>) -> EncodingSet {
        let Some(value) = value else {
            return EncodingSet::identity_only();
        };
        value
            .as_bytes()
            .split(|&b| b == b',')
            .filter_map(|name| {
                Encoding::parse(&HeaderValue::from_bytes(name.trim_ascii()).ok()?)
                    .ok()
                    .flatten()
            })
            .fold(EncodingSet::identity_only(), EncodingSet::with)
    }
}

/// Turns compression on and off between the messages of a streamed request or response
/// whose call compresses (grpc-java's `setMessageCompression`). On by default.
///
/// The encoder reads it as it takes each message from the stream, so set it from inside
/// the stream, before yielding the message it applies to — not from another task, whose
/// messages may still sit in a buffer.
#[derive(Debug, Clone)]
pub struct CompressionSwitch {
    on: Arc<AtomicBool>,
}

impl CompressionSwitch {
    pub(crate) fn new() -> CompressionSwitch {
        CompressionSwitch {
            on: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Compresses the following messages (`true`) or sends them uncompressed.
    pub fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }
}

/// The compression a request or response asked for, overriding the configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompressionChoice {
    /// `Some(None)`: uncompressed; `Some(Some(encoding))`: compressed; `None`: as configured.
    pub(crate) encoding: Option<Option<Encoding>>,
    /// Per-message control, when asked for.
    pub(crate) switch: Option<CompressionSwitch>,
}

impl CompressionChoice {
    pub(crate) fn switch(&mut self) -> CompressionSwitch {
        self.switch
            .get_or_insert_with(CompressionSwitch::new)
            .clone()
    }
}

impl Default for EncodingSet {
    /// Every implemented encoding: decoding costs nothing unless a peer compresses.
    fn default() -> Self {
        EncodingSet::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips() {
        let input = b"hello hello hello hello".repeat(100);
        let mut compressed = BytesMut::new();
        Encoding::Gzip.compress(&input, &mut compressed).unwrap();
        assert!(compressed.len() < input.len());
        let output = Encoding::Gzip.decompress(&compressed, input.len()).unwrap();
        assert_eq!(output, input);
    }

    #[test]
    fn a_compression_bomb_stops_at_the_limit() {
        let input = vec![0u8; 16 * 1024 * 1024];
        let mut compressed = BytesMut::new();
        Encoding::Gzip.compress(&input, &mut compressed).unwrap();
        assert!(compressed.len() < 1024 * 1024);
        let status = Encoding::Gzip.decompress(&compressed, 1024).unwrap_err();
        assert_eq!(status.code(), crate::status::Code::ResourceExhausted);
    }

    #[test]
    fn accept_encoding_headers_parse_and_render() {
        let set = EncodingSet::from_header(Some(&HeaderValue::from_static("deflate, gzip ,x")));
        assert!(set.contains(Encoding::Gzip));
        assert_eq!(EncodingSet::all().header_value(), "gzip,identity");
        assert_eq!(EncodingSet::identity_only().header_value(), "identity");
        assert!(!EncodingSet::from_header(None).contains(Encoding::Gzip));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let status = Encoding::Gzip.decompress(b"not gzip", 1024).unwrap_err();
        assert_eq!(status.code(), crate::status::Code::Internal);
    }
}
