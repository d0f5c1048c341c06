//! Splitting a received byte stream into messages.

use bytes::{Buf, Bytes, BytesMut};
use prost::Message;

use super::HEADER_SIZE;
use super::compression::Encoding;
use crate::status::Status;

/// Reassembles frames from body chunks. The declared length of each frame is checked
/// against the receive limit as soon as its header arrives, before any buffer grows for it.
///
/// Frames that lie whole inside one chunk are cut out of it without copying; only frames
/// that straddle chunks are copied together.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
    /// The unread rest of the last chunk, while `buf` is empty.
    chunk: Bytes,
    /// Bytes copied together from several chunks.
    buf: BytesMut,
    max_size: usize,
    /// The peer's `grpc-encoding`, which compressed frames use.
    encoding: Option<Encoding>,
    /// Header of the frame whose payload is awaited: its length and compressed flag.
    pending: Option<(usize, bool)>,
    last_compressed: bool,
}

impl FrameDecoder {
    /// A decoder refusing messages larger than `max_size` (compressed or not), and
    /// decompressing with `encoding`.
    pub(crate) fn new(max_size: usize, encoding: Option<Encoding>) -> FrameDecoder {
        FrameDecoder {
            chunk: Bytes::new(),
            buf: BytesMut::new(),
            max_size,
            encoding,
            pending: None,
            last_compressed: false,
        }
    }

    /// Whether the last frame returned was compressed.
    pub(crate) fn last_compressed(&self) -> bool {
        self.last_compressed
    }

    /// Feeds a chunk of body bytes.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        if self.chunk.is_empty() && self.buf.is_empty() {
            self.chunk = chunk;
        } else {
            self.spill(0);
            self.buf.extend_from_slice(&chunk);
        }
    }

    /// Moves the rest of the last chunk into `buf`, with room for `len` bytes.
    fn spill(&mut self, len: usize) {
        self.buf.reserve(len.max(self.chunk.len()));
        self.buf.extend_from_slice(&self.chunk);
        self.chunk.clear();
    }

    /// Reads the next frame header, if it has fully arrived.
    fn next_header(&mut self) -> Result<Option<(usize, bool)>, Status> {
        // At most one of `chunk` and `buf` holds bytes.
        let (flag, len) = if self.chunk.len() >= HEADER_SIZE {
            (self.chunk.get_u8(), self.chunk.get_u32() as usize)
        } else if self.buf.len() >= HEADER_SIZE {
            (self.buf.get_u8(), self.buf.get_u32() as usize)
        } else {
            return Ok(None);
        };
        let compressed = match flag {
            0 => false,
            1 if self.encoding.is_some() => true,
            1 => {
                return Err(Status::internal(
                    "received a compressed message without a grpc-encoding",
                ));
            }
            other => {
                return Err(Status::internal(format!(
                    "invalid compressed flag {other} in message header"
                )));
            }
        };
        if len > self.max_size {
            return Err(Status::resource_exhausted(format!(
                "message of {len} bytes is larger than the receive limit of {} bytes",
                self.max_size
            )));
        }
        Ok(Some((len, compressed)))
    }

    /// Takes the payload of the next complete frame, decompressed, if it has fully arrived.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Bytes>, Status> {
        let (len, compressed) = match self.pending {
            Some(header) => header,
            None => match self.next_header()? {
                Some(header) => {
                    self.pending = Some(header);
                    header
                }
                None => return Ok(None),
            },
        };
        let payload = if self.buf.is_empty() && self.chunk.len() >= len {
            self.chunk.split_to(len)
        } else {
            if !self.chunk.is_empty() {
                self.spill(len);
            }
            if self.buf.len() < len {
                self.buf.reserve(len - self.buf.len());
                return Ok(None);
            }
            self.buf.split_to(len).freeze()
        };
        self.pending = None;
        self.last_compressed = compressed;
        match self.encoding.filter(|_| compressed) {
            Some(encoding) => encoding
                .decompress(&payload, self.max_size)
                .map(|plain| Some(Bytes::from(plain))),
            None => Ok(Some(payload)),
        }
    }

    /// Checks, at the end of the body, that no partial frame is left over.
    pub(crate) fn finish(&self) -> Result<(), Status> {
        if self.pending.is_some() || !self.buf.is_empty() || !self.chunk.is_empty() {
            return Err(Status::internal(
                "the stream ended in the middle of a message",
            ));
        }
        Ok(())
    }
}

/// Decodes one protobuf message, mapping failures to `INTERNAL`.
pub(crate) fn decode_message<M: Message + Default>(payload: Bytes) -> Result<M, Status> {
    M::decode(payload)
        .map_err(|error| Status::internal(format!("failed to decode message: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode::FrameEncoder;

    #[test]
    fn frames_split_across_chunks_reassemble() {
        let mut encoded = BytesMut::new();
        let mut encoder = FrameEncoder {
            max_size: 1024,
            encoding: None,
            switch: None,
        };
        encoder.encode(&"hello".to_string(), &mut encoded).unwrap();
        encoder.encoding = Some(Encoding::Gzip);
        encoder.encode(&"world".to_string(), &mut encoded).unwrap();
        let mut decoder = FrameDecoder::new(1024, Some(Encoding::Gzip));
        let mut messages = Vec::new();
        for byte in encoded.chunks(3) {
            decoder.push(Bytes::copy_from_slice(byte));
            while let Some(frame) = decoder.next_frame().unwrap() {
                messages.push(decode_message::<String>(frame).unwrap());
            }
        }
        decoder.finish().unwrap();
        assert_eq!(messages, ["hello", "world"]);
    }

    #[test]
    fn frames_inside_one_chunk_are_not_copied() {
        let mut encoded = BytesMut::new();
        let encoder = FrameEncoder {
            max_size: 1024,
            encoding: None,
            switch: None,
        };
        encoder.encode(&"one".to_string(), &mut encoded).unwrap();
        encoder.encode(&"two".to_string(), &mut encoded).unwrap();
        let chunk = encoded.freeze();
        let mut decoder = FrameDecoder::new(1024, None);
        decoder.push(chunk.clone());
        let first = decoder.next_frame().unwrap().unwrap();
        let second = decoder.next_frame().unwrap().unwrap();
        assert_eq!(first.as_ptr(), chunk[HEADER_SIZE..].as_ptr());
        assert_eq!(
            second.as_ptr(),
            chunk[2 * HEADER_SIZE + first.len()..].as_ptr()
        );
        assert!(decoder.next_frame().unwrap().is_none());
        decoder.finish().unwrap();
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload_arrives() {
        let mut decoder = FrameDecoder::new(16, None);
        decoder.push(Bytes::copy_from_slice(&[0u8, 0xff, 0xff, 0xff, 0xff][..]));
        let status = decoder.next_frame().unwrap_err();
        assert_eq!(status.code(), crate::status::Code::ResourceExhausted);
        assert!(
            decoder.buf.capacity() < 1024,
            "nothing was allocated for the payload"
        );
    }

    #[test]
    fn truncated_frame_is_an_error_at_the_end() {
        let mut decoder = FrameDecoder::new(16, None);
        decoder.push(Bytes::copy_from_slice(&[0u8, 0, 0, 0, 4, 1][..]));
        assert!(decoder.next_frame().unwrap().is_none());
        assert_eq!(
            decoder.finish().unwrap_err().code(),
            crate::status::Code::Internal
        );
    }

    #[test]
    fn compressed_flag_without_encoding_is_internal() {
        let mut decoder = FrameDecoder::new(16, None);
        decoder.push(Bytes::copy_from_slice(&[1u8, 0, 0, 0, 0][..]));
        assert_eq!(
            decoder.next_frame().unwrap_err().code(),
            crate::status::Code::Internal
        );
    }
}
