//! HTTP/1.1 without I/O: parsing message heads, deciding how a body is
//! framed, decoding chunked bodies, and writing heads back out.
//!
//! Header fields keep their wire order and case, duplicates included, which
//! is what mitmproxy records and what a proxy must forward; that is why this
//! codec exists instead of hyper's, whose header map folds both. Parsing is
//! httparse's (strict: obs-fold, bare LF in field values and NUL are
//! refused).

use std::fmt;

use bytes::Bytes;

mod chunked;
mod framing;
mod framing_error;

pub use chunked::ChunkedDecoder;
pub use framing::{BodyKind, chunked_last, request_body, response_body};
pub use framing_error::FramingError;

/// The most header fields a message may have.
pub const MAX_HEADERS: usize = 256;

/// A request or response head as it came off the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// Request: method. Response: the HTTP version.
    pub first: Bytes,
    /// Request: target. Response: status code.
    pub second: Bytes,
    /// Request: HTTP version. Response: reason phrase.
    pub third: Bytes,
    /// Header fields in order, as sent.
    pub headers: Vec<(Bytes, Bytes)>,
}

impl Head {
    /// The value of the first field named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &v[..])
    }

    /// Every value of `name` (any case).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &v[..])
    }
}

/// What parsing a head gives: `None` until the head is complete, then the
/// head and its length.
pub type Parsed = Result<Option<(Head, usize)>, HeadError>;

/// Why a head could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP/1.x, or malformed; the text says what.
    Malformed(String),
    /// More than [`MAX_HEADERS`] fields.
    TooManyHeaders,
    /// The head is longer than the reader allows.
    TooLarge,
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Malformed(what) => write!(f, "malformed HTTP/1 head: {what}"),
            HeadError::TooManyHeaders => write!(f, "more than {MAX_HEADERS} header fields"),
            HeadError::TooLarge => write!(f, "the head is too large"),
        }
    }
}

impl std::error::Error for HeadError {}

fn version(v: Option<u8>) -> Bytes {
    Bytes::from_static(if v == Some(0) {
        b"HTTP/1.0"
    } else {
        b"HTTP/1.1"
    })
}

fn fields(buf: &Bytes, parsed: &[httparse::Header<'_>]) -> Vec<(Bytes, Bytes)> {
    parsed
        .iter()
        .map(|h| (buf.slice_ref(h.name.as_bytes()), buf.slice_ref(h.value)))
        .collect()
}

/// A head whose lines end in a bare LF is refused: httparse accepts it,
/// but a server behind the proxy may split it differently (request
/// smuggling), and the reader looks for CRLF CRLF.
fn check_line_ends(head: &[u8]) -> Result<(), HeadError> {
    let bare = head
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || head[i - 1] != b'\r'));
    if bare {
        return Err(HeadError::Malformed(
            "a line ends in a bare LF (not CRLF)".into(),
        ));
    }
    Ok(())
}

fn malformed(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        e => HeadError::Malformed(e.to_string()),
    }
}

/// Parses a request head at the start of `buf`: `Ok(None)` until the whole
/// head is there, then the head and its length.
pub fn parse_request(buf: &Bytes) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf).map_err(malformed)? {
        httparse::Status::Partial => check_line_ends(buf).map(|()| None),
        httparse::Status::Complete(len) => {
            check_line_ends(&buf[..len])?;
            let head = Head {
                first: buf.slice_ref(req.method.unwrap_or_default().as_bytes()),
                second: buf.slice_ref(req.path.unwrap_or_default().as_bytes()),
                third: version(req.version),
                headers: fields(buf, req.headers),
            };
            Ok(Some((head, len)))
        }
    }
}

/// Parses a response head at the start of `buf`, like [`parse_request`].
pub fn parse_response(buf: &Bytes) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf).map_err(malformed)? {
        httparse::Status::Partial => check_line_ends(buf).map(|()| None),
        httparse::Status::Complete(len) => {
            check_line_ends(&buf[..len])?;
            let code = resp.code.unwrap_or_default();
            let head = Head {
                first: version(resp.version),
                second: Bytes::from(code.to_string()),
                third: buf.slice_ref(resp.reason.unwrap_or_default().as_bytes()),
                headers: fields(buf, resp.headers),
            };
            Ok(Some((head, len)))
        }
    }
}

/// Fields that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus the ones the proxy itself consumes. They are recorded in the flow
/// but not forwarded.
pub fn is_hop_by_hop(name: &[u8], connection_tokens: &[&[u8]]) -> bool {
    const HOP: [&[u8]; 9] = [
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"te",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"trailer",
    ];
    HOP.iter()
        .chain(connection_tokens)
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// The field names listed in a message's Connection headers.
pub fn connection_tokens<'a>(headers: impl Iterator<Item = &'a [u8]>) -> Vec<&'a [u8]> {
    headers
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
        .collect()
}

/// Writes a head: the start line, the fields in order, the blank line.
pub fn write_head(out: &mut Vec<u8>, start: [&[u8]; 3], headers: &[(&[u8], &[u8])]) {
    out.extend_from_slice(start[0]);
    out.push(b' ');
    out.extend_from_slice(start[1]);
    out.push(b' ');
    out.extend_from_slice(start[2]);
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
