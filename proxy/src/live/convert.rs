//! Between HTTP/1's recorded fields and HTTP/2's header maps: what HTTP/2
//! forbids left out, lengths set, trailers and whole bodies read.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Limited};

use super::record;
use super::send::Field;
use super::wire::WireError;
use crate::tnetstring::{Dict, Value};

/// Fields HTTP/2 forbids (RFC 9113 §8.2.2), and Host, which becomes
/// `:authority`.
fn h2_forbidden(name: &[u8]) -> bool {
    [
        &b"connection"[..],
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

/// A header map for HTTP/2 from recorded fields; `length` replaces any
/// Content-Length.
pub fn header_map(fields: &[Field<'_>], length: Option<u64>) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(fields.len() + 1);
    for (name, value) in fields {
        if h2_forbidden(name)
            || (length.is_some() && name.eq_ignore_ascii_case(b"content-length"))
            || (name.eq_ignore_ascii_case(b"te") && !value.eq_ignore_ascii_case(b"trailers"))
        {
            continue;
        }
        // Names and values HTTP/2 cannot carry are left out rather than
        // failing the flow.
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    if let Some(len) = length {
        map.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    map
}

/// A header map as the flow file's list of `[name, value]`.
pub fn fields_value(map: &HeaderMap) -> Value {
    Value::list(
        map.iter()
            .map(|(n, v)| {
                Value::list(vec![
                    Value::bytes(n.as_str().as_bytes()),
                    Value::bytes(v.as_bytes()),
                ])
            })
            .collect(),
    )
}

/// Trailers as name and value pairs.
pub fn trailers_of(map: Option<&HeaderMap>) -> Vec<(Bytes, Bytes)> {
    map.map(|m| {
        m.iter()
            .map(|(n, v)| {
                (
                    Bytes::copy_from_slice(n.as_str().as_bytes()),
                    Bytes::copy_from_slice(v.as_bytes()),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Reads a whole body, up to `limit` bytes, and its trailers; the error
/// is the HTTP/1 reader's, so that both say the same.
pub async fn collect<B>(
    body: B,
    limit: Option<u64>,
) -> Result<(Bytes, Vec<(Bytes, Bytes)>), WireError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::fmt::Display + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let max = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let collected = Limited::new(body, max).collect().await.map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            WireError::TooLarge(limit.unwrap_or_default())
        } else {
            WireError::Io(std::io::Error::other(e.to_string()))
        }
    })?;
    let trailers = trailers_of(collected.trailers());
    Ok((collected.to_bytes(), trailers))
}

/// A response dict from an HTTP/2 response head.
pub fn response_dict(parts: &http::response::Parts, start: f64) -> Dict {
    record::response_dict(
        parts.status.as_u16(),
        Bytes::new(),
        fields_value(&parts.headers),
        Bytes::from_static(b"HTTP/2.0"),
        start,
    )
}
