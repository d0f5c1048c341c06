//! The HTTP/2 frame scanner and the PING policy's wrapper around a server connection's
//! bytes (runtime/src/transport/http2/{frame_scan,ping_enforcement}.rs), against a
//! reference parse of the whole byte strings.
//!
//! Input layout:
//! - byte 0: the piece size the client's bytes arrive in (0: one at a time);
//! - byte 1: the piece size h2 writes in; byte 2: the most bytes the socket takes a
//!   write; byte 3, bit 0: vectored writes;
//! - bytes 4-5: how much of h2's bytes go out before the client's are read (`cut`);
//! - bytes 6-7: how many of the rest are the client's (the preface first, then
//!   frames); the remainder is what h2 writes.
//!
//! Checks: no panic; the scanner finds exactly the frame headers of the reference parse,
//! however the bytes are split, in both directions. With the clock standing still and
//! no stream open, every client PING after the first is a strike, so the fourth
//! (non-ACK) PING ends the connection: h2 reads the client's bytes up to that PING's
//! header and no further (all of them if there are fewer than four PINGs), and the
//! socket gets h2's bytes up to the first frame boundary at or after `cut`, then a GOAWAY
//! ENHANCE_YOUR_CALM "too_many_pings" naming the highest client stream opened before
//! that PING (none if h2 had written a GOAWAY of its own by then), and nothing more.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rsrpc::fuzzing::http2::{FrameHead, police, scan};

/// The reference parse: each complete frame header after `skip` bytes, with the offset
/// where it ends, and where each frame ends (frame boundaries).
fn reference(bytes: &[u8], skip: usize) -> (Vec<(FrameHead, usize)>, Vec<usize>) {
    let (mut heads, mut ends) = (Vec::new(), Vec::new());
    let mut at = skip;
    while at + 9 <= bytes.len() {
        let h = &bytes[at..at + 9];
        let head = FrameHead {
            len: u32::from_be_bytes([0, h[0], h[1], h[2]]),
            kind: h[3],
            flags: h[4],
            stream_id: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
        };
        heads.push((head, at + 9));
        at += 9 + head.len as usize;
        if at <= bytes.len() {
            ends.push(at);
        }
    }
    (heads, ends)
}

fn goaway(last_stream: u32) -> Vec<u8> {
    let mut frame = vec![0, 0, 22, 7, 0, 0, 0, 0, 0];
    frame.extend_from_slice(&last_stream.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0xb]);
    frame.extend_from_slice(b"too_many_pings");
    frame
}

fuzz_target!(|input: &[u8]| {
    let [read_piece, write_piece, accept, flags, c0, c1, n0, n1, rest @ ..] = input else {
        return;
    };
    let (read_piece, write_piece) = (usize::from(*read_piece), usize::from(*write_piece));
    let cut = usize::from(u16::from_be_bytes([*c0, *c1]));
    let split = usize::from(u16::from_be_bytes([*n0, *n1])).min(rest.len());
    let (inbound, outbound) = rest.split_at(split);

    let (client_heads, _) = reference(inbound, 24);
    let (server_heads, server_ends) = reference(outbound, 0);
    let heads = |parsed: &[(FrameHead, usize)]| parsed.iter().map(|(head, _)| *head).collect::<Vec<_>>();
    assert_eq!(scan(inbound, read_piece, true), heads(&client_heads));
    assert_eq!(scan(outbound, write_piece, false), heads(&server_heads));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let _entered = runtime.enter();
    let policed = police(
        inbound,
        read_piece,
        outbound,
        cut,
        write_piece,
        usize::from(*accept),
        flags & 1 == 1,
    );
    let fourth_ping = client_heads
        .iter()
        .filter(|(head, _)| head.kind == 6 && head.flags & 1 == 0)
        .nth(3);
    let Some((_, read_until)) = fourth_ping else {
        assert_eq!(policed.read, inbound);
        assert_eq!(policed.written, outbound);
        assert!(!policed.closed);
        return;
    };
    assert_eq!(policed.read, &inbound[..*read_until]);
    let last_stream = client_heads
        .iter()
        .filter(|(head, end)| end < read_until && head.kind == 1 && head.stream_id % 2 == 1)
        .map(|(head, _)| head.stream_id)
        .max()
        .unwrap_or(0);
    let cut = cut.min(outbound.len());
    let boundary = std::iter::once(0).chain(server_ends).find(|&end| end >= cut);
    // A GOAWAY h2 wrote before the PING arrived rules out a second one.
    let h2_went_away = server_heads
        .iter()
        .any(|(head, end)| head.kind == 7 && *end <= cut);
    let ours = if h2_went_away { Vec::new() } else { goaway(last_stream) };
    match boundary {
        Some(boundary) => {
            assert_eq!(policed.written, [&outbound[..boundary], &ours].concat());
            assert!(policed.closed);
        }
        // h2's last frame never ends: the GOAWAY waits for a boundary that never comes.
        None => {
            assert_eq!(policed.written, outbound);
            assert!(!policed.closed);
        }
    }
});
