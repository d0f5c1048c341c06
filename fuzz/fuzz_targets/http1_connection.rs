//! The whole HTTP/1.1 server connection loop, fed arbitrary bytes by a client that then
//! closes, in front of a route that echoes request bodies. Time is paused, so the
//! server's timeouts pass at once instead of stalling the fuzzer.
//!
//! Input layout: byte 0 is the piece size the bytes arrive in (0: one at a time); the
//! rest is what the client sends.
//!
//! Checks: no panic, no hang, and what the server writes is a sequence of HTTP/1.1
//! responses (it starts with `HTTP/1.1 ` whenever it is not empty).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rsrpc::fuzzing::http1::serve;

fuzz_target!(|input: &[u8]| {
    let [piece, sent @ ..] = input else {
        return;
    };
    let pieces = sent
        .chunks(usize::from(*piece).max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let written = runtime.block_on(serve(pieces));
    assert!(written.is_empty() || written.starts_with(b"HTTP/1.1 "));
});
