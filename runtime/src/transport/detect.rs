//! Telling HTTP/2 from HTTP/1.1 on a fresh connection, by its first bytes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The connection preface every HTTP/2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks, with the bytes read to find out.
pub(crate) enum Detected {
    /// HTTP/2 with prior knowledge.
    Http2(Bytes),
    /// Anything else is taken for HTTP/1.1.
    Http1(Bytes),
}

/// Reads until the first bytes match the HTTP/2 preface or cannot.
pub(crate) async fn detect<I: AsyncRead + Unpin>(io: &mut I) -> io::Result<Detected> {
    let mut seen = BytesMut::with_capacity(H2_PREFACE.len());
    while seen.len() < H2_PREFACE.len() {
        if !H2_PREFACE.starts_with(&seen) {
            return Ok(Detected::Http1(seen.freeze()));
        }
        let mut byte_buf = [0u8; 24];
        let wanted = H2_PREFACE.len() - seen.len();
        let read = io.read(&mut byte_buf[..wanted]).await?;
        if read == 0 {
            return Ok(Detected::Http1(seen.freeze()));
        }
        seen.extend_from_slice(&byte_buf[..read]);
    }
    if &seen[..] == H2_PREFACE {
        // The bytes are known: replay a static copy and free the read buffer.
        Ok(Detected::Http2(Bytes::from_static(H2_PREFACE)))
    } else {
        Ok(Detected::Http1(seen.freeze()))
    }
}

pin_project_lite::pin_project! {
    /// An I/O object that first replays bytes already read from it.
    pub(crate) struct Rewind<I> {
        prefix: Bytes,
        #[pin]
        io: I,
    }
}

impl<I> Rewind<I> {
    pub(crate) fn new(prefix: Bytes, io: I) -> Rewind<I> {
        Rewind { prefix, io }
    }
}

impl<I: AsyncRead> AsyncRead for Rewind<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if this.prefix.has_remaining() {
            let len = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..len]);
            this.prefix.advance(len);
            return Poll::Ready(Ok(()));
        }
        this.io.poll_read(cx, buf)
    }
}

impl<I: AsyncWrite> AsyncWrite for Rewind<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_preface_means_http2_and_anything_else_http1() {
        let mut h2 = &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nrest"[..];
        assert!(matches!(detect(&mut h2).await.unwrap(), Detected::Http2(_)));
        assert_eq!(h2, b"rest");
        let mut h1 = &b"POST /x HTTP/1.1\r\n"[..];
        match detect(&mut h1).await.unwrap() {
            Detected::Http1(seen) => assert_eq!(&seen[..], b"POST /x HTTP/1.1\r\n"),
            Detected::Http2(_) => panic!("HTTP/1.1 taken for HTTP/2"),
        }
        let mut empty = &b""[..];
        assert!(matches!(
            detect(&mut empty).await.unwrap(),
            Detected::Http1(_)
        ));
    }

    #[tokio::test]
    async fn rewind_replays_the_prefix() {
        let mut io = Rewind::new(Bytes::from_static(b"ab"), &b"cd"[..]);
        let mut all = Vec::new();
        io.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"abcd");
    }
}
