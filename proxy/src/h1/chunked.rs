//! Decoding the chunked transfer coding incrementally, as bytes arrive.

use bytes::{Buf, Bytes, BytesMut};

use super::FramingError;

/// A chunk-size line longer than this is refused.
const MAX_LINE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// Turns chunked bytes into body bytes; keeps any trailer fields.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    trailers: Vec<(Bytes, Bytes)>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder {
            state: State::Size,
            trailers: Vec::new(),
        }
    }
}

/// Takes one CRLF-terminated line off the front of `buf`.
fn line(buf: &mut BytesMut) -> Result<Option<Bytes>, FramingError> {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(end) => {
            let line = buf.split_to(end).freeze();
            buf.advance(2);
            Ok(Some(line))
        }
        None if buf.len() > MAX_LINE => Err(FramingError::LineTooLong(MAX_LINE)),
        None => Ok(None),
    }
}

impl ChunkedDecoder {
    /// Whether the last chunk and the trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Trailer fields, once done.
    pub fn trailers(&self) -> &[(Bytes, Bytes)] {
        &self.trailers
    }

    /// Consumes what it can of `buf`, appending body bytes to `out`.
    /// Returns whether the body is complete.
    pub fn decode(&mut self, buf: &mut BytesMut, out: &mut Vec<u8>) -> Result<bool, FramingError> {
        loop {
            match self.state {
                State::Size => {
                    let Some(line) = line(buf)? else {
                        return Ok(false);
                    };
                    let size = line
                        .split(|&b| b == b';')
                        .next()
                        .unwrap_or_default()
                        .trim_ascii();
                    if size.is_empty() || size.len() > 16 || !size.iter().all(u8::is_ascii_hexdigit)
                    {
                        return Err(FramingError::InvalidChunkSize(
                            String::from_utf8_lossy(&line).into_owned(),
                        ));
                    }
                    let size = u64::from_str_radix(std::str::from_utf8(size).unwrap_or("0"), 16)
                        .map_err(|_| FramingError::ChunkSizeOutOfRange)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if buf.is_empty() {
                        return Ok(false);
                    }
                    let n = (left as usize).min(buf.len());
                    out.extend_from_slice(&buf.split_to(n));
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(false);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(FramingError::NoCrlfAfterChunk);
                    }
                    buf.advance(2);
                    self.state = State::Size;
                }
                State::Trailers => {
                    let Some(line) = line(buf)? else {
                        return Ok(false);
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        return Ok(true);
                    }
                    let colon = line
                        .iter()
                        .position(|&b| b == b':')
                        .ok_or(FramingError::TrailerWithoutColon)?;
                    self.trailers.push((
                        line.slice(..colon),
                        line.slice(colon + 1..)
                            .slice_ref(line[colon + 1..].trim_ascii()),
                    ));
                }
                State::Done => return Ok(true),
            }
        }
    }
}
