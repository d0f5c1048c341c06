//! The HTTP/1.1 request head parser, with the default limits.
//!
//! Input: a head (or anything). Checks: no panic; a complete head's length lies within
//! the input and the size limit; a refusal is one of the statuses the server answers with;
//! the verdict does not change when the bytes arrive one at a time (a head judged
//! complete early stays complete at the same length).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rsrpc::fuzzing::http1::parse_head;

const REFUSALS: [u16; 3] = [400, 431, 505];

fuzz_target!(|input: &[u8]| {
    let whole = parse_head(input);
    match whole {
        Ok(Some(len)) => assert!(len <= input.len() && len <= 16 * 1024),
        Ok(None) => {}
        Err(status) => assert!(REFUSALS.contains(&status), "{status}"),
    }
    // As the server sees it: parsed again as bytes arrive, stopping at the first verdict.
    for end in 0..=input.len() {
        match parse_head(&input[..end]) {
            Ok(None) => continue,
            Ok(Some(len)) => {
                assert_eq!(whole, Ok(Some(len)), "complete at {end} bytes");
                return;
            }
            Err(_) => return,
        }
    }
});
