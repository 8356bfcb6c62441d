//! Checking and building tnetstrings. [`parse`] checks a whole item and
//! builds its top level; [`dict_entries`] and [`list_items`] build one more
//! level of an item that was checked before.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use super::{Dict, List, Value};

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;
/// mitmproxy's limit on the length prefix.
pub(crate) const MAX_LEN_DIGITS: usize = 12;

/// What is wrong with a tnetstring, and where (offset within the parsed
/// buffer; the flow file reader adds the item's file offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending item.
    pub offset: usize,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for ParseError {}

fn err(offset: usize, what: impl Into<String>) -> ParseError {
    ParseError {
        offset,
        what: what.into(),
    }
}

/// Reads a length prefix `LEN:` at the start of `data`; returns the length
/// and how many bytes the prefix took. Small and inlined: it runs for
/// every item, twice (checked, then built).
#[inline(always)]
fn parse_len(data: &[u8], offset: usize) -> Result<(usize, usize), ParseError> {
    let mut len = 0usize;
    for (i, &b) in data.iter().enumerate().take(MAX_LEN_DIGITS + 1) {
        match b {
            b':' if i > 0 => return Ok((len, i + 1)),
            b'0'..=b'9' if i < MAX_LEN_DIGITS => len = len * 10 + usize::from(b - b'0'),
            _ => return Err(bad_prefix(data, offset)),
        }
    }
    Err(prefix_cut(offset))
}

/// A length prefix that `parse_len` refused.
#[cold]
#[inline(never)]
fn bad_prefix(data: &[u8], offset: usize) -> ParseError {
    let head = &data[..data.len().min(MAX_LEN_DIGITS + 1)];
    let seen = String::from_utf8_lossy(head).into_owned();
    err(
        offset,
        format!("expected a tnetstring length prefix (digits then ':'), found {seen:?}"),
    )
}

/// The item at `at`, which must end before `limit`: its tag and payload
/// bounds.
#[inline(always)]
pub(super) fn item(buf: &[u8], at: usize, limit: usize) -> Result<(u8, usize, usize), ParseError> {
    let (len, prefix) = parse_len(&buf[at..limit], at)?;
    let start = at + prefix;
    let end = start
        .checked_add(len)
        .filter(|&e| e < limit)
        .ok_or_else(|| too_long(at, len, limit.saturating_sub(start + 1)))?;
    Ok((buf[end], start, end))
}

/// Data that ends in a length prefix that was good so far.
#[cold]
#[inline(never)]
fn prefix_cut(offset: usize) -> ParseError {
    err(offset, "the data ends inside a length prefix")
}

/// An item longer than what is left of its container or buffer.
#[cold]
#[inline(never)]
fn too_long(at: usize, len: usize, remain: usize) -> ParseError {
    err(
        at,
        format!("item claims {len} bytes but only {remain} remain"),
    )
}

/// Digits, optionally after a `-`, few enough for an `i64`: what
/// `i64::from_str` accepts, without parsing.
fn plain_int(payload: &[u8]) -> bool {
    let digits = payload.strip_prefix(b"-").unwrap_or(payload);
    (1..=18).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
}

/// Digits with at most one `.` among them and at least one digit (`5`,
/// `5.`, `.5`, `1700000000.25`): what `f64::from_str` accepts, without
/// parsing. Signs, exponents and `inf`/`nan` take the parser.
fn plain_decimal(payload: &[u8]) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for &b in payload {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => return false,
        }
    }
    digits > 0 && dots <= 1
}

/// Checks a scalar payload.
fn check_scalar(buf: &[u8], tag: u8, start: usize, end: usize) -> Result<(), ParseError> {
    let payload = &buf[start..end];
    let ascii = |what: &str| {
        std::str::from_utf8(payload).map_err(|_| err(start, format!("{what} payload is not ASCII")))
    };
    match tag {
        b',' => Ok(()),
        b';' if payload.is_ascii() => Ok(()),
        b';' => std::str::from_utf8(payload)
            .map(drop)
            .map_err(|e| err(start + e.valid_up_to(), "text value is not valid UTF-8")),
        // The common shapes are checked by eye; anything else is parsed.
        b'#' if plain_int(payload) => Ok(()),
        b'^' if plain_decimal(payload) => Ok(()),
        b'#' => ascii("integer")?.parse::<i64>().map(drop).map_err(|_| {
            err(
                start,
                format!("bad integer {:?}", String::from_utf8_lossy(payload)),
            )
        }),
        b'^' => ascii("float")?.parse::<f64>().map(drop).map_err(|_| {
            err(
                start,
                format!("bad float {:?}", String::from_utf8_lossy(payload)),
            )
        }),
        b'!' if payload == b"true" || payload == b"false" => Ok(()),
        b'!' => Err(err(
            start,
            format!("bad boolean {:?}", String::from_utf8_lossy(payload)),
        )),
        b'~' if payload.is_empty() => Ok(()),
        b'~' => Err(err(start, "null with a payload")),
        other => Err(err(
            end,
            format!("unknown tnetstring type tag {:?}", other as char),
        )),
    }
}

/// Checks the item at `at` and everything in it; returns its tag and the
/// offset after it.
fn check(buf: &[u8], at: usize, limit: usize, depth: usize) -> Result<(u8, usize), ParseError> {
    if depth > MAX_DEPTH {
        return Err(err(at, format!("values nested more than {MAX_DEPTH} deep")));
    }
    let (tag, start, end) = item(buf, at, limit)?;
    match tag {
        b']' => {
            let mut next = start;
            while next < end {
                next = check(buf, next, end, depth + 1)?.1;
            }
        }
        b'}' => {
            let mut next = start;
            while next < end {
                let key_at = next;
                let (key_tag, after_key) = check(buf, next, end, depth + 1)?;
                if key_tag != b',' && key_tag != b';' {
                    return Err(err(key_at, "dict key is not text or bytes"));
                }
                if after_key >= end {
                    return Err(err(key_at, "dict key without a value"));
                }
                next = check(buf, after_key, end, depth + 1)?.1;
            }
        }
        _ => check_scalar(buf, tag, start, end)?,
    }
    Ok((tag, end + 1))
}

/// Builds the checked item at `at` (containers stay lazy); returns it and
/// the offset after it.
fn build(buf: &Bytes, at: usize, limit: usize) -> (Value, usize) {
    let Ok((tag, start, end)) = item(buf, at, limit) else {
        debug_assert!(false, "building an item that was not checked");
        return (Value::Null, limit);
    };
    let payload = &buf[start..end];
    let ascii = || std::str::from_utf8(payload).unwrap_or_default();
    let value = match tag {
        b',' => Value::Bytes(buf.slice(start..end)),
        b';' => Value::Text(buf.slice(start..end)),
        b'#' => Value::Int(ascii().parse().unwrap_or_default()),
        b'^' => Value::Float(ascii().parse().unwrap_or_default()),
        b'!' => Value::Bool(payload == b"true"),
        b']' => Value::List(Arc::new(List::lazy(buf.slice(at..end + 1)))),
        b'}' => Value::Dict(Arc::new(Dict::lazy(buf.slice(at..end + 1)))),
        _ => Value::Null,
    };
    (value, end + 1)
}

/// The payload bounds of a checked container item.
fn payload(raw: &Bytes) -> (usize, usize) {
    match item(raw, 0, raw.len()) {
        Ok((_, start, end)) => (start, end),
        Err(_) => (0, 0),
    }
}

/// The entries of a checked dict item (none for `None`).
pub(super) fn dict_entries(raw: Option<&Bytes>) -> Vec<(Value, Value)> {
    let Some(raw) = raw else { return Vec::new() };
    let (mut next, end) = payload(raw);
    let mut entries = Vec::new();
    while next < end {
        let (key, after_key) = build(raw, next, end);
        let (value, after_value) = build(raw, after_key, end);
        entries.push((key, value));
        next = after_value;
    }
    entries
}

/// The items of a checked list item (none for `None`).
pub(super) fn list_items(raw: Option<&Bytes>) -> Vec<Value> {
    let Some(raw) = raw else { return Vec::new() };
    let (mut next, end) = payload(raw);
    let mut items = Vec::new();
    while next < end {
        let (value, after) = build(raw, next, end);
        items.push(value);
        next = after;
    }
    items
}

/// Checks the one item that fills all of `buf` and builds its top level.
pub fn parse(buf: &Bytes) -> Result<Value, ParseError> {
    let (_, used) = check(buf, 0, buf.len(), 0)?;
    if used != buf.len() {
        return Err(err(
            used,
            format!("{} stray bytes after the value", buf.len() - used),
        ));
    }
    Ok(build(buf, 0, buf.len()).0)
}

/// The integer at `key` in the checked dict item `raw`, found without
/// building the dict: `None` if there is no such key, `Some(None)` if its
/// value is not an integer.
pub fn dict_int(raw: &[u8], key: &str) -> Option<Option<i64>> {
    let (_, start, end) = item(raw, 0, raw.len()).ok()?;
    let mut next = start;
    while next < end {
        let (_, key_start, key_end) = item(raw, next, end).ok()?;
        let (tag, value_start, value_end) = item(raw, key_end + 1, end).ok()?;
        if &raw[key_start..key_end] == key.as_bytes() {
            let text = std::str::from_utf8(&raw[value_start..value_end]).ok();
            return Some(text.filter(|_| tag == b'#').and_then(|t| t.parse().ok()));
        }
        next = value_end + 1;
    }
    None
}

/// The whole size (prefix, payload, tag) of the item whose first bytes are
/// `head` (at least its length prefix), without reading the rest.
pub(crate) fn item_size(head: &[u8]) -> Result<usize, ParseError> {
    let (len, prefix) = parse_len(head, 0)?;
    len.checked_add(prefix + 1)
        .ok_or_else(|| err(0, "item length overflows"))
}
