//! Items that generated code refers to. Not meant for direct use.

pub use futures_core::Stream;
pub use http;
pub use http_body;
pub use tower_service::Service;

/// A boxed, sendable error, as used across the hyper ecosystem.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, sendable future.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;
