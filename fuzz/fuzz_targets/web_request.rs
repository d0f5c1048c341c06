//! What a server reads of a gRPC-Web or Connect request before its call: the protocol
//! told from the method and content type, a Connect GET's query, `connect-timeout-ms`,
//! and a `grpc-web-text` body.
//!
//! Input: byte 0 picks the method (even: POST, odd: GET) and where the rest is cut into
//! body chunks (its value, plus one, as chunk length); the rest is, at once, a
//! content-type value, a query string, a timeout value and a base64 body.
//!
//! Checks: no panic; the body decodes the same whatever its chunks, and equals a
//! one-piece decode of its base64 groups; a query written for a message reads back the
//! same message, format and compression.

#![no_main]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use rsrpc::codec::Format;
use rsrpc::fuzzing::web;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let method = if control % 2 == 0 { Method::POST } else { Method::GET };
    if let Ok(value) = HeaderValue::from_bytes(rest) {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", value.clone());
        let _ = web::detect(&method, &headers);
        let _ = web::parse_connect_timeout(&value);
    }
    let text = String::from_utf8_lossy(rest);
    let _ = web::read_connect_query(&text);

    let chunk = usize::from(control) + 1;
    let chunks: Vec<Bytes> = rest.chunks(chunk).map(Bytes::copy_from_slice).collect();
    let whole = web::decode_text_body(vec![Bytes::copy_from_slice(rest)]);
    let pieces = web::decode_text_body(chunks);
    assert_eq!(whole.is_ok(), pieces.is_ok(), "chunking changes nothing");
    if let (Ok(whole), Ok(pieces)) = (whole, pieces) {
        assert_eq!(whole, pieces);
    }

    for format in [Format::Proto, Format::Json] {
        for compression in [None, Some("gzip")] {
            let query = web::write_connect_query(format, compression, rest);
            let (read_format, read_compression, message) =
                web::read_connect_query(&query).expect("a written query reads back");
            assert_eq!(read_format, Some(format));
            assert_eq!(read_compression.as_deref(), compression);
            assert_eq!(message, rest);
        }
    }
});
