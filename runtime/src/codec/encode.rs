//! Writing messages as length-prefixed frames.

use bytes::{BufMut, BytesMut};
use prost::Message;

use super::HEADER_SIZE;
use crate::Status;

/// Appends `message` to `buf` as one uncompressed frame, refusing messages over `max_size`
/// with `RESOURCE_EXHAUSTED`.
pub(crate) fn encode_frame<M: Message>(
    message: &M,
    buf: &mut BytesMut,
    max_size: usize,
) -> Result<(), Status> {
    let len = message.encoded_len();
    if len > max_size {
        return Err(Status::resource_exhausted(format!(
            "message of {len} bytes is larger than the send limit of {max_size} bytes"
        )));
    }
    let prefix = u32::try_from(len).map_err(|_| {
        Status::resource_exhausted(format!("message of {len} bytes cannot be framed"))
    })?;
    buf.reserve(HEADER_SIZE + len);
    buf.put_u8(0);
    buf.put_u32(prefix);
    message.encode_raw(buf);
    Ok(())
}
