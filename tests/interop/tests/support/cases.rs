//! The interop test cases of the matrix, and which of them each peer's client or server
//! cannot take part in, with the reasons (checked against grpc-go v1.85.0's
//! `interop/client/client.go` and `interop/test_utils.go`, against the Armeria peer in
//! `tests/interop/armeria`, and by running the cases).

/// Every case the matrix covers: all that rsrpc's interop client runs. rsrpc and the
/// Python peer run all of them.
pub use interop::client::CASES as ALL;

/// Cases grpc-go's interop client cannot run, with the reason.
pub const GRPC_GO_CLIENT_EXCLUDED: [(&str, &str); 4] =
    compression_cases(NO_GO_CLIENT_CASE, NO_GO_CLIENT_CASE);

const NO_GO_CLIENT_CASE: &str = "grpc-go's interop client has no such --test_case";

/// Cases grpc-go's interop server cannot serve, with the reason.
pub const GRPC_GO_SERVER_EXCLUDED: [(&str, &str); 4] =
    compression_cases(GO_IGNORES_EXPECT_COMPRESSED, GO_IGNORES_RESPONSE_COMPRESSED);

const GO_IGNORES_EXPECT_COMPRESSED: &str = "grpc-go's test server ignores expect_compressed, \
     so the case's uncompressed probe is not rejected with INVALID_ARGUMENT; the server \
     binary does not register gzip either";

const GO_IGNORES_RESPONSE_COMPRESSED: &str = "grpc-go's test server ignores \
     response_compressed and never compresses a response, which rsrpc's client checks";

/// Cases the Armeria peer's interop client does not implement, with the reason.
pub const ARMERIA_CLIENT_EXCLUDED: [(&str, &str); 4] =
    compression_cases(NO_ARMERIA_CLIENT_CASE, NO_ARMERIA_CLIENT_CASE);

const NO_ARMERIA_CLIENT_CASE: &str =
    "the Armeria peer's interop client implements no compression case";

/// Cases the Armeria peer's server cannot serve, with the reason.
pub const ARMERIA_SERVER_EXCLUDED: [(&str, &str); 4] = compression_cases(
    ARMERIA_IGNORES_EXPECT_COMPRESSED,
    ARMERIA_IGNORES_RESPONSE_COMPRESSED,
);

const ARMERIA_IGNORES_EXPECT_COMPRESSED: &str = "the Armeria peer's test service ignores \
     expect_compressed, so the case's uncompressed probe is answered OK, not \
     INVALID_ARGUMENT";

const ARMERIA_IGNORES_RESPONSE_COMPRESSED: &str = "the Armeria peer's test service ignores \
     response_compressed and answers every call with grpc-encoding: identity, which \
     rsrpc's client checks";

/// The four compression cases: the two `client_compressed_*` ones excluded for
/// `client_reason`, the two `server_compressed_*` ones for `server_reason`.
const fn compression_cases(
    client_reason: &'static str,
    server_reason: &'static str,
) -> [(&'static str, &'static str); 4] {
    [
        ("client_compressed_unary", client_reason),
        ("server_compressed_unary", server_reason),
        ("client_compressed_streaming", client_reason),
        ("server_compressed_streaming", server_reason),
    ]
}

/// [`ALL`] less the `excluded` cases, in order. Panics if an excluded case is not in
/// [`ALL`], so that an exclusion list cannot go stale.
pub fn all_except(excluded: &[(&str, &str)]) -> Vec<&'static str> {
    if let Some((unknown, _)) = excluded.iter().find(|(name, _)| !ALL.contains(name)) {
        panic!("the excluded case {unknown:?} is not an interop client case");
    }
    ALL.iter()
        .copied()
        .filter(|case| !excluded.iter().any(|(name, _)| name == case))
        .collect()
}
