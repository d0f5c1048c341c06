//! grpc-go's keepalive enforcement policy on the server: a client PING that comes sooner
//! than `min_time` after the one before (or, with no stream open and without
//! `permit_without_stream`, sooner than two hours) is a strike, a response's HEADERS or
//! DATA sent wipes the strikes, and past two strikes the connection gets GOAWAY
//! `ENHANCE_YOUR_CALM` with the debug data `too_many_pings` and is closed.
//!
//! h2 answers PINGs itself and tells nobody, and its GOAWAYs carry no debug data, which
//! grpc-go clients read to back off. So [`PolicedIo`] sits between h2 and the socket: it
//! scans what the client sends for PINGs and HEADERS, and what h2 writes for frame
//! boundaries, HEADERS and DATA, and it writes the GOAWAY itself, between two of h2's
//! frames. Only connections with the policy set are wrapped.

#[cfg(any(test, fuzzing))]
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
#[cfg(any(test, fuzzing))]
use std::task::Waker;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::frame_scan::{FLAG_ACK, FrameHead, FrameScanner, HEAD_LEN, kind};
use super::lifetime::OpenStreams;
use crate::transport::limits::PingEnforcement;

/// Strikes a client may have; the next one closes the connection (grpc-go's
/// `maxPingStrikes`).
const MAX_STRIKES: u8 = 2;
/// The least time between PINGs with no stream open, without `permit_without_stream`
/// (grpc-go's `defaultPingTimeout`).
const IDLE_PING_INTERVAL: Duration = Duration::from_secs(2 * 60 * 60);
/// The GOAWAY's error code and debug data, which grpc-go clients look for.
const ENHANCE_YOUR_CALM: u32 = 0xb;
const TOO_MANY_PINGS: &[u8] = b"too_many_pings";
const GOAWAY_LEN: usize = HEAD_LEN + 8 + TOO_MANY_PINGS.len();
/// How long the GOAWAY may wait for h2 to finish the frame it is writing and for the
/// client to take it: one that does not read cannot hold the connection longer.
const GOAWAY_GRACE: Duration = Duration::from_secs(1);

/// A client's PING strikes.
#[derive(Debug)]
pub(crate) struct PingStrikes {
    policy: PingEnforcement,
    last_ping: Option<Instant>,
    strikes: u8,
    /// HEADERS or DATA were sent since the last PING.
    sent_since_ping: bool,
}

impl PingStrikes {
    pub(crate) fn new(policy: PingEnforcement) -> PingStrikes {
        PingStrikes {
            policy,
            last_ping: None,
            strikes: 0,
            sent_since_ping: false,
        }
    }

    /// The server sent HEADERS or DATA: the next PING wipes the strikes.
    pub(crate) fn sent(&mut self) {
        self.sent_since_ping = true;
    }

    /// Counts a client PING received at `now`; `true` once there were too many.
    pub(crate) fn ping(&mut self, now: Instant, streams_open: bool) -> bool {
        let last = self.last_ping.replace(now);
        if std::mem::take(&mut self.sent_since_ping) {
            self.strikes = 0;
            return false;
        }
        let min_interval = if streams_open || self.policy.permit_without_stream {
            self.policy.min_time
        } else {
            IDLE_PING_INTERVAL
        };
        if last.is_some_and(|last| now.saturating_duration_since(last) < min_interval) {
            self.strikes = self.strikes.saturating_add(1);
        }
        self.strikes > MAX_STRIKES
    }
}

/// The GOAWAY sent to a client that PINGed too often.
fn too_many_pings(last_stream_id: u32) -> [u8; GOAWAY_LEN] {
    let head = FrameHead {
        len: (GOAWAY_LEN - HEAD_LEN) as u32,
        kind: kind::GOAWAY,
        flags: 0,
        stream_id: 0,
    };
    let mut frame = [0; GOAWAY_LEN];
    frame[..HEAD_LEN].copy_from_slice(&head.encode());
    frame[HEAD_LEN..HEAD_LEN + 4].copy_from_slice(&last_stream_id.to_be_bytes());
    frame[HEAD_LEN + 4..HEAD_LEN + 8].copy_from_slice(&ENHANCE_YOUR_CALM.to_be_bytes());
    frame[HEAD_LEN + 8..].copy_from_slice(TOO_MANY_PINGS);
    frame
}

/// What h2 sees after the GOAWAY: the connection then ends.
fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed with GOAWAY ENHANCE_YOUR_CALM: the client sent too many PINGs",
    )
}

/// Where a policed connection stands.
enum State {
    Open,
    /// The client PINGed too often: the GOAWAY goes out at the next frame boundary of
    /// what h2 writes, or the connection closes at `deadline`.
    Calming {
        goaway: [u8; GOAWAY_LEN],
        written: usize,
        deadline: Pin<Box<Sleep>>,
    },
    Closed,
}

/// A server connection's byte stream, watched for PINGs under a [`PingEnforcement`].
pub(crate) struct PolicedIo<I> {
    io: I,
    inbound: FrameScanner,
    outbound: FrameScanner,
    strikes: PingStrikes,
    streams: Arc<OpenStreams>,
    /// The highest stream a client's HEADERS opened: the GOAWAY's last stream id.
    highest_stream: u32,
    /// Whether h2 sent a GOAWAY of its own (a drain): a later one must not name a
    /// higher stream (RFC 9113, section 6.8), and h2's is not read, so none is added.
    h2_went_away: bool,
    state: State,
}

impl<I> PolicedIo<I> {
    /// Watches `io` for `policy`; `streams` tells whether a stream is open.
    pub(crate) fn new(io: I, policy: PingEnforcement, streams: Arc<OpenStreams>) -> PolicedIo<I> {
        PolicedIo {
            io,
            inbound: FrameScanner::client_to_server(),
            outbound: FrameScanner::server_to_client(),
            strikes: PingStrikes::new(policy),
            streams,
            highest_stream: 0,
            h2_went_away: false,
            state: State::Open,
        }
    }

    /// The byte stream, for tests to look at what reached it.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn into_inner(self) -> I {
        self.io
    }

    /// Scans bytes read from the client; returns how many h2 may see. Once the client
    /// has PINGed too often, h2 sees nothing past that PING's header, so it neither
    /// answers the PING nor starts anything the client sent after it.
    fn received(&mut self, bytes: &[u8]) -> usize {
        let PolicedIo {
            inbound,
            strikes,
            streams,
            highest_stream,
            ..
        } = self;
        let mut calm = false;
        let seen = inbound.scan(bytes, |head| {
            match head.kind {
                // Client streams have odd ids.
                kind::HEADERS if head.stream_id % 2 == 1 => {
                    *highest_stream = (*highest_stream).max(head.stream_id);
                }
                kind::PING if head.flags & FLAG_ACK == 0 => {
                    calm = strikes.ping(Instant::now(), !streams.is_idle());
                }
                _ => {}
            }
            if calm {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if calm {
            tracing::debug!("closing an HTTP/2 connection whose client sent too many PINGs");
            self.state = State::Calming {
                goaway: too_many_pings(self.highest_stream),
                // After h2's own GOAWAY, the connection just closes.
                written: if self.h2_went_away { GOAWAY_LEN } else { 0 },
                deadline: Box::pin(tokio::time::sleep(GOAWAY_GRACE)),
            };
        }
        seen
    }

    /// Scans bytes h2 wrote.
    fn sent(&mut self, bytes: &[u8]) {
        let (strikes, went_away) = (&mut self.strikes, &mut self.h2_went_away);
        self.outbound.scan(bytes, |head| {
            match head.kind {
                kind::HEADERS | kind::DATA => strikes.sent(),
                kind::GOAWAY => *went_away = true,
                _ => {}
            }
            ControlFlow::Continue(())
        });
    }
}

impl<I: AsyncWrite + Unpin> PolicedIo<I> {
    /// Writes the GOAWAY, at a frame boundary, and flushes it; then the connection is
    /// closed, and this fails as every later call does.
    fn poll_goaway(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if let State::Calming {
            goaway, written, ..
        } = &mut self.state
        {
            while *written < goaway.len() {
                match ready!(Pin::new(&mut self.io).poll_write(cx, &goaway[*written..])) {
                    Ok(0) => return Poll::Ready(io::ErrorKind::WriteZero.into()),
                    Ok(n) => *written += n,
                    Err(error) => return Poll::Ready(error),
                }
            }
            if let Err(error) = ready!(Pin::new(&mut self.io).poll_flush(cx)) {
                return Poll::Ready(error);
            }
            self.state = State::Closed;
        }
        Poll::Ready(closed())
    }

    /// The most of h2's next bytes that may be written now; `None` once the connection
    /// is closing and the GOAWAY goes first.
    fn writable(&self, len: usize) -> Option<usize> {
        match self.state {
            State::Open => Some(len),
            State::Calming { .. } => match self.outbound.before_boundary() {
                0 => None,
                // Up to the end of h2's frame under way, so that the GOAWAY comes soon.
                room => Some(len.min(room)),
            },
            State::Closed => None,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for PolicedIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match &mut this.state {
            State::Open => {}
            // Nothing more from a client being closed; the deadline bounds a write of the
            // GOAWAY that does not progress.
            State::Calming { deadline, .. } => {
                ready!(deadline.as_mut().poll(cx));
                this.state = State::Closed;
                return Poll::Ready(Err(closed()));
            }
            State::Closed => return Poll::Ready(Err(closed())),
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let seen = this.received(&buf.filled()[before..]);
        buf.set_filled(before + seen);
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for PolicedIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let Some(len) = this.writable(buf.len()) else {
            return this.poll_goaway(cx).map(Err);
        };
        let n = ready!(Pin::new(&mut this.io).poll_write(cx, &buf[..len]))?;
        this.sent(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !matches!(this.state, State::Open) {
            // Cut to the frame's end by the plain write.
            let first = bufs.iter().find(|buf| !buf.is_empty());
            let first = first.map_or(&[][..], |buf| &**buf);
            return Pin::new(this).poll_write(cx, first);
        }
        let mut n = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        let written = n;
        for buf in bufs {
            if n == 0 {
                break;
            }
            let part = buf.len().min(n);
            this.sent(&buf[..part]);
            n -= part;
        }
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.writable(0).is_none() {
            return this.poll_goaway(cx).map(Err);
        }
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// What a policed connection let through.
#[cfg(any(test, fuzzing))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policed {
    /// The client's bytes h2 read.
    pub read: Vec<u8>,
    /// The bytes that reached the socket: h2's, and the policy's GOAWAY.
    pub written: Vec<u8>,
    /// Whether a write failed: the connection was closed after the GOAWAY.
    pub closed: bool,
}

#[cfg(any(test, fuzzing))]
/// Drives a policed connection (`min_time` one hour, no stream open, no
/// `permit_without_stream`, the clock standing still, so that every client PING after
/// the first is a strike unless HEADERS or DATA went out since the one before) the way
/// h2 would, over an in-memory socket that takes at most `accept` bytes a write:
///
/// 1. h2 writes `outbound[..cut]`, in writes of `write_piece` bytes, and flushes;
/// 2. h2 reads everything the client sent, `inbound`, arriving `read_piece` bytes at a
///    time, until a read does not complete;
/// 3. h2 writes the rest of `outbound` the same way, flushing after each write and at
///    the end, until a call fails.
///
/// `vectored` writes each piece as two slices. Must run within a tokio runtime with
/// time enabled.
pub fn police(
    inbound: &[u8],
    read_piece: usize,
    outbound: &[u8],
    cut: usize,
    write_piece: usize,
    accept: usize,
    vectored: bool,
) -> Policed {
    let socket = Socket {
        inbound: inbound
            .chunks(read_piece.max(1))
            .map(<[u8]>::to_vec)
            .collect(),
        written: Vec::new(),
        accept: accept.max(1),
        vectored,
    };
    let enforcement = PingEnforcement {
        min_time: Duration::from_secs(3600),
        permit_without_stream: false,
    };
    let mut io = PolicedIo::new(socket, enforcement, Arc::default());
    let mut cx = Context::from_waker(Waker::noop());
    let cut = cut.min(outbound.len());
    let mut read = Vec::new();
    let mut closed = !write_all(&mut io, &mut cx, &outbound[..cut], write_piece, vectored);
    loop {
        let mut buf = [0; 64];
        let mut buf = ReadBuf::new(&mut buf);
        match Pin::new(&mut io).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(())) if !buf.filled().is_empty() => read.extend(buf.filled()),
            _ => break,
        }
    }
    if !closed {
        closed = !write_all(&mut io, &mut cx, &outbound[cut..], write_piece, vectored)
            || !matches!(Pin::new(&mut io).poll_flush(&mut cx), Poll::Ready(Ok(())));
    }
    let written = io.into_inner().written;
    Policed {
        read,
        written,
        closed,
    }
}

#[cfg(any(test, fuzzing))]
/// Writes `bytes` as h2 would, flushing after each write; `false` once a call fails.
fn write_all(
    io: &mut PolicedIo<Socket>,
    cx: &mut Context<'_>,
    bytes: &[u8],
    piece: usize,
    vectored: bool,
) -> bool {
    for chunk in bytes.chunks(piece.max(1)) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let (first, second) = rest.split_at(rest.len() / 2);
            let slices = [io::IoSlice::new(first), io::IoSlice::new(second)];
            let written = if vectored {
                Pin::new(&mut *io).poll_write_vectored(cx, &slices)
            } else {
                Pin::new(&mut *io).poll_write(cx, rest)
            };
            match written {
                Poll::Ready(Ok(n)) if n > 0 => rest = &rest[n..],
                _ => return false,
            }
        }
        if !matches!(Pin::new(&mut *io).poll_flush(cx), Poll::Ready(Ok(()))) {
            return false;
        }
    }
    true
}

#[cfg(any(test, fuzzing))]
/// An in-memory socket: the client's bytes in pieces, and what was written to it.
struct Socket {
    inbound: VecDeque<Vec<u8>>,
    written: Vec<u8>,
    accept: usize,
    vectored: bool,
}

#[cfg(any(test, fuzzing))]
impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(mut piece) = this.inbound.pop_front() {
            let n = piece.len().min(buf.remaining());
            buf.put_slice(&piece[..n]);
            if n < piece.len() {
                this.inbound.push_front(piece.split_off(n));
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(any(test, fuzzing))]
impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = buf.len().min(this.accept);
        this.written.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut n = 0;
        for buf in bufs {
            let part = buf.len().min(this.accept - n);
            this.written.extend_from_slice(&buf[..part]);
            n += part;
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame_scan::tests::frame;
    use super::*;

    const MIN_TIME: Duration = Duration::from_secs(10);

    fn strikes(permit_without_stream: bool) -> PingStrikes {
        PingStrikes::new(PingEnforcement {
            min_time: MIN_TIME,
            permit_without_stream,
        })
    }

    /// Whether each PING, `gaps` apart, ends the connection.
    fn pings(strikes: &mut PingStrikes, gaps: &[Duration], streams_open: bool) -> Vec<bool> {
        let mut now = Instant::now();
        gaps.iter()
            .map(|gap| {
                now += *gap;
                strikes.ping(now, streams_open)
            })
            .collect()
    }

    #[test]
    fn the_third_strike_ends_the_connection() {
        let fast = MIN_TIME / 2;
        let calm = pings(&mut strikes(false), &[fast; 5], true);
        // The first PING has none before it; the next three are strikes.
        assert_eq!(calm, [false, false, false, true, true]);
    }

    #[test]
    fn pings_min_time_apart_are_no_strikes() {
        let calm = pings(&mut strikes(false), &[MIN_TIME; 10], true);
        assert!(!calm.contains(&true));
        let just_short = MIN_TIME - Duration::from_millis(1);
        let calm = pings(&mut strikes(false), &[just_short; 4], true);
        assert_eq!(calm, [false, false, false, true]);
    }

    #[test]
    fn with_no_stream_open_pings_need_two_hours_unless_permitted() {
        let hour = Duration::from_secs(3600);
        let calm = pings(&mut strikes(false), &[hour; 4], false);
        assert_eq!(calm, [false, false, false, true]);
        let calm = pings(&mut strikes(false), &[IDLE_PING_INTERVAL; 4], false);
        assert!(!calm.contains(&true));
        let calm = pings(&mut strikes(true), &[MIN_TIME; 4], false);
        assert!(!calm.contains(&true));
    }

    #[test]
    fn headers_or_data_sent_wipe_the_strikes() {
        let mut strikes = strikes(false);
        let fast = [MIN_TIME / 2; 3];
        assert_eq!(pings(&mut strikes, &fast, true), [false; 3], "two strikes");
        strikes.sent();
        // Forgiven, and the count starts over.
        assert_eq!(pings(&mut strikes, &fast, true), [false; 3]);
        assert_eq!(pings(&mut strikes, &fast[..1], true), [true]);
    }

    fn ping() -> Vec<u8> {
        frame(kind::PING, 0, 0, &[1; 8])
    }

    /// A client that opens streams 1 and 3, then PINGs four times (and once more), with
    /// a PING ACK and a WINDOW_UPDATE between; returns the bytes and where the fourth
    /// PING's header ends.
    fn pinging_client() -> (Vec<u8>, usize) {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(0x4, 0, 0, &[]));
        bytes.extend(frame(kind::HEADERS, 0x4, 1, &[0x82; 12]));
        bytes.extend(frame(kind::HEADERS, 0x4, 3, &[0x82; 12]));
        bytes.extend(ping());
        bytes.extend(frame(kind::PING, FLAG_ACK, 0, &[2; 8]));
        bytes.extend(ping());
        bytes.extend(frame(0x8, 0, 0, &[0, 0, 1, 0]));
        bytes.extend(ping());
        bytes.extend(ping());
        let fourth_ping_head = bytes.len() - 8;
        // Not seen by h2: after the PING that ends the connection.
        bytes.extend(frame(kind::HEADERS, 0x4, 5, &[0x82; 12]));
        bytes.extend(ping());
        (bytes, fourth_ping_head)
    }

    /// What h2 writes: SETTINGS, a response's HEADERS and a long DATA frame, trailers.
    fn server_frames() -> Vec<Vec<u8>> {
        vec![
            frame(0x4, 0, 0, &[0, 4, 0, 1, 0, 0]),
            frame(kind::HEADERS, 0x4, 1, &[0x88; 5]),
            frame(kind::DATA, 0, 1, &[7; 300]),
            frame(kind::HEADERS, 0x5, 1, &[0x40; 20]),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn h2_reads_up_to_the_fourth_ping_however_the_bytes_arrive() {
        let (client, end) = pinging_client();
        for piece in 1..=client.len() {
            let policed = police(&client, piece, &[], 0, 1, 1, false);
            assert_eq!(policed.read, client[..end], "pieces of {piece}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_goaway_goes_out_between_two_of_h2s_frames_however_writes_are_cut() {
        let (client, _) = pinging_client();
        let frames = server_frames();
        let server = frames.concat();
        let ends: Vec<usize> = frames
            .iter()
            .scan(0, |end, frame| {
                *end += frame.len();
                Some(*end)
            })
            .collect();
        let goaway = too_many_pings(3);
        for cut in 0..=server.len() {
            let boundary = std::iter::once(0)
                .chain(ends.iter().copied())
                .find(|&end| end >= cut)
                .unwrap();
            for (piece, accept, vectored) in [(1, 1, false), (7, 3, true), (500, 64, false)] {
                let policed = police(&client, 5, &server, cut, piece, accept, vectored);
                let expected = [&server[..boundary], &goaway[..]].concat();
                assert_eq!(
                    policed.written, expected,
                    "cut {cut}, pieces of {piece}, {accept} taken a write"
                );
                assert!(policed.closed);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_goaway_names_the_last_client_stream_and_says_too_many_pings() {
        let goaway = too_many_pings(3);
        let head = FrameHead::parse(goaway[..HEAD_LEN].try_into().unwrap());
        assert_eq!(
            (head.kind, head.flags, head.stream_id),
            (kind::GOAWAY, 0, 0)
        );
        assert_eq!(head.len as usize, goaway.len() - HEAD_LEN);
        assert_eq!(goaway[HEAD_LEN..HEAD_LEN + 8], [0, 0, 0, 3, 0, 0, 0, 0xb]);
        assert_eq!(&goaway[HEAD_LEN + 8..], b"too_many_pings");
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_sent_between_pings_wipes_the_strikes() {
        let streams = Arc::new(OpenStreams::default());
        let mut io = PolicedIo::new((), PingEnforcement::default(), streams);
        let preface_and_three_pings =
            [&b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..], &ping().repeat(3)].concat();
        assert_eq!(
            io.received(&preface_and_three_pings),
            preface_and_three_pings.len()
        );
        // A SETTINGS frame is neither HEADERS nor DATA; a DATA frame, even split, is.
        io.sent(&frame(0x4, 0, 0, &[]));
        let data = frame(kind::DATA, 0, 1, &[1; 10]);
        io.sent(&data[..4]);
        io.sent(&data[4..]);
        let three_pings = ping().repeat(3);
        assert_eq!(io.received(&three_pings), three_pings.len());
        assert!(matches!(io.state, State::Open));
        // No response since: the third strike.
        assert_eq!(io.received(&ping()), HEAD_LEN);
        assert!(matches!(io.state, State::Calming { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn three_pings_are_not_enough() {
        let (client, end) = pinging_client();
        let three = &client[..end - HEAD_LEN];
        let policed = police(three, 3, &server_frames().concat(), 0, 100, 100, true);
        assert_eq!(policed.read, three);
        assert_eq!(policed.written, server_frames().concat());
        assert!(!policed.closed);
    }
}
