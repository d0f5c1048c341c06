//! The boxed error and future types that every layer passes around.

/// A boxed, sendable error, as used across the hyper ecosystem.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, sendable future.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;
