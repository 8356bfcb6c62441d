//! Reading HTTP/1 messages off a socket: buffered heads and bodies, framed
//! by the codec in `h1`.

use std::fmt;
use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::h1::{BodyKind, ChunkedDecoder, Head, HeadError, Parsed};

/// Any transport (TCP, TLS, a test's duplex) behind one type: read and
/// write on the same object, so a layer hands the whole connection on.
pub type BoxIo = Box<dyn Io>;

/// A transport the proxy can box.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

impl fmt::Debug for dyn Io {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Io")
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
    Framing(crate::h1::FramingError),
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

    /// The transport, for writing.
    pub fn io(&mut self) -> &mut R {
        &mut self.io
    }

    /// The bytes read but not consumed.
    pub fn buffered(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Reads more bytes into the buffer; 0 at the end of the stream.
    pub async fn read_more(&mut self) -> io::Result<usize> {
        self.fill().await
    }

    /// Gives back the buffer's memory while nothing is buffered: an idle
    /// connection holds no read buffer.
    pub fn release_idle(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            self.buf = BytesMut::new();
        }
    }

    /// Whether bytes of a next message are already buffered.
    pub fn has_buffered(&self) -> bool {
        !self.buf.is_empty()
    }

    async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            // A connection that has sent nothing yet holds no buffer: an
            // idle client costs only its socket and task. The first bytes
            // land in a buffer on the stack of one poll, never in the
            // task's state, which would hold it for the connection's life.
            return std::future::poll_fn(|cx| {
                let mut first = [0u8; 4096];
                let mut read = tokio::io::ReadBuf::new(&mut first);
                std::task::ready!(std::pin::Pin::new(&mut self.io).poll_read(cx, &mut read))?;
                self.buf.extend_from_slice(read.filled());
                std::task::Poll::Ready(Ok(read.filled().len()))
            })
            .await;
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

/// Where reading a body stands, between pieces.
#[derive(Debug)]
pub enum BodyState {
    /// This many bytes are still to come.
    Length(u64),
    /// Chunks until the last one.
    Chunked(ChunkedDecoder),
    /// The last chunk was read; its trailers are still to be handed out.
    Trailers(Vec<(Bytes, Bytes)>),
    /// Everything until the peer closes.
    Close,
    /// The body is over.
    Done,
}

impl BodyState {
    /// The start of a body framed as `kind`.
    pub fn new(kind: BodyKind) -> BodyState {
        match kind {
            BodyKind::None => BodyState::Done,
            BodyKind::Length(n) => BodyState::Length(n),
            BodyKind::Chunked => BodyState::Chunked(ChunkedDecoder::default()),
            BodyKind::Close => BodyState::Close,
        }
    }
}

/// A piece of a body as it arrives.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// Body bytes, framing removed.
    Data(Bytes),
    /// The fields after a chunked body (or HTTP/2 trailers).
    Trailers(Vec<(Bytes, Bytes)>),
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// The next piece of a body, as soon as bytes of it are in; `None` at
    /// its end. Nothing is kept: a streamed body costs one read buffer.
    pub async fn piece(&mut self, state: &mut BodyState) -> Result<Option<Piece>, WireError> {
        loop {
            match state {
                BodyState::Done | BodyState::Length(0) => {
                    *state = BodyState::Done;
                    return Ok(None);
                }
                BodyState::Length(left) => {
                    if self.buf.is_empty() && self.fill_body().await? == 0 {
                        return Err(WireError::Closed);
                    }
                    let take = (*left).min(self.buf.len() as u64);
                    *left -= take;
                    return Ok(Some(Piece::Data(self.buf.split_to(take as usize).freeze())));
                }
                BodyState::Chunked(decoder) => {
                    let mut out = Vec::new();
                    let done = decoder
                        .decode(&mut self.buf, &mut out)
                        .map_err(WireError::Framing)?;
                    if done {
                        let trailers = decoder.trailers().to_vec();
                        *state = if trailers.is_empty() {
                            BodyState::Done
                        } else {
                            BodyState::Trailers(trailers)
                        };
                    } else if out.is_empty() && self.fill_body().await? == 0 {
                        return Err(WireError::Closed);
                    }
                    if !out.is_empty() {
                        return Ok(Some(Piece::Data(Bytes::from(out))));
                    }
                }
                BodyState::Trailers(trailers) => {
                    let trailers = std::mem::take(trailers);
                    *state = BodyState::Done;
                    return Ok(Some(Piece::Trailers(trailers)));
                }
                BodyState::Close => {
                    if !self.buf.is_empty() {
                        return Ok(Some(Piece::Data(self.buf.split().freeze())));
                    }
                    if self.fill_body().await? == 0 {
                        *state = BodyState::Done;
                        return Ok(None);
                    }
                }
            }
        }
    }
}
