//! Per-service settings, and server-wide defaults for them.

use crate::codec::{CodecSettings, Encoding, EncodingSet};

/// Settings of a generated service: message size limits and compression.
///
/// Unset fields fall back to the defaults given to
/// [`Server::with_config`](crate::Server::with_config), then to rsrpc's defaults: 4 MiB
/// received, no send limit beyond framing, no response compression, every implemented
/// encoding accepted.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    max_receive_message_size: Option<usize>,
    max_send_message_size: Option<usize>,
    send_compressed: Option<Encoding>,
    accept_compressed: Option<EncodingSet>,
    /// The method has no side effects: Connect clients may call it with GET.
    no_side_effects: bool,
}

impl ServiceConfig {
    /// Largest request message accepted; larger ones are refused with
    /// `RESOURCE_EXHAUSTED` before they are buffered or decompressed past the limit.
    pub fn max_receive_message_size(mut self, limit: usize) -> Self {
        self.max_receive_message_size = Some(limit);
        self
    }

    /// Largest response message sent; a larger one fails the call with
    /// `RESOURCE_EXHAUSTED`.
    pub fn max_send_message_size(mut self, limit: usize) -> Self {
        self.max_send_message_size = Some(limit);
        self
    }

    /// Compresses responses with `encoding` when the client accepts it.
    pub fn send_compressed(mut self, encoding: Encoding) -> Self {
        self.send_compressed = Some(encoding);
        self
    }

    /// The encodings accepted for requests; a request in another is refused with
    /// `UNIMPLEMENTED` and a `grpc-accept-encoding` header listing these.
    pub fn accept_compressed(mut self, encodings: EncodingSet) -> Self {
        self.accept_compressed = Some(encodings);
        self
    }

    /// Marks the method served with this configuration as free of side effects (its
    /// proto says `option idempotency_level = NO_SIDE_EFFECTS`): Connect clients may
    /// then call it with an HTTP GET, whose response caches can keep. A GET to any other
    /// method is refused with `405 Method Not Allowed`. Generated servers set it for
    /// the methods so marked.
    pub fn no_side_effects(mut self) -> Self {
        self.no_side_effects = true;
        self
    }

    /// Whether the method may be called with GET.
    pub(crate) fn allows_get(&self) -> bool {
        self.no_side_effects
    }

    /// This configuration with its unset fields taken from `defaults`.
    pub fn or(&self, defaults: &ServiceConfig) -> ServiceConfig {
        ServiceConfig {
            max_receive_message_size: self
                .max_receive_message_size
                .or(defaults.max_receive_message_size),
            max_send_message_size: self
                .max_send_message_size
                .or(defaults.max_send_message_size),
            send_compressed: self.send_compressed.or(defaults.send_compressed),
            accept_compressed: self.accept_compressed.or(defaults.accept_compressed),
            no_side_effects: self.no_side_effects,
        }
    }

    /// The settings calls run with.
    pub(crate) fn settings(&self) -> CodecSettings {
        let defaults = CodecSettings::default();
        CodecSettings {
            max_receive_message_size: self
                .max_receive_message_size
                .unwrap_or(defaults.max_receive_message_size),
            max_send_message_size: self
                .max_send_message_size
                .unwrap_or(defaults.max_send_message_size),
            send_compressed: self.send_compressed,
            accept_compressed: self.accept_compressed.unwrap_or(defaults.accept_compressed),
        }
    }
}
