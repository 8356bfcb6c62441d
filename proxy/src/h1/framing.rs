//! How a message's body is delimited (RFC 9112 §6), with the ambiguous
//! cases refused rather than guessed at.

use super::{FramingError, Head};

/// How the body of a message ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// There is no body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Responses only: the body runs until the server closes.
    Close,
}

fn content_length(head: &Head) -> Result<Option<u64>, FramingError> {
    let mut found: Option<u64> = None;
    for value in head.headers_named("content-length") {
        for part in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            let n = std::str::from_utf8(part)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    FramingError::InvalidContentLength(String::from_utf8_lossy(value).into_owned())
                })?;
            if found.is_some_and(|f| f != n) {
                return Err(FramingError::ConflictingContentLength);
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// Whether the last transfer coding of these Transfer-Encoding values is
/// chunked (empty codings skipped); `None` without any value. Reading a
/// message and writing one both decide with this.
pub fn chunked_last<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<bool> {
    let mut last = None;
    for value in values {
        last = Some(false);
        for coding in value
            .split(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
            .filter(|c| !c.is_empty())
        {
            last = Some(coding.eq_ignore_ascii_case(b"chunked"));
        }
    }
    last
}

/// The body of a request.
pub fn request_body(head: &Head) -> Result<BodyKind, FramingError> {
    let length = content_length(head)?;
    let chunked = chunked_last(head.headers_named("transfer-encoding"));
    // RFC 9112 §6.1: HTTP/1.0 has no transfer codings; a server that
    // follows it would read the chunks as the next request.
    if chunked.is_some() && &head.third[..] == b"HTTP/1.0" {
        return Err(FramingError::TransferEncodingInHttp10);
    }
    match chunked {
        Some(_) if length.is_some() => Err(FramingError::LengthAndTransferEncoding),
        Some(true) => Ok(BodyKind::Chunked),
        Some(false) => Err(FramingError::NotChunkedLast),
        None => Ok(length.map_or(BodyKind::None, BodyKind::Length)),
    }
}

/// The body of a response to a `method` request with this `status`.
pub fn response_body(method: &[u8], status: u16, head: &Head) -> Result<BodyKind, FramingError> {
    if method.eq_ignore_ascii_case(b"HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304
    {
        return Ok(BodyKind::None);
    }
    match chunked_last(head.headers_named("transfer-encoding")) {
        Some(true) => Ok(BodyKind::Chunked),
        Some(false) => Ok(BodyKind::Close),
        None => Ok(content_length(head)?.map_or(BodyKind::Close, BodyKind::Length)),
    }
}
