//! Why registered descriptors were refused.

use std::fmt;

/// Why registered descriptors were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub(super) fn new(message: String) -> Error {
        Error { message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid reflection descriptors: {}", self.message)
    }
}

impl std::error::Error for Error {}
