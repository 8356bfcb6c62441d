//! [`FramingError`]: why a message's body cannot be delimited or read, by
//! kind, so that a caller can tell a smuggling risk from a broken chunk.

use std::fmt;

/// What is wrong with a message's framing (RFC 9112 §6, §7.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// A Content-Length that is not a number (the whole field, as sent).
    InvalidContentLength(String),
    /// Content-Length given twice with different values.
    ConflictingContentLength,
    /// Transfer-Encoding in an HTTP/1.0 request.
    TransferEncodingInHttp10,
    /// Both Content-Length and Transfer-Encoding in a request.
    LengthAndTransferEncoding,
    /// A request's Transfer-Encoding that does not end in chunked.
    NotChunkedLast,
    /// A chunk-size or trailer line longer than the limit.
    LineTooLong(usize),
    /// A chunk-size line that is not hexadecimal (the line, as sent).
    InvalidChunkSize(String),
    /// A chunk size beyond 64 bits.
    ChunkSizeOutOfRange,
    /// Chunk data not followed by CRLF.
    NoCrlfAfterChunk,
    /// A trailer line without a colon.
    TrailerWithoutColon,
}

impl FramingError {
    /// Whether the message is ambiguous in a way that lets two readers
    /// see different messages (request smuggling), rather than broken.
    pub fn is_smuggling_risk(&self) -> bool {
        matches!(
            self,
            FramingError::ConflictingContentLength
                | FramingError::TransferEncodingInHttp10
                | FramingError::LengthAndTransferEncoding
                | FramingError::NotChunkedLast
        )
    }
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::InvalidContentLength(value) => {
                write!(f, "invalid Content-Length {value:?}")
            }
            FramingError::ConflictingContentLength => {
                f.write_str("conflicting Content-Length values")
            }
            FramingError::TransferEncodingInHttp10 => {
                f.write_str("Transfer-Encoding in an HTTP/1.0 request (a smuggling risk)")
            }
            FramingError::LengthAndTransferEncoding => {
                f.write_str("both Content-Length and Transfer-Encoding (a smuggling risk)")
            }
            FramingError::NotChunkedLast => {
                f.write_str("a Transfer-Encoding that does not end in chunked")
            }
            FramingError::LineTooLong(limit) => {
                write!(f, "a chunk line longer than {limit} bytes")
            }
            FramingError::InvalidChunkSize(line) => write!(f, "invalid chunk size {line:?}"),
            FramingError::ChunkSizeOutOfRange => f.write_str("chunk size out of range"),
            FramingError::NoCrlfAfterChunk => f.write_str("chunk data not followed by CRLF"),
            FramingError::TrailerWithoutColon => f.write_str("a trailer field without ':'"),
        }
    }
}

impl std::error::Error for FramingError {}
