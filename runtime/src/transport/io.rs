//! The byte streams connections run on.

use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream a connection runs on: TCP or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A connection's byte stream, boxed so that both transports take one type.
pub(crate) type BoxedIo = Box<dyn Io>;
