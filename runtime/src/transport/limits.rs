//! What a peer may make a server connection hold, and for how long: the limits and
//! timeouts every accepted connection runs under, with their defaults.

use std::time::Duration;

/// Default for [`ConnectionLimits::header_read_timeout`]: hyper's default.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ConnectionLimits::http1_idle_timeout`].
pub(crate) const DEFAULT_HTTP1_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default for [`ConnectionLimits::max_header_list_size`]: hyper's HTTP/2 default, and its
/// HTTP/1.1 trailer limit.
pub(crate) const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
/// Default for [`ConnectionLimits::http1_max_headers`]: hyper's default.
pub(crate) const DEFAULT_HTTP1_MAX_HEADERS: usize = 100;
/// Default for [`ConnectionLimits::http1_max_chunk_line`].
pub(crate) const DEFAULT_HTTP1_MAX_CHUNK_LINE: usize = 4 * 1024;
/// Default for [`ConnectionLimits::http1_max_buffered_response`].
pub(crate) const DEFAULT_HTTP1_MAX_BUFFERED_RESPONSE: usize = 4 * 1024 * 1024;
/// Default for [`ConnectionLimits::max_concurrent_streams`]: hyper's default.
pub(crate) const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 200;

/// Default for [`ConnectionLimits::http2_keepalive_timeout`]: tonic's and grpc-go's.
pub(crate) const DEFAULT_HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Default for [`PingEnforcement::min_time`]: grpc-go's.
pub(crate) const DEFAULT_HTTP2_KEEPALIVE_MIN_TIME: Duration = Duration::from_secs(5 * 60);

/// grpc-go's keepalive enforcement policy: how often a client may PING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PingEnforcement {
    /// The least time between two PINGs of a client with a stream open.
    pub(crate) min_time: Duration,
    /// Whether a client with no stream open may PING as often too.
    pub(crate) permit_without_stream: bool,
}

impl Default for PingEnforcement {
    fn default() -> PingEnforcement {
        PingEnforcement {
            min_time: DEFAULT_HTTP2_KEEPALIVE_MIN_TIME,
            permit_without_stream: false,
        }
    }
}

/// Limits and timeouts of one server connection, over HTTP/2 or HTTP/1.1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// How long a new connection may take to send the bytes that name its protocol, and
    /// an HTTP/1.1 request its whole head, counted from its first byte.
    pub(crate) header_read_timeout: Duration,
    /// How long an HTTP/1.1 connection may wait for its next request.
    pub(crate) http1_idle_timeout: Duration,
    /// Largest header list (HTTP/2), request head or trailer section (HTTP/1.1), in bytes.
    pub(crate) max_header_list_size: u32,
    /// Most header lines in an HTTP/1.1 request head, and most trailer lines.
    pub(crate) http1_max_headers: usize,
    /// Longest chunk-size line of a chunked HTTP/1.1 body, extensions included.
    pub(crate) http1_max_chunk_line: usize,
    /// Most response bytes buffered for an HTTP/1.1 client that does not accept trailers.
    pub(crate) http1_max_buffered_response: usize,
    /// Most HTTP/2 streams a client may have open at once.
    pub(crate) max_concurrent_streams: u32,
    /// How long an HTTP/2 connection may stay without a stream open before GOAWAY.
    pub(crate) max_connection_idle: Option<Duration>,
    /// How long an HTTP/2 connection may live (±10%) before GOAWAY.
    pub(crate) max_connection_age: Option<Duration>,
    /// How long the streams under way may run on after the age's GOAWAY.
    pub(crate) max_connection_age_grace: Option<Duration>,
    /// How often an HTTP/2 connection is PINGed.
    pub(crate) http2_keepalive_interval: Option<Duration>,
    /// How long a PING may go unanswered before the connection is closed.
    pub(crate) http2_keepalive_timeout: Duration,
    /// How often an HTTP/2 client may PING; `None`: as often as it likes.
    pub(crate) http2_ping_enforcement: Option<PingEnforcement>,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            http1_idle_timeout: DEFAULT_HTTP1_IDLE_TIMEOUT,
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            http1_max_headers: DEFAULT_HTTP1_MAX_HEADERS,
            http1_max_chunk_line: DEFAULT_HTTP1_MAX_CHUNK_LINE,
            http1_max_buffered_response: DEFAULT_HTTP1_MAX_BUFFERED_RESPONSE,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            max_connection_idle: None,
            max_connection_age: None,
            max_connection_age_grace: None,
            http2_keepalive_interval: None,
            http2_keepalive_timeout: DEFAULT_HTTP2_KEEPALIVE_TIMEOUT,
            http2_ping_enforcement: None,
        }
    }
}

impl ConnectionLimits {
    /// The limits an HTTP/1.1 request body is read under.
    pub(crate) fn body(&self) -> BodyLimits {
        BodyLimits {
            max_chunk_line: self.http1_max_chunk_line,
            max_trailers: self.http1_max_headers,
            max_trailer_bytes: self.max_header_list_size as usize,
        }
    }
}

/// The limits of one chunked HTTP/1.1 request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyLimits {
    /// Longest chunk-size line, extensions included, CRLF excluded.
    pub(crate) max_chunk_line: usize,
    /// Most trailer lines.
    pub(crate) max_trailers: usize,
    /// Most bytes in the trailer section, line ends included.
    pub(crate) max_trailer_bytes: usize,
}

impl Default for BodyLimits {
    fn default() -> BodyLimits {
        ConnectionLimits::default().body()
    }
}
