//! Items that generated code refers to. Not meant for direct use.

pub use futures_core::Stream;
pub use http;
pub use http_body;
pub use tower_service::Service;

pub use crate::boxed::{BoxError, BoxFuture};
