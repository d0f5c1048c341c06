//! Transport failures as call statuses: h2 resets and GOAWAYs, hyper errors, and the
//! errors of any body a call reads.

use crate::boxed::BoxError;
use crate::status::{Code, Status};
use crate::transport::body::Body;

/// A request that failed before its response head arrived.
#[derive(Debug)]
pub(crate) struct SendError {
    /// What the call fails with if it is not sent again.
    pub(crate) status: Status,
    /// Whether the server certainly did not process the request, so that sending it
    /// again cannot run it twice.
    pub(crate) unprocessed: bool,
    /// The request itself, when it failed before any of it was taken.
    pub(crate) request: Option<http::Request<Body>>,
}

impl SendError {
    /// A failure before the request reached the server: it comes back whole.
    pub(crate) fn unsent(status: Status, request: http::Request<Body>) -> SendError {
        SendError {
            status,
            unprocessed: true,
            request: Some(request),
        }
    }
}

/// A failure before any connection took the request.
impl From<Status> for SendError {
    fn from(status: Status) -> SendError {
        SendError {
            status,
            unprocessed: false,
            request: None,
        }
    }
}

/// Whether an h2 error on a request's stream means the server never processed it:
/// `REFUSED_STREAM`, or a graceful GOAWAY whose last stream id is below the stream's
/// (RFC 9113, section 8.7). Other GOAWAYs do not say which streams were processed.
pub(crate) fn is_unprocessed_h2(error: &h2::Error) -> bool {
    error.is_remote()
        && match error.reason() {
            Some(h2::Reason::REFUSED_STREAM) => error.is_reset(),
            Some(h2::Reason::NO_ERROR) => error.is_go_away(),
            _ => false,
        }
}

/// Maps an HTTP/2 `RST_STREAM` / `GOAWAY` reason to a gRPC code, as the gRPC spec's
/// "Errors" section lists them.
pub(crate) fn code_from_h2_reason(reason: h2::Reason) -> Code {
    match reason {
        h2::Reason::CANCEL => Code::Cancelled,
        h2::Reason::REFUSED_STREAM => Code::Unavailable,
        h2::Reason::ENHANCE_YOUR_CALM => Code::ResourceExhausted,
        h2::Reason::INADEQUATE_SECURITY => Code::PermissionDenied,
        _ => Code::Internal,
    }
}

/// The status of a call whose stream the peer reset (or whose connection it closed).
fn status_from_reset(reason: h2::Reason) -> Status {
    Status::new(
        code_from_h2_reason(reason),
        format!("stream reset by peer: {reason}"),
    )
}

/// Converts an h2 error into a status.
pub(crate) fn status_from_h2(error: h2::Error) -> Status {
    if error.is_go_away() && error.reason() == Some(h2::Reason::NO_ERROR) {
        // A graceful GOAWAY only fails streams the server will not process.
        return Status::unavailable(
            "the server is going away (GOAWAY) and did not process the call",
        );
    }
    match error.reason() {
        Some(reason) => status_from_reset(reason),
        None => Status::unavailable(format!("transport error: {error}")),
    }
}

/// Converts a hyper error into a status.
pub(crate) fn status_from_hyper(error: &hyper::Error) -> Status {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(reason) = cause
            .downcast_ref::<h2::Error>()
            .and_then(h2::Error::reason)
        {
            return status_from_reset(reason);
        }
        if let Some(status) = cause.downcast_ref::<Status>() {
            return status.clone();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return Status::deadline_exceeded(error.to_string());
    }
    Status::unavailable(format!("transport error: {error}"))
}

/// Maps the error of a body being read to a status: the status itself when the body
/// failed with one, else what its h2 or hyper error means.
pub(crate) fn status_from_body_error(error: BoxError) -> Status {
    match error.downcast::<Status>() {
        Ok(status) => *status,
        Err(error) => match error.downcast::<hyper::Error>() {
            Ok(error) => status_from_hyper(&error),
            Err(error) => match error.downcast::<h2::Error>() {
                Ok(error) => status_from_h2(*error),
                Err(error) => Status::internal(format!("error reading the body: {error}")),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_reasons_map_to_grpc_codes() {
        assert_eq!(code_from_h2_reason(h2::Reason::CANCEL), Code::Cancelled);
        assert_eq!(
            code_from_h2_reason(h2::Reason::REFUSED_STREAM),
            Code::Unavailable
        );
        assert_eq!(
            code_from_h2_reason(h2::Reason::ENHANCE_YOUR_CALM),
            Code::ResourceExhausted
        );
        assert_eq!(
            code_from_h2_reason(h2::Reason::PROTOCOL_ERROR),
            Code::Internal
        );
    }

    #[test]
    fn body_errors_keep_their_status() {
        let status = status_from_body_error(Box::new(Status::resource_exhausted("big")));
        assert_eq!(status.code(), Code::ResourceExhausted);
        let other = status_from_body_error("boom".into());
        assert_eq!(other.code(), Code::Internal);
    }
}
