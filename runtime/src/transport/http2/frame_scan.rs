//! An incremental scan of one direction of an HTTP/2 connection's bytes: it finds each
//! frame's 9-byte header (RFC 9113 section 4.1) and skips the payload by its length. It
//! keeps a few bytes of state and never buffers a payload, and the bytes may come in
//! pieces split anywhere.

use std::ops::ControlFlow;

/// Length of a frame header.
pub(crate) const HEAD_LEN: usize = 9;
/// Length of the client connection preface (RFC 9113 section 3.4), which comes before
/// the client's first frame.
pub(crate) const PREFACE_LEN: usize = 24;

/// Frame types this crate looks for (RFC 9113 section 6).
pub(crate) mod kind {
    /// DATA.
    pub(crate) const DATA: u8 = 0x0;
    /// HEADERS.
    pub(crate) const HEADERS: u8 = 0x1;
    /// PING.
    pub(crate) const PING: u8 = 0x6;
    /// GOAWAY.
    pub(crate) const GOAWAY: u8 = 0x7;
}

/// The ACK flag of PING and SETTINGS.
pub(crate) const FLAG_ACK: u8 = 0x1;

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHead {
    /// Payload length (24 bits).
    pub len: u32,
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream identifier, reserved bit cleared.
    pub stream_id: u32,
}

impl FrameHead {
    /// Reads a header.
    pub fn parse(bytes: &[u8; HEAD_LEN]) -> FrameHead {
        FrameHead {
            len: u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]),
            kind: bytes[3],
            flags: bytes[4],
            stream_id: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff,
        }
    }

    /// Writes the header; `len` must fit 24 bits.
    pub(crate) fn encode(&self) -> [u8; HEAD_LEN] {
        let [_, l0, l1, l2] = self.len.to_be_bytes();
        let [s0, s1, s2, s3] = (self.stream_id & 0x7fff_ffff).to_be_bytes();
        [l0, l1, l2, self.kind, self.flags, s0, s1, s2, s3]
    }
}

/// Where a scan of one direction stands.
#[derive(Debug, Clone)]
pub(crate) struct FrameScanner {
    /// Bytes of the preface still to skip.
    preface_left: u8,
    /// The header being read, and how much of it has arrived.
    head: [u8; HEAD_LEN],
    head_len: u8,
    /// Bytes of the current frame's payload still to skip.
    payload_left: u32,
}

impl FrameScanner {
    /// A scan of what a client sends: the preface, then frames.
    pub(crate) fn client_to_server() -> FrameScanner {
        FrameScanner::skipping(PREFACE_LEN as u8)
    }

    /// A scan of what a server sends: frames from the first byte.
    pub(crate) fn server_to_client() -> FrameScanner {
        FrameScanner::skipping(0)
    }

    fn skipping(preface_left: u8) -> FrameScanner {
        FrameScanner {
            preface_left,
            head: [0; HEAD_LEN],
            head_len: 0,
            payload_left: 0,
        }
    }

    /// Scans `bytes`, the next ones of the stream, handing `on_frame` each header that
    /// they complete. If `on_frame` breaks, the scan stops right after that header.
    /// Returns how many bytes were scanned: all of them unless `on_frame` broke.
    pub(crate) fn scan(
        &mut self,
        bytes: &[u8],
        mut on_frame: impl FnMut(FrameHead) -> ControlFlow<()>,
    ) -> usize {
        let mut rest = bytes;
        while !rest.is_empty() {
            let skip = if self.preface_left > 0 {
                let n = rest.len().min(usize::from(self.preface_left));
                self.preface_left -= n as u8;
                n
            } else if self.payload_left > 0 {
                let n = rest.len().min(self.payload_left as usize);
                self.payload_left -= n as u32;
                n
            } else {
                let start = usize::from(self.head_len);
                let n = rest.len().min(HEAD_LEN - start);
                self.head[start..start + n].copy_from_slice(&rest[..n]);
                self.head_len += n as u8;
                rest = &rest[n..];
                if usize::from(self.head_len) == HEAD_LEN {
                    self.head_len = 0;
                    let head = FrameHead::parse(&self.head);
                    self.payload_left = head.len;
                    if on_frame(head).is_break() {
                        return bytes.len() - rest.len();
                    }
                }
                continue;
            };
            rest = &rest[skip..];
        }
        bytes.len()
    }

    /// How many bytes may be scanned before a frame boundary may be reached: 0 when the
    /// bytes scanned so far end a frame (or none were). Mid-header the payload's length
    /// is not known yet, so this is the rest of the header; ask again after it.
    pub(crate) fn before_boundary(&self) -> usize {
        if self.preface_left > 0 {
            usize::from(self.preface_left)
        } else if self.head_len > 0 {
            HEAD_LEN - usize::from(self.head_len)
        } else {
            self.payload_left as usize
        }
    }
}

#[cfg(any(test, fuzzing))]
/// The frame headers found in `bytes` arriving in pieces of `piece` bytes (at least
/// one): what a client sends (the preface first) if `from_client`, else what a server
/// sends.
pub fn scan(bytes: &[u8], piece: usize, from_client: bool) -> Vec<FrameHead> {
    let mut scanner = if from_client {
        FrameScanner::client_to_server()
    } else {
        FrameScanner::server_to_client()
    };
    let mut heads = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        let scanned = scanner.scan(chunk, |head| {
            heads.push(head);
            ControlFlow::Continue(())
        });
        assert_eq!(scanned, chunk.len(), "the scan stops only when told to");
    }
    heads
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A frame's bytes: its header, then `payload`.
    pub(in crate::transport::http2) fn frame(
        kind: u8,
        flags: u8,
        stream_id: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let head = FrameHead {
            len: payload.len() as u32,
            kind,
            flags,
            stream_id,
        };
        let mut out = head.encode().to_vec();
        out.extend_from_slice(payload);
        out
    }

    /// A client's stream: the preface, SETTINGS, HEADERS, an empty DATA, a PING, and a
    /// PING ACK.
    fn client_stream() -> (Vec<u8>, Vec<FrameHead>) {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        let frames = [
            (0x4, 0, 0, vec![0; 6]),
            (kind::HEADERS, 0x4, 1, vec![0x82; 20]),
            (kind::DATA, 0x1, 1, vec![]),
            (kind::PING, 0, 0, vec![7; 8]),
            (kind::PING, FLAG_ACK, 0, vec![8; 8]),
        ];
        let mut heads = Vec::new();
        for (kind, flags, stream_id, payload) in frames {
            bytes.extend(frame(kind, flags, stream_id, &payload));
            heads.push(FrameHead {
                len: payload.len() as u32,
                kind,
                flags,
                stream_id,
            });
        }
        (bytes, heads)
    }

    fn scan_all(scanner: &mut FrameScanner, bytes: &[u8], seen: &mut Vec<FrameHead>) {
        let scanned = scanner.scan(bytes, |head| {
            seen.push(head);
            ControlFlow::Continue(())
        });
        assert_eq!(scanned, bytes.len());
    }

    #[test]
    fn headers_round_trip_and_ignore_the_reserved_bit() {
        let head = FrameHead {
            len: 0xab_cdef,
            kind: 7,
            flags: 0x25,
            stream_id: 0x7fff_fffd,
        };
        assert_eq!(FrameHead::parse(&head.encode()), head);
        let mut bytes = head.encode();
        bytes[5] |= 0x80;
        assert_eq!(FrameHead::parse(&bytes), head);
    }

    #[test]
    fn finds_every_header_however_the_stream_is_split_in_two_or_three() {
        let (bytes, heads) = client_stream();
        for first in 0..=bytes.len() {
            for second in first..=bytes.len() {
                let mut scanner = FrameScanner::client_to_server();
                let mut seen = Vec::new();
                for piece in [&bytes[..first], &bytes[first..second], &bytes[second..]] {
                    scan_all(&mut scanner, piece, &mut seen);
                }
                assert_eq!(seen, heads, "split at {first} and {second}");
                assert_eq!(scanner.before_boundary(), 0);
            }
        }
    }

    #[test]
    fn finds_every_header_in_pieces_of_any_size() {
        let (bytes, heads) = client_stream();
        for piece in 1..=bytes.len() {
            let seen = super::scan(&bytes, piece, true);
            assert_eq!(seen, heads, "pieces of {piece}");
        }
        // From the server, the preface's bytes are a frame's.
        let from_server = super::scan(&bytes[24..], 5, false);
        assert_eq!(from_server, heads);
    }

    #[test]
    fn one_byte_at_a_time_a_boundary_is_seen_exactly_at_each_frame_end() {
        let bytes = [
            frame(kind::HEADERS, 0x4, 1, &[1, 2, 3]),
            frame(kind::DATA, 0, 1, &[]),
            frame(kind::DATA, 0x1, 1, &[4; 10]),
        ];
        let ends: Vec<usize> = bytes
            .iter()
            .scan(0, |end, frame| {
                *end += frame.len();
                Some(*end)
            })
            .collect();
        let all = bytes.concat();
        let mut scanner = FrameScanner::server_to_client();
        assert_eq!(scanner.before_boundary(), 0);
        for (i, byte) in all.iter().enumerate() {
            // Never more than the way to the next frame end: writes cut there stop at it.
            let next_end = ends.iter().copied().find(|&end| end > i).unwrap();
            assert!(i + scanner.before_boundary() <= next_end, "at byte {i}");
            scan_all(&mut scanner, std::slice::from_ref(byte), &mut Vec::new());
            let at_end = ends.contains(&(i + 1));
            assert_eq!(scanner.before_boundary() == 0, at_end, "after byte {i}");
        }
    }

    #[test]
    fn stops_right_after_the_header_it_is_told_to() {
        let (bytes, _) = client_stream();
        let mut scanner = FrameScanner::client_to_server();
        let scanned = scanner.scan(&bytes, |head| {
            if head.kind == kind::PING {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        // Preface, SETTINGS (9 + 6), HEADERS (9 + 20), DATA (9), then the PING's header.
        assert_eq!(scanned, 24 + 15 + 29 + 9 + 9);
        assert_eq!(scanner.before_boundary(), 8, "the PING's payload is next");
    }
}
