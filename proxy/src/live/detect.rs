//! Telling protocols apart by their first bytes, and putting bytes read
//! for that back in front of the stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream with bytes already read from it put back in front.
#[derive(Debug)]
pub struct Prefixed<S> {
    pub prefix: BytesMut,
    pub inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a client's first bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    Tls,
    Http,
    Other,
}

/// Classifies a client's first bytes.
pub fn classify(first: &[u8]) -> Opening {
    match first {
        // A TLS handshake record.
        [0x16, ..] => Opening::Tls,
        _ => {
            let word = first.split(|&b| b == b' ').next().unwrap_or_default();
            let spaced = word.len() < first.len();
            let method =
                !word.is_empty() && word.len() <= 16 && word.iter().all(u8::is_ascii_uppercase);
            if method && (spaced || word.len() == first.len()) {
                Opening::Http
            } else {
                Opening::Other
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Opening, classify};

    #[test]
    fn openings() {
        assert_eq!(classify(b"\x16\x03\x01\x02\x00"), Opening::Tls);
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Opening::Http);
        assert_eq!(classify(b"POST"), Opening::Http);
        assert_eq!(classify(b"SSH-2.0-OpenSSH"), Opening::Other);
        assert_eq!(classify(b"\x00\x01"), Opening::Other);
        assert_eq!(classify(b"get / HTTP/1.1"), Opening::Other);
    }
}
