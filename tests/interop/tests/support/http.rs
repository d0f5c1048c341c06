//! The HTTP version a cell's client speaks, chosen with the `--transport` flag of
//! rsrpc's and Armeria's interop clients (grpc-go's and Python's speak only HTTP/2 and
//! have no such flag).

use std::ffi::OsString;

use super::process::flag;

/// HTTP/2 or HTTP/1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http {
    /// HTTP/2 (`--transport=h2`).
    H2,
    /// HTTP/1.1: chunked bodies, the gRPC status in trailers (`--transport=h1`).
    H1,
}

impl Http {
    /// "h2" or "h1": the flag's value, and the cell names' label.
    pub fn label(self) -> &'static str {
        match self {
            Http::H2 => "h2",
            Http::H1 => "h1",
        }
    }

    /// `--transport=h2` or `--transport=h1`, for a client.
    pub fn client_arg(self) -> OsString {
        flag("--transport", self.label())
    }
}
