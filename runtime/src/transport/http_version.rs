//! [`HttpVersion`]: which HTTP a channel speaks.

/// The HTTP version a [`Channel`](crate::Channel) speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/2: calls multiplexed on one connection.
    #[default]
    Http2,
    /// HTTP/1.1, the way Armeria carries gRPC: one call per connection at a time, chunked
    /// bodies, the status in trailers.
    Http1,
}
