//! The chunked HTTP/1.1 request body decoder, trailers included, and the skipping of
//! what a handler left unread.
//!
//! Input layout:
//! - byte 0: limits. Bits 0-1 pick the chunk-size line limit, bits 2-3 the trailer line
//!   limit, bits 4-5 the trailer byte limit, from small tables.
//! - byte 1: how many frames the "handler" reads before dropping the body (0-255).
//! - byte 2: piece size (0: one byte at a time): how the body arrives from the socket.
//! - the rest: the body.
//!
//! Checks: no panic, no hang (the reader ends), no unbounded memory (the decoded data is
//! never longer than the input); the trailers never exceed their line limit; read to its
//! end, a body decodes the same however its bytes are split.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rsrpc::fuzzing::http1::decode_chunked;

const LINE: [usize; 4] = [0, 3, 64, 4096];
const TRAILERS: [usize; 4] = [0, 1, 8, 100];
const TRAILER_BYTES: [usize; 4] = [0, 16, 256, 16384];

fn pieces(body: &[u8], size: usize) -> Vec<Bytes> {
    body.chunks(size.max(1))
        .map(Bytes::copy_from_slice)
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let [settings, read_first, piece, body @ ..] = input else {
        return;
    };
    let limits = (
        LINE[usize::from(settings & 3)],
        TRAILERS[usize::from(settings >> 2 & 3)],
        TRAILER_BYTES[usize::from(settings >> 4 & 3)],
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let decode = |size, read_first| {
        let decoded = runtime.block_on(decode_chunked(
            pieces(body, size),
            limits.0,
            limits.1,
            limits.2,
            read_first,
        ));
        decoded.map_err(|status| (status.code(), status.message().to_owned()))
    };
    // A handler that reads part of the body, then drops it: the rest is skipped.
    if let Ok(decoded) = decode(usize::from(*piece), usize::from(*read_first)) {
        assert!(decoded.data.len() <= body.len());
        assert!(decoded.trailers <= limits.1);
    }
    // Read to the end, the body decodes the same however its bytes arrive.
    let split = decode(usize::from(*piece), usize::MAX);
    let whole = decode(body.len(), usize::MAX);
    match (&split, &whole) {
        (Ok(a), Ok(b)) => assert_eq!((&a.data, a.trailers), (&b.data, b.trailers)),
        (a, b) => assert_eq!(a.as_ref().err(), b.as_ref().err()),
    }
});
