//! The interop test cases of the matrix, and which of them each grpc-go program can
//! take part in (checked against grpc-go v1.85.0's `interop/client/client.go` and
//! `interop/test_utils.go`).

/// Every case the matrix covers: all that rsrpc's interop client runs. rsrpc and the
/// Python peer run all of them.
pub use interop::client::CASES as ALL;

/// Cases grpc-go's interop client cannot run, with the reason.
pub const GRPC_GO_CLIENT_EXCLUDED: [(&str, &str); 4] = [
    ("client_compressed_unary", NO_GO_CLIENT_CASE),
    ("server_compressed_unary", NO_GO_CLIENT_CASE),
    ("client_compressed_streaming", NO_GO_CLIENT_CASE),
    ("server_compressed_streaming", NO_GO_CLIENT_CASE),
];

const NO_GO_CLIENT_CASE: &str = "grpc-go's interop client has no such --test_case";

/// Cases grpc-go's interop server cannot serve, with the reason.
pub const GRPC_GO_SERVER_EXCLUDED: [(&str, &str); 4] = [
    ("client_compressed_unary", GO_IGNORES_EXPECT_COMPRESSED),
    ("client_compressed_streaming", GO_IGNORES_EXPECT_COMPRESSED),
    ("server_compressed_unary", GO_IGNORES_RESPONSE_COMPRESSED),
    (
        "server_compressed_streaming",
        GO_IGNORES_RESPONSE_COMPRESSED,
    ),
];

const GO_IGNORES_EXPECT_COMPRESSED: &str = "grpc-go's test server ignores expect_compressed, \
     so the case's uncompressed probe is not rejected with INVALID_ARGUMENT; the server \
     binary does not register gzip either";

const GO_IGNORES_RESPONSE_COMPRESSED: &str = "grpc-go's test server ignores \
     response_compressed and never compresses a response";

/// [`ALL`] less the `excluded` cases, in order.
pub fn all_except(excluded: &[(&str, &str)]) -> Vec<&'static str> {
    ALL.iter()
        .copied()
        .filter(|case| !excluded.iter().any(|(name, _)| name == case))
        .collect()
}
