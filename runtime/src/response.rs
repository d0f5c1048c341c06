//! [`Response`]: a message (or stream) with its initial and trailing metadata.

use std::sync::{Arc, Mutex};

use crate::codec::{CompressionChoice, CompressionSwitch, Encoding};
use crate::metadata::MetadataMap;

/// A gRPC response: the message (or, for server-streaming calls, the stream), the initial
/// metadata sent as headers, and the trailing metadata sent after the last message.
#[derive(Debug)]
pub struct Response<T> {
    metadata: MetadataMap,
    message: T,
    trailers: MetadataMap,
    extensions: http::Extensions,
    compression: CompressionChoice,
    late_trailers: Option<LateTrailers>,
}

/// Trailing metadata a streaming handler decides while its stream runs: whatever it
/// holds when the stream ends is sent with the status. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LateTrailers {
    map: Arc<Mutex<MetadataMap>>,
}

impl LateTrailers {
    /// Changes the trailing metadata.
    pub fn update<R>(&self, change: impl FnOnce(&mut MetadataMap) -> R) -> R {
        // A panic while updating leaves at worst a partial map, still worth sending.
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut map)
    }

    /// Takes what has been set so far.
    pub(crate) fn take(&self) -> MetadataMap {
        self.update(std::mem::take)
    }
}

impl<T> Response<T> {
    /// A response with no metadata.
    pub fn new(message: T) -> Response<T> {
        Response {
            metadata: MetadataMap::new(),
            message,
            trailers: MetadataMap::new(),
            extensions: http::Extensions::new(),
            compression: CompressionChoice::default(),
            late_trailers: None,
        }
    }

    pub(crate) fn from_parts(
        metadata: MetadataMap,
        message: T,
        trailers: MetadataMap,
        extensions: http::Extensions,
    ) -> Response<T> {
        Response {
            metadata,
            message,
            trailers,
            extensions,
            compression: CompressionChoice::default(),
            late_trailers: None,
        }
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// Takes the message, dropping metadata.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// Initial metadata (response headers).
    pub fn metadata(&self) -> &MetadataMap {
        &self.metadata
    }

    /// Initial metadata, mutably.
    pub fn metadata_mut(&mut self) -> &mut MetadataMap {
        &mut self.metadata
    }

    /// Trailing metadata, sent with the status after the last message. On the client,
    /// filled for unary and client-streaming calls; streams expose theirs through
    /// [`Streaming::trailers`](crate::Streaming::trailers).
    pub fn trailers(&self) -> &MetadataMap {
        &self.trailers
    }

    /// Trailing metadata, mutably.
    pub fn trailers_mut(&mut self) -> &mut MetadataMap {
        &mut self.trailers
    }

    /// A handle for trailing metadata decided later, while the response stream runs (or,
    /// on a unary response, before it is returned). Entries reach the client with the
    /// status, over HTTP/2 and HTTP/1.1 alike.
    pub fn late_trailers(&mut self) -> LateTrailers {
        self.late_trailers
            .get_or_insert_with(LateTrailers::default)
            .clone()
    }

    /// Takes the late-trailers handle, if one was made.
    pub(crate) fn take_late_trailers(&mut self) -> Option<LateTrailers> {
        self.late_trailers.take()
    }

    /// Extensions: per-response values for middleware.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Extensions, mutably.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }

    /// Chooses the compression of this response's messages, overriding the service's:
    /// `Some(encoding)` compresses (if the client accepts it), `None` sends them
    /// uncompressed.
    pub fn set_compression(&mut self, encoding: Option<Encoding>) {
        self.compression.encoding = Some(encoding);
    }

    /// A switch that turns compression on and off between the messages of this response's
    /// stream, when the call compresses.
    pub fn compression_switch(&mut self) -> CompressionSwitch {
        self.compression.switch()
    }

    /// The compression chosen with [`set_compression`](Self::set_compression) and
    /// [`compression_switch`](Self::compression_switch).
    pub(crate) fn compression(&self) -> CompressionChoice {
        self.compression.clone()
    }

    /// Splits into initial metadata, message, trailing metadata and extensions.
    pub(crate) fn into_parts(self) -> (MetadataMap, T, MetadataMap, http::Extensions) {
        (self.metadata, self.message, self.trailers, self.extensions)
    }

    /// Replaces the message, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            metadata: self.metadata,
            message: f(self.message),
            trailers: self.trailers,
            extensions: self.extensions,
            compression: self.compression,
            late_trailers: self.late_trailers,
        }
    }
}
