//! What a channel reads of a gRPC-Web or Connect response: the data frames passed on
//! and the trailers of the last frame (gRPC-Web's header lines, Connect's end-of-stream
//! JSON), and a Connect unary error's JSON body.
//!
//! Input: byte 0 picks the protocol (even: gRPC-Web, odd: Connect) and the chunk length
//! (its value, plus one); the rest is the response body, and a Connect error body.
//!
//! Checks: no panic; the result is the same whatever the chunks; the data passed on is a
//! prefix of the body; an error body always gives a status.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rsrpc::fuzzing::web;

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let connect = control % 2 == 1;
    let chunk = usize::from(control) + 1;
    let chunks: Vec<Bytes> = body.chunks(chunk).map(Bytes::copy_from_slice).collect();
    let whole = web::split_response(vec![Bytes::copy_from_slice(body)], connect);
    let pieces = web::split_response(chunks, connect);
    match (whole, pieces) {
        (Ok((data, trailers)), Ok((data_again, trailers_again))) => {
            assert_eq!(data, data_again);
            assert_eq!(trailers, trailers_again);
            assert!(body.starts_with(&data), "data passes through unchanged");
        }
        (Err(_), Err(_)) => {}
        (whole, pieces) => panic!("chunking changed the result: {whole:?} vs {pieces:?}"),
    }
    let status = web::connect_error(http::StatusCode::BAD_REQUEST, body);
    assert_ne!(status.code(), rsrpc::Code::Ok);
});
