//! HTTP message logic over the flow file's dicts: headers with mitmproxy's
//! semantics, bodies with Content-Encoding, fresh responses. No I/O.

use bytes::Bytes;

use crate::encoding::{self, EncodingError};
use crate::tnetstring::{Dict, Value};

pub(crate) mod cookies;
pub mod form;
pub mod message;
mod reason;
pub mod refresh;
pub mod url;

pub use reason::reason_phrase;

/// Which message of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The request.
    Request,
    /// The response.
    Response,
}

impl Which {
    /// The key in the flow dict.
    pub fn key(self) -> &'static str {
        match self {
            Which::Request => "request",
            Which::Response => "response",
        }
    }
}

/// A message field's bytes (`method`, `path`, `scheme`...), empty when
/// missing.
pub fn raw<'a>(msg: &'a Dict, key: &str) -> &'a [u8] {
    msg.get(key).and_then(Value::as_bytes).unwrap_or_default()
}

/// The header fields of a message as `[name, value]` lists.
pub fn headers(msg: &Dict) -> &[Value] {
    msg.get("headers").and_then(Value::as_list).unwrap_or(&[])
}

/// The `index`th header field.
pub fn header_at(msg: &Dict, index: usize) -> Option<(&[u8], &[u8])> {
    let pair = headers(msg).get(index)?.as_list()?;
    Some((pair.first()?.as_bytes()?, pair.get(1)?.as_bytes()?))
}

/// Every header field, in order, as `(name, value)`.
pub fn fields(msg: &Dict) -> impl Iterator<Item = (&[u8], &[u8])> {
    headers(msg).iter().filter_map(|field| {
        let pair = field.as_list()?;
        Some((pair.first()?.as_bytes()?, pair.get(1)?.as_bytes()?))
    })
}

/// The first value of header `name`, any case.
pub fn header<'a>(msg: &'a Dict, name: &str) -> Option<&'a [u8]> {
    fields(msg)
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v)
}

fn headers_mut(msg: &mut Dict) -> &mut Vec<Value> {
    if !matches!(msg.get("headers"), Some(Value::List(_))) {
        msg.insert("headers", Value::list(Vec::new()));
    }
    msg.get_mut("headers")
        .and_then(Value::as_list_mut)
        .expect("just ensured")
}

fn field(name: &[u8], value: &[u8]) -> Value {
    Value::list(vec![Value::bytes(name), Value::bytes(value)])
}

fn name_is(field: &Value, name: &[u8]) -> bool {
    field
        .as_list()
        .and_then(|p| p.first())
        .and_then(Value::as_bytes)
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

/// `headers[name] = value`: the first field of that name keeps its place
/// and case and takes the value; the others go; with none, appends.
pub fn set_header(msg: &mut Dict, name: &[u8], value: &[u8]) {
    let fields = headers_mut(msg);
    let mut seen = false;
    fields.retain_mut(|f| {
        if !name_is(f, name) {
            return true;
        }
        if seen {
            return false;
        }
        seen = true;
        if let Some(pair) = f.as_list_mut() {
            pair.truncate(1);
            pair.push(Value::bytes(value));
        }
        true
    });
    if !seen {
        fields.push(field(name, value));
    }
}

/// Appends a field.
pub fn append_header(msg: &mut Dict, name: &[u8], value: &[u8]) {
    headers_mut(msg).push(field(name, value));
}

/// Inserts a field at `index`, clamped to the end.
pub fn insert_header(msg: &mut Dict, index: usize, name: &[u8], value: &[u8]) {
    let fields = headers_mut(msg);
    let index = index.min(fields.len());
    fields.insert(index, field(name, value));
}

/// Removes every field named `name`; returns how many.
pub fn remove_header(msg: &mut Dict, name: &[u8]) -> usize {
    if header_count(msg, name) == 0 {
        return 0; // don't copy a shared list for nothing
    }
    let fields = headers_mut(msg);
    let before = fields.len();
    fields.retain(|f| !name_is(f, name));
    before - fields.len()
}

fn header_count(msg: &Dict, name: &[u8]) -> usize {
    headers(msg).iter().filter(|f| name_is(f, name)).count()
}

/// Removes the field at `index`; returns whether there was one.
pub fn remove_header_at(msg: &mut Dict, index: usize) -> bool {
    if index >= headers(msg).len() {
        return false;
    }
    headers_mut(msg).remove(index);
    true
}

/// The raw body, `None` when not kept.
pub fn raw_content(msg: &Dict) -> Option<&Bytes> {
    field_bytes(msg, "content")
}

/// The body decoded per Content-Encoding; `Ok(None)` when not kept.
pub fn decoded_content(msg: &Dict) -> Result<Option<Bytes>, EncodingError> {
    let Some(raw) = raw_content(msg) else {
        return Ok(None);
    };
    match header(msg, "content-encoding") {
        None => Ok(Some(raw.clone())),
        Some(ce) => encoding::decode(ce, raw).map(Some),
    }
}

/// The body as mitmproxy 11's `Message.content` reads it (what filters
/// and `modify_body` see): `Ok(None)` when not kept; decoded when the
/// Content-Encoding field (all of them, joined by `, `) is exactly one of
/// mitmproxy's codings (`gzip`, `deflate`, `deflateraw`, `br`, `zstd`,
/// any case; `identity` and `none` are the body itself); an error for
/// anything else. `get_content(strict=False)` is this, or else the raw
/// body. (Unlike [`decoded_content`], a list such as `gzip, br` is an
/// error here, as it is in mitmproxy.)
pub fn mitmproxy_content(msg: &Dict) -> Result<Option<Bytes>, EncodingError> {
    let Some(raw) = raw_content(msg) else {
        return Ok(None);
    };
    let values: Vec<&[u8]> = fields(msg)
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"content-encoding"))
        .map(|(_, v)| v)
        .collect();
    let coding = String::from_utf8_lossy(&values.join(&b", "[..])).to_lowercase();
    match coding.as_str() {
        "" | "none" | "identity" => Ok(Some(raw.clone())),
        "gzip" | "deflate" | "br" | "zstd" => encoding::decode(coding.as_bytes(), raw).map(Some),
        "deflateraw" => encoding::decode(b"deflate", raw).map(Some),
        other => Err(EncodingError::Invalid(other.to_owned())),
    }
}

/// mitmproxy's `get_content(strict=False)`: the decoded body, or the raw
/// one when it cannot be decoded; `None` when not kept.
pub fn content_or_raw(msg: &Dict) -> Option<Bytes> {
    match mitmproxy_content(msg) {
        Ok(body) => body,
        Err(_) => raw_content(msg).cloned(),
    }
}

/// Sets the body from decoded bytes as mitmproxy's `Message.content = …`
/// does: encoded per Content-Encoding (an encoding that cannot be applied
/// is dropped from the headers), and Content-Length set unless there is a
/// Transfer-Encoding.
pub fn set_decoded_content(msg: &mut Dict, body: &[u8]) {
    let raw = match header(msg, "content-encoding").map(|ce| encoding::encode(ce, body)) {
        None => Bytes::copy_from_slice(body),
        Some(Ok(encoded)) => encoded,
        Some(Err(_)) => {
            remove_header(msg, b"content-encoding");
            Bytes::copy_from_slice(body)
        }
    };
    if header(msg, "transfer-encoding").is_none() {
        set_header(msg, b"content-length", raw.len().to_string().as_bytes());
    }
    msg.insert("content", Value::Bytes(raw));
}

/// A response as mitmproxy's `Response.make(status)` builds it, before its
/// content is set; keys in the order mitmproxy writes them.
pub fn new_response(status: u16, now: f64) -> Dict {
    let mut d = Dict::new();
    d.push("reason", Value::bytes(reason_phrase(status).as_bytes()));
    d.push("status_code", Value::Int(i64::from(status)));
    d.push("timestamp_end", Value::Float(now));
    d.push("timestamp_start", Value::Float(now));
    d.push("trailers", Value::Null);
    d.push("content", Value::bytes(b""));
    d.push("headers", Value::list(Vec::new()));
    d.push("http_version", Value::bytes(b"HTTP/1.1"));
    d
}

#[cfg(test)]
mod tests;

/// Reads a bytes or text field of a dict.
pub(crate) fn field_bytes<'a>(dict: &'a Dict, key: &str) -> Option<&'a Bytes> {
    match dict.get(key)? {
        Value::Bytes(b) | Value::Text(b) => Some(b),
        _ => None,
    }
}
