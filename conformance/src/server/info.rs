//! What the server echoes about a request: its headers, its timeout and the request
//! messages, as a `RequestInfo`.

use prost_types::Any;
use rsrpc::Request;
use tokio::time::Instant;

use crate::headers;
use crate::proto::Header;
use crate::proto::conformance_payload::RequestInfo;

/// What the head of a call showed, captured when the handler starts: the timeout is the
/// time left then.
#[derive(Debug, Clone)]
pub struct Observed {
    headers: Vec<Header>,
    timeout_ms: Option<i64>,
}

impl Observed {
    /// The custom headers and the time left until the deadline of `request`.
    pub fn of<T>(request: &Request<T>) -> Observed {
        let timeout_ms = request.deadline().map(|deadline| {
            let left = deadline.saturating_duration_since(Instant::now());
            i64::try_from(left.as_millis()).unwrap_or(i64::MAX)
        });
        Observed {
            headers: headers::from_metadata(request.metadata()),
            timeout_ms,
        }
    }

    /// Everything known of the call, with `requests`, the request messages to echo.
    pub fn info(&self, requests: Vec<Any>) -> RequestInfo {
        RequestInfo {
            request_headers: self.headers.clone(),
            timeout_ms: self.timeout_ms,
            requests,
            connect_get_info: None,
        }
    }
}

/// The request messages alone: what the later responses of a full-duplex stream echo.
pub fn requests_only(requests: Vec<Any>) -> RequestInfo {
    RequestInfo {
        requests,
        ..RequestInfo::default()
    }
}
