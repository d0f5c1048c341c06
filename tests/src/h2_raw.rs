//! A tiny raw HTTP/2 peer for hostile-input tests: frames written byte by byte, so a
//! test can send what no HTTP/2 library would (floods, resets right after HEADERS,
//! endless CONTINUATION frames), and a reader that records what the server answers.
//!
//! Only what the tests need is here:
//!
//! - [`frame`] builds a frame: the 9-byte header of RFC 9113 section 4.1 (24-bit
//!   length, type, flags, 31-bit stream id) and the payload.
//! - [`request_headers`] builds a header block with HPACK (RFC 7541) without the
//!   dynamic table and without Huffman coding: static-table indices for `:method POST`
//!   and `:scheme http`, and "literal without indexing" fields for the rest. Each block
//!   is then independent of the ones before it, so the same block can open any number
//!   of streams.
//! - [`RawConnection`] sends the preface, exchanges SETTINGS with the server, and
//!   records every frame the server sends (it never decodes the server's header
//!   blocks, whose HPACK state it does not track).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The client connection preface (RFC 9113 section 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types (RFC 9113 section 6).
pub mod kind {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// END_STREAM, on DATA and HEADERS.
    pub const END_STREAM: u8 = 0x1;
    /// ACK, on SETTINGS and PING.
    pub const ACK: u8 = 0x1;
    /// END_HEADERS, on HEADERS and CONTINUATION.
    pub const END_HEADERS: u8 = 0x4;
}

/// SETTINGS identifiers (RFC 9113 section 6.5.2).
pub mod setting {
    /// SETTINGS_ENABLE_PUSH.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
}

/// Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7).
pub mod error {
    /// NO_ERROR.
    pub const NO_ERROR: u32 = 0x0;
    /// PROTOCOL_ERROR.
    pub const PROTOCOL_ERROR: u32 = 0x1;
    /// REFUSED_STREAM.
    pub const REFUSED_STREAM: u32 = 0x7;
    /// CANCEL.
    pub const CANCEL: u32 = 0x8;
    /// COMPRESSION_ERROR.
    pub const COMPRESSION_ERROR: u32 = 0x9;
    /// ENHANCE_YOUR_CALM.
    pub const ENHANCE_YOUR_CALM: u32 = 0xb;
}

/// Appends one frame to `out`.
pub fn push_frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = u32::try_from(payload.len()).expect("a frame payload fits 24 bits");
    assert!(len < 1 << 24, "a frame payload fits 24 bits");
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
}

/// One frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + payload.len());
    push_frame(&mut out, kind, flags, stream, payload);
    out
}

/// A SETTINGS frame with the given (identifier, value) pairs.
pub fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(6 * pairs.len());
    for (id, value) in pairs {
        payload.extend_from_slice(&id.to_be_bytes());
        payload.extend_from_slice(&value.to_be_bytes());
    }
    frame(kind::SETTINGS, 0, 0, &payload)
}

/// A PING frame (not an ACK) carrying `data`.
pub fn ping(data: u64) -> Vec<u8> {
    frame(kind::PING, 0, 0, &data.to_be_bytes())
}

/// The ACK of a PING that carried `data`.
pub fn ping_ack(data: u64) -> Vec<u8> {
    frame(kind::PING, flag::ACK, 0, &data.to_be_bytes())
}

/// A RST_STREAM frame.
pub fn rst_stream(stream: u32, code: u32) -> Vec<u8> {
    frame(kind::RST_STREAM, 0, stream, &code.to_be_bytes())
}

/// A WINDOW_UPDATE frame.
pub fn window_update(stream: u32, increment: u32) -> Vec<u8> {
    frame(kind::WINDOW_UPDATE, 0, stream, &increment.to_be_bytes())
}

/// Appends an HPACK integer with an `prefix_bits`-bit prefix whose high bits are `high`
/// (RFC 7541 section 5.1).
fn hpack_integer(out: &mut Vec<u8>, high: u8, prefix_bits: u32, mut value: usize) {
    let max = (1usize << prefix_bits) - 1;
    if value < max {
        out.push(high | value as u8);
        return;
    }
    out.push(high | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

/// Appends an HPACK string literal without Huffman coding (RFC 7541 section 5.2).
fn hpack_string(out: &mut Vec<u8>, text: &[u8]) {
    hpack_integer(out, 0x00, 7, text.len());
    out.extend_from_slice(text);
}

/// A "literal header field without indexing — new name" (RFC 7541 section 6.2.2):
/// adds nothing to the decoder's dynamic table.
pub fn literal(name: &str, value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    hpack_string(&mut out, name.as_bytes());
    hpack_string(&mut out, value);
    out
}

/// A literal field without indexing whose name is static-table entry `index`.
fn literal_indexed_name(out: &mut Vec<u8>, index: usize, value: &[u8]) {
    hpack_integer(out, 0x00, 4, index);
    hpack_string(out, value);
}

/// The header block of a gRPC request for `path`: `:method POST` and `:scheme http`
/// (static-table entries 3 and 6), `:path` and `:authority` (literals on static names
/// 4 and 1), `content-type: application/grpc`, `te: trailers`, then `extra`.
pub fn request_headers(path: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0x80 | 3, 0x80 | 6];
    literal_indexed_name(&mut out, 4, path.as_bytes());
    literal_indexed_name(&mut out, 1, b"localhost");
    out.extend(literal("content-type", b"application/grpc"));
    out.extend(literal("te", b"trailers"));
    for (name, value) in extra {
        out.extend(literal(name, value));
    }
    out
}

/// A whole gRPC request on `stream`: HEADERS, then one DATA frame carrying `body` (the
/// gRPC frames) with END_STREAM.
pub fn grpc_request(stream: u32, path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = frame(
        kind::HEADERS,
        flag::END_HEADERS,
        stream,
        &request_headers(path, &[]),
    );
    push_frame(&mut out, kind::DATA, flag::END_STREAM, stream, body);
    out
}

/// A GOAWAY the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoAway {
    /// The last stream the server may have processed.
    pub last_stream: u32,
    /// The error code.
    pub code: u32,
    /// The debug data, as text.
    pub debug: String,
}

/// What the server has sent so far on a [`RawConnection`].
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// SETTINGS frames with ACK.
    pub settings_acks: usize,
    /// PING frames with ACK.
    pub ping_acks: usize,
    /// The payload of the last PING ACK.
    pub last_ping_ack: Option<u64>,
    /// PING frames without ACK: the server's own PINGs.
    pub pings: usize,
    /// The payload of the server's last own PING, to answer with [`ping_ack`].
    pub last_ping: Option<u64>,
    /// Stream ids of HEADERS frames, in order (responses and trailers).
    pub headers: Vec<u32>,
    /// Stream ids of HEADERS and DATA frames that carried END_STREAM.
    pub ended: Vec<u32>,
    /// Bytes of DATA payload received.
    pub data_bytes: usize,
    /// (stream, error code) of each RST_STREAM.
    pub resets: Vec<(u32, u32)>,
    /// The GOAWAY frames, in order.
    pub goaways: Vec<GoAway>,
    /// Frames of any other type.
    pub other_frames: usize,
    /// The server closed the connection (end of stream or a read error).
    pub closed: bool,
    /// The read error that ended the connection, if it was not a clean close.
    pub read_error: Option<String>,
}

impl Observed {
    /// The first GOAWAY, if any.
    pub fn goaway(&self) -> Option<&GoAway> {
        self.goaways.first()
    }

    /// How many RST_STREAM frames carried `code`.
    pub fn resets_with(&self, code: u32) -> usize {
        self.resets.iter().filter(|(_, c)| *c == code).count()
    }

    /// Whether the server ended `stream` (END_STREAM on its last frame).
    pub fn stream_ended(&self, stream: u32) -> bool {
        self.ended.contains(&stream)
    }
}

/// A frame read from the server.
struct RawFrame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

/// Reads one frame; `None` at a clean end of stream.
async fn read_frame<R: tokio::io::AsyncRead + Unpin>(read: &mut R) -> io::Result<Option<RawFrame>> {
    let mut head = [0u8; 9];
    match read.read_exact(&mut head).await {
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0; len];
    read.read_exact(&mut payload).await?;
    Ok(Some(RawFrame {
        kind: head[3],
        flags: head[4],
        stream,
        payload,
    }))
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes(bytes[..4].try_into().unwrap())
}

impl Observed {
    fn record(&mut self, frame: RawFrame) {
        let end_stream = frame.flags & flag::END_STREAM != 0;
        match frame.kind {
            kind::SETTINGS if frame.flags & flag::ACK != 0 => self.settings_acks += 1,
            kind::PING if frame.flags & flag::ACK != 0 => {
                self.ping_acks += 1;
                self.last_ping_ack = frame.payload.try_into().ok().map(u64::from_be_bytes);
            }
            kind::PING => {
                self.pings += 1;
                self.last_ping = frame.payload.try_into().ok().map(u64::from_be_bytes);
            }
            kind::HEADERS => {
                self.headers.push(frame.stream);
                if end_stream {
                    self.ended.push(frame.stream);
                }
            }
            kind::DATA => {
                self.data_bytes += frame.payload.len();
                if end_stream {
                    self.ended.push(frame.stream);
                }
            }
            kind::RST_STREAM => self.resets.push((frame.stream, be_u32(&frame.payload))),
            kind::GOAWAY => self.goaways.push(GoAway {
                last_stream: be_u32(&frame.payload) & 0x7fff_ffff,
                code: be_u32(&frame.payload[4..]),
                debug: String::from_utf8_lossy(&frame.payload[8..]).into_owned(),
            }),
            _ => self.other_frames += 1,
        }
    }
}

/// How a [`RawConnection::send_until_stalled`] ended.
#[derive(Debug)]
pub enum Sent {
    /// Every byte was written.
    All,
    /// The server stopped reading: no byte could be written for the stall time.
    Stalled {
        /// Bytes written before the stall.
        written: usize,
    },
    /// Writing failed (the server closed the connection).
    Failed {
        /// Bytes written before the failure.
        written: usize,
        /// The write error.
        error: io::Error,
    },
}

/// A raw HTTP/2 client connection.
pub struct RawConnection {
    write: OwnedWriteHalf,
    /// The read half, until [`start_reading`](Self::start_reading) hands it to the reader.
    read: Option<BufReader<OwnedReadHalf>>,
    observed: watch::Receiver<Observed>,
    sender: Option<watch::Sender<Observed>>,
    reader: Option<JoinHandle<()>>,
}

/// How long the SETTINGS exchange and each write may take before a test fails.
const LIVENESS: Duration = Duration::from_secs(10);

impl RawConnection {
    /// Connects, sends the preface and a SETTINGS frame with `settings`, waits for the
    /// server's SETTINGS, acknowledges them, and starts recording what the server sends.
    pub async fn open(addr: SocketAddr, settings: &[(u16, u32)]) -> RawConnection {
        let mut connection = RawConnection::open_unread(addr, settings, None).await;
        connection.start_reading();
        connection
    }

    /// Like [`open`](Self::open), but reads nothing after the SETTINGS exchange until
    /// [`start_reading`](Self::start_reading), so that what the server writes piles up
    /// in the socket buffers. With `socket_buffer`, the client's send and receive
    /// buffers are set to that size (which also stops the kernel from growing them).
    pub async fn open_unread(
        addr: SocketAddr,
        settings: &[(u16, u32)],
        socket_buffer: Option<u32>,
    ) -> RawConnection {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(size) = socket_buffer {
            socket.set_recv_buffer_size(size).unwrap();
            socket.set_send_buffer_size(size).unwrap();
        }
        let stream = socket.connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut hello = PREFACE.to_vec();
        hello.extend(self::settings(settings));
        write.write_all(&hello).await.unwrap();
        let (sender, observed) = watch::channel(Observed::default());
        let handshake = async {
            loop {
                let frame = read_frame(&mut read)
                    .await
                    .unwrap()
                    .expect("the server sends SETTINGS before closing");
                if frame.kind == kind::SETTINGS && frame.flags & flag::ACK == 0 {
                    break;
                }
                sender.send_modify(|observed| observed.record(frame));
            }
        };
        tokio::time::timeout(LIVENESS, handshake)
            .await
            .expect("the server sends its SETTINGS");
        write
            .write_all(&frame(kind::SETTINGS, flag::ACK, 0, &[]))
            .await
            .unwrap();
        RawConnection {
            write,
            read: Some(read),
            observed,
            sender: Some(sender),
            reader: None,
        }
    }

    /// Starts recording every frame the server sends, until it closes the connection.
    pub fn start_reading(&mut self) {
        let (Some(mut read), Some(sender)) = (self.read.take(), self.sender.take()) else {
            return;
        };
        self.reader = Some(tokio::spawn(async move {
            loop {
                match read_frame(&mut read).await {
                    Ok(Some(frame)) => sender.send_modify(|observed| observed.record(frame)),
                    Ok(None) => break sender.send_modify(|observed| observed.closed = true),
                    Err(error) => {
                        break sender.send_modify(|observed| {
                            observed.closed = true;
                            observed.read_error = Some(error.to_string());
                        });
                    }
                }
            }
        }));
    }

    /// Writes `bytes`; panics if that takes more than ten seconds, and returns the
    /// write error if the server closed the connection.
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        tokio::time::timeout(LIVENESS, self.write.write_all(bytes))
            .await
            .expect("the server reads what is sent")
    }

    /// Writes `bytes` until done, or until no byte could be written for `stall` (the
    /// server stopped reading), or until writing fails.
    pub async fn send_until_stalled(&mut self, bytes: &[u8], stall: Duration) -> Sent {
        let mut written = 0;
        while written < bytes.len() {
            match tokio::time::timeout(stall, self.write.write(&bytes[written..])).await {
                Err(_) => return Sent::Stalled { written },
                Ok(Ok(0)) => {
                    return Sent::Failed {
                        written,
                        error: io::ErrorKind::WriteZero.into(),
                    };
                }
                Ok(Ok(n)) => written += n,
                Ok(Err(error)) => return Sent::Failed { written, error },
            }
        }
        Sent::All
    }

    /// What the server has sent so far.
    pub fn observed(&self) -> Observed {
        self.observed.borrow().clone()
    }

    /// Waits until what the server sent satisfies `done`; panics, showing what was
    /// seen, if it does not within `within`.
    pub async fn wait_for(
        &mut self,
        within: Duration,
        done: impl FnMut(&Observed) -> bool,
    ) -> Observed {
        assert!(self.reader.is_some(), "start_reading first");
        let waited = tokio::time::timeout(within, self.observed.wait_for(done))
            .await
            .map(|result| result.map(|observed| observed.clone()));
        match waited {
            Ok(Ok(observed)) => observed,
            Ok(Err(_)) => panic!("the reader ended: {}", summary(&self.observed())),
            Err(_) => panic!(
                "the server's answer did not come within {within:?}; saw {}",
                summary(&self.observed())
            ),
        }
    }

    /// Sends a PING and waits for its ACK: proof that the connection is alive.
    pub async fn assert_alive(&mut self, data: u64) {
        self.send(&ping(data))
            .await
            .expect("the connection is open");
        let observed = self
            .wait_for(LIVENESS, |seen| {
                seen.last_ping_ack == Some(data) || seen.closed
            })
            .await;
        assert_eq!(
            observed.last_ping_ack,
            Some(data),
            "the connection closed: {:?}",
            summary(&observed)
        );
    }
}

/// A short description of what was observed, for failure messages (without the
/// possibly long lists of streams).
pub fn summary(observed: &Observed) -> String {
    format!(
        "settings_acks={} ping_acks={} headers={} ended={} data_bytes={} resets={} \
         (refused {}, cancel {}, protocol {}) goaways={:?} other={} closed={} error={:?}",
        observed.settings_acks,
        observed.ping_acks,
        observed.headers.len(),
        observed.ended.len(),
        observed.data_bytes,
        observed.resets.len(),
        observed.resets_with(error::REFUSED_STREAM),
        observed.resets_with(error::CANCEL),
        observed.resets_with(error::PROTOCOL_ERROR),
        observed.goaways,
        observed.other_frames,
        observed.closed,
        observed.read_error,
    )
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_is_length_type_flags_stream() {
        let bytes = frame(kind::PING, flag::ACK, 0, &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&bytes[..9], &[0, 0, 8, 6, 1, 0, 0, 0, 0]);
        let bytes = frame(kind::HEADERS, flag::END_HEADERS, 0x8000_0003, &[]);
        assert_eq!(&bytes[5..9], &[0, 0, 0, 3], "the reserved bit is cleared");
    }

    #[test]
    fn hpack_integers_continue_past_the_prefix() {
        // RFC 7541 C.1.2: 1337 with a 5-bit prefix.
        let mut out = Vec::new();
        hpack_integer(&mut out, 0, 5, 1337);
        assert_eq!(out, [31, 154, 10]);
        let mut out = Vec::new();
        hpack_integer(&mut out, 0x80, 7, 10);
        assert_eq!(out, [0x8a]);
    }

    #[test]
    fn literal_without_indexing_matches_rfc_7541() {
        // RFC 7541 C.2.2 encodes `:path: /sample/path` with indexed name 4.
        let mut out = Vec::new();
        literal_indexed_name(&mut out, 4, b"/sample/path");
        let mut expected = vec![0x04, 0x0c];
        expected.extend_from_slice(b"/sample/path");
        assert_eq!(out, expected);
    }
}
