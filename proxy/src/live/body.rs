//! Bodies in motion, whichever protocol carries them: a `Source` yields a
//! body's pieces as they arrive (HTTP/1 framing or HTTP/2 frames), a
//! `Sink` writes them out in the other side's framing, and `pump` joins
//! the two without keeping what passes. Flow control is the sink's: a
//! piece is read only once the last one was taken.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::convert;
use super::wire::{BodyState, BoxIo, Piece, Reader, WireError};
use crate::h1::BodyKind;

/// What bodies handed to hyper fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A body hyper sends: whole, or fed piece by piece.
pub type OutBody = http_body_util::combinators::BoxBody<Bytes, BoxError>;
/// Fields after a body.
pub type Trailers = Vec<(Bytes, Bytes)>;

/// A whole body for hyper.
pub fn whole(bytes: Bytes) -> OutBody {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed()
}

/// A body being read from one side of the proxy.
#[derive(Debug)]
pub enum Source<'a> {
    /// HTTP/1: framed on the connection.
    H1 {
        reader: &'a mut Reader<BoxIo>,
        state: BodyState,
    },
    /// HTTP/2: a stream's DATA frames and trailers.
    H2(Incoming),
    /// No body at all.
    Empty,
    /// Pieces read already, then the rest.
    Prefixed(VecDeque<Piece>, Box<Source<'a>>),
}

impl<'a> Source<'a> {
    /// An HTTP/1 body framed as `kind`.
    pub fn h1(reader: &'a mut Reader<BoxIo>, kind: BodyKind) -> Source<'a> {
        Source::H1 {
            reader,
            state: BodyState::new(kind),
        }
    }

    /// The next piece; `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Piece>, WireError> {
        match self {
            Source::H1 { reader, state } => reader.piece(state).await,
            Source::H2(body) => match body.frame().await {
                None => Ok(None),
                Some(Err(e)) => Err(WireError::Io(io::Error::other(e.to_string()))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => Ok(Some(Piece::Data(data))),
                    Err(frame) => Ok(frame
                        .into_trailers()
                        .ok()
                        .map(|t| Piece::Trailers(convert::trailers_of(Some(&t))))),
                },
            },
            Source::Empty => Ok(None),
            Source::Prefixed(first, rest) => match first.pop_front() {
                Some(piece) => Ok(Some(piece)),
                None => Box::pin(rest.next()).await,
            },
        }
    }

    /// The rest of the body, whole, up to `limit` bytes.
    pub async fn collect(self, limit: Option<u64>) -> Result<(Bytes, Trailers), WireError> {
        match self {
            Source::H1 { reader, state } => match state {
                BodyState::Length(n) => reader.body(BodyKind::Length(n), limit).await,
                BodyState::Chunked(_) => reader.body(BodyKind::Chunked, limit).await,
                BodyState::Close => reader.body(BodyKind::Close, limit).await,
                BodyState::Trailers(t) => Ok((Bytes::new(), t)),
                BodyState::Done => Ok((Bytes::new(), Vec::new())),
            },
            Source::H2(body) => convert::collect(body, limit).await,
            Source::Empty => Ok((Bytes::new(), Vec::new())),
            mut prefixed @ Source::Prefixed(..) => {
                let (mut body, mut trailers) = (Vec::new(), Vec::new());
                while let Some(piece) = prefixed.next().await? {
                    match piece {
                        Piece::Data(data) => body.extend_from_slice(&data),
                        Piece::Trailers(t) => trailers = t,
                    }
                    if limit.is_some_and(|l| body.len() as u64 > l) {
                        return Err(WireError::TooLarge(limit.unwrap_or_default()));
                    }
                }
                Ok((Bytes::from(body), trailers))
            }
        }
    }

    /// The body's length, where its framing says it in advance.
    pub fn length(&self) -> Option<u64> {
        match self {
            Source::H1 {
                state: BodyState::Length(n),
                ..
            } => Some(*n),
            Source::H1 {
                state: BodyState::Done,
                ..
            }
            | Source::Empty => Some(0),
            Source::H1 { .. } | Source::Prefixed(..) => None,
            Source::H2(body) => body.size_hint().exact(),
        }
    }
}

/// Where a body is written to.
#[derive(Debug)]
pub enum Sink<'a> {
    /// HTTP/1, framed as `kind` (chunks are written as chunks again).
    H1 { io: &'a mut BoxIo, kind: BodyKind },
    /// HTTP/2: frames for the body hyper is sending.
    H2(mpsc::Sender<Result<Frame<Bytes>, BoxError>>),
    /// Nowhere: a replay has no client to pass a streamed body to.
    Discard,
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the stream was closed")
}

impl Sink<'_> {
    /// Writes one piece.
    pub async fn send(&mut self, piece: Piece) -> io::Result<()> {
        match (self, piece) {
            (Sink::Discard, _) => Ok(()),
            (Sink::H1 { io, kind }, Piece::Data(data)) => {
                if data.is_empty() {
                    return Ok(());
                }
                if *kind != BodyKind::Chunked {
                    return io.write_all(&data).await;
                }
                let mut chunk = Vec::with_capacity(data.len() + 16);
                chunk.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                chunk.extend_from_slice(&data);
                chunk.extend_from_slice(b"\r\n");
                io.write_all(&chunk).await
            }
            (Sink::H1 { io, kind }, Piece::Trailers(trailers)) => {
                if *kind != BodyKind::Chunked {
                    // HTTP/1 sends trailers only after chunks.
                    return Ok(());
                }
                let mut end = b"0\r\n".to_vec();
                for (name, value) in &trailers {
                    end.extend_from_slice(name);
                    end.extend_from_slice(b": ");
                    end.extend_from_slice(value);
                    end.extend_from_slice(b"\r\n");
                }
                end.extend_from_slice(b"\r\n");
                *kind = BodyKind::None;
                io.write_all(&end).await
            }
            (Sink::H2(tx), Piece::Data(data)) => {
                tx.send(Ok(Frame::data(data))).await.map_err(|_| gone())
            }
            (Sink::H2(tx), Piece::Trailers(trailers)) => {
                let map: HeaderMap = convert::header_map(
                    &trailers
                        .iter()
                        .map(|(n, v)| (&n[..], &v[..]))
                        .collect::<Vec<_>>(),
                    None,
                );
                tx.send(Ok(Frame::trailers(map))).await.map_err(|_| gone())
            }
        }
    }

    /// Ends the body (the last chunk, for chunked HTTP/1) and flushes.
    pub async fn finish(self) -> io::Result<()> {
        match self {
            Sink::H1 { io, kind } => {
                if kind == BodyKind::Chunked {
                    io.write_all(b"0\r\n\r\n").await?;
                }
                io.flush().await
            }
            Sink::H2(_) | Sink::Discard => Ok(()),
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

/// Passes a body from `source` to `sink` as it arrives, keeping none of
/// it; returns how many body bytes passed.
pub async fn pump(source: &mut Source<'_>, mut sink: Sink<'_>) -> Result<u64, PumpError> {
    let mut passed = 0u64;
    while let Some(piece) = source.next().await.map_err(PumpError::Read)? {
        if let Piece::Data(data) = &piece {
            passed += data.len() as u64;
        }
        sink.send(piece).await.map_err(PumpError::Write)?;
    }
    sink.finish().await.map_err(PumpError::Write)?;
    Ok(passed)
}

/// A body hyper sends while the proxy is still reading it from the other
/// side; one frame waits at most, so memory stays flat.
#[derive(Debug)]
pub struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
    length: Option<u64>,
}

impl ChannelBody {
    /// A body and the sink that feeds it; `length` is announced when known.
    pub fn channel(length: Option<u64>) -> (OutBody, Sink<'static>) {
        let (tx, rx) = mpsc::channel(1);
        (ChannelBody { rx, length }.boxed(), Sink::H2(tx))
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.rx.poll_recv(cx)
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
