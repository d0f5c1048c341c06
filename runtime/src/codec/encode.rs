//! Writing messages as length-prefixed frames.

use bytes::{BufMut, BytesMut};
use prost::Message;

use super::HEADER_SIZE;
use super::compression::{CompressionChoice, CompressionSwitch, Encoding};
use crate::status::Status;

/// Writes messages as frames: compressed with `encoding` if set (and the switch, if any,
/// is on), and refusing messages over `max_size` with `RESOURCE_EXHAUSTED`.
#[derive(Debug, Clone)]
pub(crate) struct FrameEncoder {
    pub(crate) max_size: usize,
    pub(crate) encoding: Option<Encoding>,
    pub(crate) switch: Option<CompressionSwitch>,
}

impl FrameEncoder {
    /// An encoder for a call's messages, given the configured limit and encoding and the
    /// call's own choice.
    pub(crate) fn new(
        max_size: usize,
        configured: Option<Encoding>,
        choice: CompressionChoice,
    ) -> Self {
        FrameEncoder {
            max_size,
            encoding: choice.encoding.unwrap_or(configured),
            switch: choice.switch,
        }
    }

    /// Appends `message` to `buf` as one frame.
    pub(crate) fn encode<M: Message>(&self, message: &M, buf: &mut BytesMut) -> Result<(), Status> {
        let len = self.check_size(message.encoded_len())?;
        match self.active_encoding() {
            None => {
                buf.reserve(HEADER_SIZE + len);
                buf.put_slice(&frame_header(false, len)?);
                message.encode_raw(buf);
                Ok(())
            }
            Some(encoding) => compressed_frame(encoding, &message.encode_to_vec(), buf),
        }
    }

    /// Appends a message already encoded (as JSON) to `buf` as one frame.
    pub(crate) fn encode_payload(&self, payload: &[u8], buf: &mut BytesMut) -> Result<(), Status> {
        self.check_size(payload.len())?;
        match self.active_encoding() {
            None => {
                buf.reserve(HEADER_SIZE + payload.len());
                buf.put_slice(&frame_header(false, payload.len())?);
                buf.put_slice(payload);
                Ok(())
            }
            Some(encoding) => compressed_frame(encoding, payload, buf),
        }
    }

    /// The encoding this message goes out in: the configured one, unless switched off.
    fn active_encoding(&self) -> Option<Encoding> {
        let switched_on = self.switch.as_ref().is_none_or(CompressionSwitch::is_on);
        self.encoding.filter(|_| switched_on)
    }

    /// Refuses a message over the send limit.
    fn check_size(&self, len: usize) -> Result<usize, Status> {
        if len > self.max_size {
            return Err(Status::resource_exhausted(format!(
                "message of {len} bytes is larger than the send limit of {} bytes",
                self.max_size
            )));
        }
        Ok(len)
    }
}

/// Appends `plain` to `buf`, compressed with `encoding`, as one frame.
fn compressed_frame(encoding: Encoding, plain: &[u8], buf: &mut BytesMut) -> Result<(), Status> {
    let start = buf.len();
    buf.put_slice(&[0; HEADER_SIZE]);
    encoding.compress(plain, buf)?;
    let header = frame_header(true, buf.len() - start - HEADER_SIZE)?;
    buf[start..start + HEADER_SIZE].copy_from_slice(&header);
    Ok(())
}

/// The compressed flag and big-endian length that precede a message.
fn frame_header(compressed: bool, len: usize) -> Result<[u8; HEADER_SIZE], Status> {
    let Ok(len) = u32::try_from(len) else {
        return Err(Status::resource_exhausted(format!(
            "message of {len} bytes cannot be framed"
        )));
    };
    let [a, b, c, d] = len.to_be_bytes();
    Ok([u8::from(compressed), a, b, c, d])
}
