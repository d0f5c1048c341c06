//! Items that generated code refers to. Not meant for direct use.

pub use futures_core::Stream;
pub use http;
pub use http_body;
pub use tower_service::Service;

pub use crate::boxed::{BoxError, BoxFuture};

/// What code generated with the plugin's `json` option implements for its messages.
#[cfg(feature = "json")]
pub mod json {
    pub use crate::codec::message_descriptor;
    pub use prost_reflect::{MessageDescriptor, ReflectMessage};
}
