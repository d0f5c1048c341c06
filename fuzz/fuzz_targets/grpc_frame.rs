//! The gRPC frame decoder (`codec::decode::FrameDecoder`), plain and gzip.
//!
//! Input layout:
//! - byte 0: settings. Bit 0: the peer's `grpc-encoding` is gzip (else identity).
//!   Bits 1-3: the receive limit, from `LIMITS`. Bit 4: also encode the stream's bytes as
//!   messages with the real frame encoder and check that they decode back.
//! - byte 1: `k = byte % 8` chunk sizes follow (none: the stream arrives in 1-byte chunks
//!   when `byte & 8`, else in one chunk).
//! - k bytes: chunk sizes (0 is an empty chunk), used in turn.
//! - the rest: the received body.
//!
//! Checks: no panic; every frame returned is within the receive limit (the decompressed
//! size of gzip frames included); `last_compressed` is never set without an encoding; the
//! chunking does not change what decodes (frames, then the same error or the same end);
//! with gzip, the body is also decompressed directly (`Encoding::decompress`), where the
//! limit bounds the output and decides only whether it is refused; in round-trip mode,
//! what the encoder writes decodes back to the same messages.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use rsrpc::codec::Encoding;
use rsrpc::fuzzing::{FrameDecoder, decode_message, decompress, encode_frame};

const LIMITS: [usize; 8] = [0, 1, 5, 16, 100, 1024, 4096, 65536];

/// What a decoder made of a body: the frames (with their compressed flag), and how it
/// ended: `Err` from `next_frame` or `finish`, or `Ok` for a clean end.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<(Bytes, bool)>,
    end: Result<(), (rsrpc::Code, String)>,
}

fn decode(body: &[u8], chunks: &[usize], max_size: usize, encoding: Option<Encoding>) -> Outcome {
    let mut decoder = FrameDecoder::new(max_size, encoding);
    let mut frames = Vec::new();
    let mut rest = body;
    let mut sizes = chunks.iter().cycle();
    let mut pushed_all = false;
    while !pushed_all {
        let size = if chunks.is_empty() {
            rest.len()
        } else {
            (*sizes.next().unwrap()).min(rest.len())
        };
        let (chunk, after) = rest.split_at(size);
        decoder.push(Bytes::copy_from_slice(chunk));
        rest = after;
        // An empty chunk can be pushed before the end; the loop ends once all is pushed.
        pushed_all = rest.is_empty();
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    assert!(
                        frame.len() <= max_size,
                        "frame of {} bytes over the limit of {max_size}",
                        frame.len()
                    );
                    let compressed = decoder.last_compressed();
                    assert!(
                        !compressed || encoding.is_some(),
                        "compressed frame without an encoding"
                    );
                    frames.push((frame, compressed));
                }
                Ok(None) => break,
                Err(status) => {
                    let end = Err((status.code(), status.message().to_owned()));
                    return Outcome { frames, end };
                }
            }
        }
    }
    let end = decoder
        .finish()
        .map_err(|status| (status.code(), status.message().to_owned()));
    Outcome { frames, end }
}

/// Decompresses `body` as a gzip payload under `max_size` and under a large limit: the
/// output never exceeds the limit, and the limit changes only whether it is refused.
fn check_decompress(body: &[u8], max_size: usize) {
    let bounded = decompress(Encoding::Gzip, body, max_size);
    if let Ok(plain) = &bounded {
        assert!(plain.len() <= max_size, "decompressed past the limit");
    }
    match decompress(Encoding::Gzip, body, 1 << 20) {
        Ok(plain) if plain.len() <= max_size => assert_eq!(bounded.ok(), Some(plain)),
        Ok(_) => assert_eq!(
            bounded.map_err(|status| status.code()),
            Err(rsrpc::Code::ResourceExhausted)
        ),
        Err(_) => assert!(bounded.is_err(), "the limit made a bad payload decode"),
    }
}

/// Encodes `body` as messages (`bytes` values: its `\n`-separated pieces) with the real
/// encoder and checks that they decode back exactly, chunked as given.
fn round_trip(body: &[u8], chunks: &[usize], max_size: usize, encoding: Option<Encoding>) {
    let mut encoded = BytesMut::new();
    let mut sent = Vec::new();
    for message in body.split(|&b| b == b'\n') {
        let message = message.to_vec();
        let mut frame = BytesMut::new();
        if encode_frame(&message, max_size, encoding, &mut frame).is_err() {
            // Over the send limit: only possible when the message itself is.
            assert!(
                message.encoded_len() > max_size,
                "refused a message within the limit"
            );
            continue;
        }
        // gzip can make a small message's frame longer than the receive limit, which the
        // decoder rightly refuses: leave such frames out.
        let len = u32::from_be_bytes(frame[1..5].try_into().unwrap()) as usize;
        if len <= max_size {
            encoded.extend_from_slice(&frame);
            sent.push(message);
        }
    }
    let outcome = decode(&encoded, chunks, max_size, encoding);
    assert_eq!(
        outcome.end,
        Ok(()),
        "frames from the encoder failed to decode"
    );
    let received: Vec<Vec<u8>> = outcome
        .frames
        .into_iter()
        .map(|(frame, compressed)| {
            assert_eq!(compressed, encoding.is_some());
            decode_message::<Vec<u8>>(frame).expect("an encoded message decodes")
        })
        .collect();
    assert_eq!(received, sent);
}

fuzz_target!(|data: &[u8]| {
    let [settings, chunking, rest @ ..] = data else {
        return;
    };
    let encoding = (settings & 1 == 1).then_some(Encoding::Gzip);
    let max_size = LIMITS[usize::from((settings >> 1) & 7)];
    let count = usize::from(chunking % 8).min(rest.len());
    let (sizes, body) = rest.split_at(count);
    let mut chunks: Vec<usize> = sizes.iter().map(|&size| usize::from(size)).collect();
    if chunks.is_empty() && chunking & 8 != 0 {
        chunks.push(1);
    }
    if chunks.iter().all(|&size| size == 0) && !chunks.is_empty() {
        // Only empty chunks would never deliver the body.
        chunks.push(1);
    }

    if settings & 16 != 0 {
        round_trip(body, &chunks, max_size, encoding);
        return;
    }
    if encoding.is_some() {
        // The payload of the first frame, if the body starts with one.
        check_decompress(body.get(5..).unwrap_or_default(), max_size);
    }
    let chunked = decode(body, &chunks, max_size, encoding);
    if !chunks.is_empty() {
        let whole = decode(body, &[], max_size, encoding);
        assert_eq!(chunked, whole, "chunking changed what decodes");
    }
});
