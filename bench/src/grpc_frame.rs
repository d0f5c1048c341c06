//! gRPC message framing, as the load generator needs it: encode one request frame up
//! front, and count the frames of a response as its bytes arrive.

use bytes::{BufMut, Bytes, BytesMut};

/// Length of the frame header: a compressed flag and a big-endian `u32` length.
const HEADER_LEN: usize = 5;

/// A whole uncompressed frame carrying `message`.
pub fn encode(message: &impl prost::Message) -> Bytes {
    let len = message.encoded_len();
    let mut frame = BytesMut::with_capacity(HEADER_LEN + len);
    frame.put_u8(0);
    frame.put_u32(u32::try_from(len).expect("message fits a gRPC frame"));
    message
        .encode(&mut frame)
        .expect("the buffer was sized for the message");
    frame.freeze()
}

/// Counts the frames in a byte stream split at arbitrary points, without copying the
/// messages: only the five header bytes of each frame are looked at.
#[derive(Debug, Default)]
pub struct FrameCounter {
    /// Header bytes seen of the frame being read.
    header: [u8; HEADER_LEN],
    header_filled: usize,
    /// Message bytes still to skip before the next header.
    remaining: usize,
    /// Frames completed so far.
    frames: u64,
}

impl FrameCounter {
    /// Takes the next bytes of the stream.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            if self.header_filled < HEADER_LEN {
                let take = (HEADER_LEN - self.header_filled).min(chunk.len());
                self.header[self.header_filled..self.header_filled + take]
                    .copy_from_slice(&chunk[..take]);
                self.header_filled += take;
                chunk = &chunk[take..];
                if self.header_filled == HEADER_LEN {
                    let len = u32::from_be_bytes(self.header[1..].try_into().expect("4 bytes"));
                    self.remaining = len as usize;
                    self.finish_if_complete();
                }
            } else {
                let take = self.remaining.min(chunk.len());
                self.remaining -= take;
                chunk = &chunk[take..];
                self.finish_if_complete();
            }
        }
    }

    /// Frames completed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Whether the bytes fed so far end exactly at a frame boundary.
    pub fn at_boundary(&self) -> bool {
        self.header_filled == 0
    }

    /// Counts the frame being read if its header and message are all in.
    fn finish_if_complete(&mut self) {
        if self.header_filled == HEADER_LEN && self.remaining == 0 {
            self.frames += 1;
            self.header_filled = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::bench::Payload;

    fn frames(sizes: &[usize]) -> Vec<u8> {
        sizes
            .iter()
            .flat_map(|&size| {
                encode(&Payload {
                    data: vec![7; size].into(),
                })
            })
            .collect()
    }

    #[test]
    fn encodes_header_and_message() {
        let frame = encode(&Payload {
            data: Bytes::from_static(b"abc"),
        });
        assert_eq!(&frame[..], &[0, 0, 0, 0, 5, 0x0a, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn counts_frames_split_anywhere() {
        let stream = frames(&[0, 1, 300, 20_000, 3]);
        for split in 1..12 {
            let mut counter = FrameCounter::default();
            for chunk in stream.chunks(split) {
                counter.feed(chunk);
            }
            assert_eq!(counter.frames(), 5, "chunks of {split}");
            assert!(counter.at_boundary());
        }
    }

    #[test]
    fn empty_message_frame_counts() {
        let mut counter = FrameCounter::default();
        counter.feed(&[0, 0, 0, 0, 0]);
        assert_eq!(counter.frames(), 1);
        counter.feed(&[0, 0, 0]);
        assert_eq!(counter.frames(), 1);
        assert!(!counter.at_boundary());
    }
}
