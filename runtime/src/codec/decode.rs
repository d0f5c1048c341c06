//! Splitting a received byte stream into messages.

use bytes::{Buf, Bytes, BytesMut};
use prost::Message;

use super::HEADER_SIZE;
use super::compression::Encoding;
use crate::Status;

/// Reassembles frames from body chunks. The declared length of each frame is checked
/// against the receive limit as soon as its header arrives, before any buffer grows for it.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
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
    pub(crate) fn push(&mut self, mut chunk: impl Buf) {
        while chunk.has_remaining() {
            let part = chunk.chunk();
            self.buf.extend_from_slice(part);
            let len = part.len();
            chunk.advance(len);
        }
    }

    /// Takes the payload of the next complete frame, decompressed, if it has fully arrived.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Bytes>, Status> {
        let (len, compressed) = match self.pending {
            Some(header) => header,
            None => {
                if self.buf.len() < HEADER_SIZE {
                    return Ok(None);
                }
                let flag = self.buf.get_u8();
                let len = self.buf.get_u32() as usize;
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
                self.buf.reserve(len);
                self.pending = Some((len, compressed));
                (len, compressed)
            }
        };
        if self.buf.len() < len {
            return Ok(None);
        }
        self.pending = None;
        self.last_compressed = compressed;
        let payload = self.buf.split_to(len).freeze();
        match self.encoding.filter(|_| compressed) {
            Some(encoding) => encoding
                .decompress(&payload, self.max_size)
                .map(|plain| Some(Bytes::from(plain))),
            None => Ok(Some(payload)),
        }
    }

    /// Checks, at the end of the body, that no partial frame is left over.
    pub(crate) fn finish(&self) -> Result<(), Status> {
        if self.pending.is_some() || !self.buf.is_empty() {
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
            decoder.push(byte);
            while let Some(frame) = decoder.next_frame().unwrap() {
                messages.push(decode_message::<String>(frame).unwrap());
            }
        }
        decoder.finish().unwrap();
        assert_eq!(messages, ["hello", "world"]);
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload_arrives() {
        let mut decoder = FrameDecoder::new(16, None);
        decoder.push(&[0u8, 0xff, 0xff, 0xff, 0xff][..]);
        let status = decoder.next_frame().unwrap_err();
        assert_eq!(status.code(), crate::Code::ResourceExhausted);
        assert!(
            decoder.buf.capacity() < 1024,
            "nothing was allocated for the payload"
        );
    }

    #[test]
    fn truncated_frame_is_an_error_at_the_end() {
        let mut decoder = FrameDecoder::new(16, None);
        decoder.push(&[0u8, 0, 0, 0, 4, 1][..]);
        assert!(decoder.next_frame().unwrap().is_none());
        assert_eq!(decoder.finish().unwrap_err().code(), crate::Code::Internal);
    }

    #[test]
    fn compressed_flag_without_encoding_is_internal() {
        let mut decoder = FrameDecoder::new(16, None);
        decoder.push(&[1u8, 0, 0, 0, 0][..]);
        assert_eq!(
            decoder.next_frame().unwrap_err().code(),
            crate::Code::Internal
        );
    }
}
