//! Reading HTTP/1 messages off a socket: buffered heads and bodies, framed
//! by the codec in `h1`.

use std::fmt;
use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::h1::{BodyKind, ChunkedDecoder, Head, HeadError, Parsed};

/// A boxed read half: any transport (TCP, TLS) behind one type, which can
/// be taken back out as what it was (`into_any`) to turn into a tunnel.
pub type BoxRead = Box<dyn ReadIo>;
/// A boxed write half.
pub type BoxWrite = Box<dyn WriteIo>;

/// A read half the proxy can box.
pub trait ReadIo: AsyncRead + Send + Sync + Unpin + 'static {
    /// The concrete half, for a downcast.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send>;
}

impl<T: AsyncRead + Send + Sync + Unpin + 'static> ReadIo for T {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

/// A write half the proxy can box.
pub trait WriteIo: AsyncWrite + Send + Sync + Unpin + 'static {
    /// The concrete half, for a downcast.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send>;
}

impl<T: AsyncWrite + Send + Sync + Unpin + 'static> WriteIo for T {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

/// The longest head accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// Why a message could not be read.
#[derive(Debug)]
pub enum WireError {
    /// The socket failed.
    Io(io::Error),
    /// The peer closed in the middle of a message.
    Closed,
    /// The head is not HTTP/1.
    Head(HeadError),
    /// The body's framing is wrong (bad chunk, bad length).
    Framing(String),
    /// The body is larger than the limit.
    TooLarge(u64),
    /// A head was started but not finished in time (slowloris).
    HeadTimeout(std::time::Duration),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(e) => write!(f, "{e}"),
            WireError::Closed => write!(f, "the connection closed in the middle of a message"),
            WireError::Head(e) => e.fmt(f),
            WireError::Framing(e) => write!(f, "invalid body framing: {e}"),
            WireError::HeadTimeout(limit) => write!(
                f,
                "the head did not arrive within header_timeout ({}s)",
                limit.as_secs()
            ),
            WireError::TooLarge(limit) => {
                write!(f, "the body is larger than body_size_limit ({limit} bytes)")
            }
        }
    }
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> WireError {
        WireError::Io(e)
    }
}

/// A socket's read half with its buffer.
#[derive(Debug)]
pub struct Reader<R> {
    io: R,
    buf: BytesMut,
    /// How long a body read may wait for bytes before failing.
    idle: Option<std::time::Duration>,
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// Wraps a read half.
    pub fn new(io: R) -> Reader<R> {
        Reader {
            io,
            buf: BytesMut::new(),
            idle: None,
        }
    }

    /// Bodies fail when no byte arrives for `idle` (a stalled peer).
    pub fn set_idle(&mut self, idle: std::time::Duration) {
        self.idle = Some(idle);
    }

    /// `fill` for bodies: bounded by the idle limit.
    async fn fill_body(&mut self) -> io::Result<usize> {
        let Some(idle) = self.idle else {
            return self.fill().await;
        };
        match tokio::time::timeout(idle, self.fill()).await {
            Ok(n) => n,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no data for {}s", idle.as_secs()),
            )),
        }
    }

    /// Like [`head`](Reader::head), but once the head's first byte is in,
    /// the rest must follow within `limit`; an idle connection waits as
    /// long as it likes.
    pub async fn head_within(
        &mut self,
        parse: fn(&Bytes) -> Parsed,
        limit: std::time::Duration,
    ) -> Result<Option<Head>, WireError> {
        if self.buf.is_empty() && self.fill().await? == 0 {
            return Ok(None);
        }
        match tokio::time::timeout(limit, self.head(parse)).await {
            Ok(head) => head,
            Err(_) => Err(WireError::HeadTimeout(limit)),
        }
    }

    /// The first `n` buffered bytes, taken out. Small ones are copied, so
    /// that the read buffer stays unshared and is reused in place for the
    /// next message instead of being pinned by this one's flow; large ones
    /// are split off without a copy.
    fn take(&mut self, n: usize) -> Bytes {
        if n <= 64 * 1024 {
            let bytes = Bytes::copy_from_slice(&self.buf[..n]);
            self.buf.advance(n);
            bytes
        } else {
            self.buf.split_to(n).freeze()
        }
    }

    /// The transport and the bytes read from it but not consumed.
    pub fn into_parts(self) -> (R, BytesMut) {
        (self.io, self.buf)
    }

    /// Whether bytes of a next message are already buffered.
    pub fn has_buffered(&self) -> bool {
        !self.buf.is_empty()
    }

    async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            // A connection that has sent nothing yet holds no buffer: an
            // idle client costs only its socket and task.
            let mut first = [0u8; 4096];
            let n = self.io.read(&mut first).await?;
            self.buf.extend_from_slice(&first[..n]);
            return Ok(n);
        }
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        self.io.read_buf(&mut self.buf).await
    }

    /// Reads a head; `Ok(None)` when the peer closed before sending any
    /// byte of one (the end of a keep-alive connection).
    pub async fn head(&mut self, parse: fn(&Bytes) -> Parsed) -> Result<Option<Head>, WireError> {
        let mut searched: usize = 0;
        loop {
            let from = searched.saturating_sub(3);
            if let Some(end) = head_end(&self.buf[from..]).map(|e| e + from) {
                let bytes = self.take(end);
                return match parse(&bytes).map_err(WireError::Head)? {
                    Some((head, _)) => Ok(Some(head)),
                    None => Err(WireError::Head(HeadError::Malformed(
                        "incomplete head".into(),
                    ))),
                };
            }
            searched = self.buf.len();
            if self.buf.len() > MAX_HEAD {
                return Err(WireError::Head(HeadError::TooLarge));
            }
            // Fail early on bytes that cannot start a head.
            if !self.buf.is_empty()
                && let Err(e) = parse(&Bytes::copy_from_slice(&self.buf))
            {
                return Err(WireError::Head(e));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(WireError::Closed)
                };
            }
        }
    }

    /// Reads a body framed as `kind`, up to `limit` bytes; returns it and
    /// any trailers.
    pub async fn body(
        &mut self,
        kind: BodyKind,
        limit: Option<u64>,
    ) -> Result<(Bytes, Vec<(Bytes, Bytes)>), WireError> {
        let over = |n: u64| limit.is_some_and(|l| n > l);
        match kind {
            BodyKind::None => Ok((Bytes::new(), Vec::new())),
            BodyKind::Length(n) => {
                if over(n) {
                    return Err(WireError::TooLarge(limit.unwrap_or_default()));
                }
                let n = n as usize;
                while self.buf.len() < n {
                    if self.fill_body().await? == 0 {
                        return Err(WireError::Closed);
                    }
                }
                Ok((self.take(n), Vec::new()))
            }
            BodyKind::Chunked => {
                let mut decoder = ChunkedDecoder::default();
                let mut out = Vec::new();
                loop {
                    if decoder
                        .decode(&mut self.buf, &mut out)
                        .map_err(WireError::Framing)?
                    {
                        return Ok((Bytes::from(out), decoder.trailers().to_vec()));
                    }
                    if over(out.len() as u64) {
                        return Err(WireError::TooLarge(limit.unwrap_or_default()));
                    }
                    if self.fill_body().await? == 0 {
                        return Err(WireError::Closed);
                    }
                }
            }
            BodyKind::Close => {
                while self.fill_body().await? != 0 {
                    if over(self.buf.len() as u64) {
                        return Err(WireError::TooLarge(limit.unwrap_or_default()));
                    }
                }
                Ok((self.buf.split().freeze(), Vec::new()))
            }
        }
    }
}

/// Why passing a body through stopped.
#[derive(Debug)]
pub enum PumpError {
    /// The side being read failed or broke the framing.
    Read(WireError),
    /// The side being written to went away.
    Write(io::Error),
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// Passes a body framed as `kind` to `out` as it arrives, without
    /// keeping it: length-framed bytes as they are, chunked bodies as
    /// chunks again (trailers included), close-delimited until the end.
    /// Returns how many body bytes passed.
    pub async fn pump<W: AsyncWrite + Unpin>(
        &mut self,
        kind: BodyKind,
        out: &mut W,
    ) -> Result<u64, PumpError> {
        let mut passed = 0u64;
        match kind {
            BodyKind::None => {}
            BodyKind::Length(n) => {
                while passed < n {
                    if self.buf.is_empty()
                        && self
                            .fill_body()
                            .await
                            .map_err(|e| PumpError::Read(e.into()))?
                            == 0
                    {
                        return Err(PumpError::Read(WireError::Closed));
                    }
                    let take = (n - passed).min(self.buf.len() as u64) as usize;
                    out.write_all(&self.buf[..take])
                        .await
                        .map_err(PumpError::Write)?;
                    self.buf.advance(take);
                    passed += take as u64;
                }
            }
            BodyKind::Chunked => {
                let mut decoder = ChunkedDecoder::default();
                let mut piece = Vec::new();
                loop {
                    let done = decoder
                        .decode(&mut self.buf, &mut piece)
                        .map_err(|e| PumpError::Read(WireError::Framing(e)))?;
                    if !piece.is_empty() {
                        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
                        chunk.append(&mut piece);
                        chunk.extend_from_slice(b"\r\n");
                        passed += (chunk.len() - 4) as u64;
                        out.write_all(&chunk).await.map_err(PumpError::Write)?;
                    }
                    if done {
                        let mut end = b"0\r\n".to_vec();
                        for (name, value) in decoder.trailers() {
                            end.extend_from_slice(name);
                            end.extend_from_slice(b": ");
                            end.extend_from_slice(value);
                            end.extend_from_slice(b"\r\n");
                        }
                        end.extend_from_slice(b"\r\n");
                        out.write_all(&end).await.map_err(PumpError::Write)?;
                        break;
                    }
                    if self
                        .fill_body()
                        .await
                        .map_err(|e| PumpError::Read(e.into()))?
                        == 0
                    {
                        return Err(PumpError::Read(WireError::Closed));
                    }
                }
            }
            BodyKind::Close => loop {
                if !self.buf.is_empty() {
                    let n = self.buf.len();
                    out.write_all(&self.buf.split())
                        .await
                        .map_err(PumpError::Write)?;
                    passed += n as u64;
                }
                if self
                    .fill_body()
                    .await
                    .map_err(|e| PumpError::Read(e.into()))?
                    == 0
                {
                    break;
                }
            },
        }
        out.flush().await.map_err(PumpError::Write)?;
        Ok(passed)
    }
}
