//! Errors from setting up transports: binding, connecting, serving.

use std::fmt;

use crate::boxed::BoxError;

/// A transport-level failure: a server that cannot bind or serve, a channel that cannot
/// connect. Failures of individual calls are [`Status`](crate::Status) values instead.
#[derive(Debug)]
pub struct Error {
    context: &'static str,
    source: BoxError,
}

impl Error {
    pub(crate) fn new(context: &'static str, source: impl Into<BoxError>) -> Error {
        Error {
            context,
            source: source.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
