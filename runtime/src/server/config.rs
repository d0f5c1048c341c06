//! Per-service settings.

use crate::codec::{DEFAULT_MAX_RECEIVE_SIZE, DEFAULT_MAX_SEND_SIZE};

/// Settings of one generated service: message size limits.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub(crate) max_receive_message_size: usize,
    pub(crate) max_send_message_size: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            max_receive_message_size: DEFAULT_MAX_RECEIVE_SIZE,
            max_send_message_size: DEFAULT_MAX_SEND_SIZE,
        }
    }
}

impl ServiceConfig {
    /// Largest request message accepted (default 4 MiB); larger ones are refused with
    /// `RESOURCE_EXHAUSTED` before they are buffered.
    pub fn max_receive_message_size(mut self, limit: usize) -> Self {
        self.max_receive_message_size = limit;
        self
    }

    /// Largest response message sent (default: no limit beyond the 4 GiB framing limit);
    /// a larger one fails the call with `RESOURCE_EXHAUSTED`.
    pub fn max_send_message_size(mut self, limit: usize) -> Self {
        self.max_send_message_size = limit;
        self
    }
}
