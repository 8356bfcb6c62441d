//! tnetstrings as mitmproxy writes them: the value tree, its parser and its
//! serializer.
//!
//! `item := LEN ':' PAYLOAD TAG`. Besides the standard tags mitmproxy adds
//! `;` for UTF-8 text. Parsing is zero-copy: byte and text values are slices
//! of the buffer the item was read into. Serializing an unchanged tree gives
//! back the same bytes: dict order is kept and floats are written the way
//! Python's `repr` writes them.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

mod pyfloat;

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;
/// mitmproxy's limit on the length prefix.
pub(crate) const MAX_LEN_DIGITS: usize = 12;

/// A tnetstring value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `0:~`
    Null,
    /// `!`
    Bool(bool),
    /// `#`
    Int(i64),
    /// `^`
    Float(f64),
    /// `,` raw bytes.
    Bytes(Bytes),
    /// `;` UTF-8 text (checked when parsed or built).
    Text(Bytes),
    /// `]`; shared so that cloning a flow is cheap and edits copy only
    /// the path they touch.
    List(Arc<Vec<Value>>),
    /// `}`
    Dict(Arc<Dict>),
}

/// A tnetstring dict: ordered entries, keys text or (in old files) bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dict {
    entries: Vec<(Value, Value)>,
}

impl Value {
    /// A text value.
    pub fn text(s: &str) -> Value {
        Value::Text(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// A bytes value.
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(Bytes::copy_from_slice(b))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// The payload of a bytes or text value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) | Value::Text(b) => Some(b),
            _ => None,
        }
    }

    /// The text of a text value (or of bytes that happen to be UTF-8).
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// An int.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A float (ints are widened, as Python would).
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A dict.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// A dict, to change (copied first if shared).
    pub fn as_dict_mut(&mut self) -> Option<&mut Dict> {
        match self {
            Value::Dict(d) => Some(Arc::make_mut(d)),
            _ => None,
        }
    }

    /// A list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// A list, to change (copied first if shared).
    pub fn as_list_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::List(l) => Some(Arc::make_mut(l)),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl Dict {
    /// An empty dict.
    pub fn new() -> Dict {
        Dict::default()
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The value at `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// Sets `key`, in place if it exists, else first (where mitmproxy puts
    /// the newest key).
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) => self.entries[i].1 = value,
            None => self.entries.insert(0, (Value::text(key), value)),
        }
    }

    /// Appends `key` without looking for an existing entry; for building.
    pub fn push(&mut self, key: &str, value: Value) {
        self.entries.push((Value::text(key), value));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).map(|i| self.entries.remove(i).1)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| k.as_bytes() == Some(key.as_bytes()))
    }
}

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
/// and how many bytes the prefix took.
fn parse_len(data: &[u8], offset: usize) -> Result<(usize, usize), ParseError> {
    let colon = data
        .iter()
        .take(MAX_LEN_DIGITS + 1)
        .position(|&b| b == b':');
    let Some(colon) = colon else {
        return Err(
            if data.len() <= MAX_LEN_DIGITS && data.iter().all(u8::is_ascii_digit) {
                err(offset, "the data ends inside a length prefix")
            } else {
                err(
                    offset,
                    "expected a tnetstring length prefix (digits then ':')",
                )
            },
        );
    };
    let digits = &data[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(err(
            offset,
            format!(
                "expected a tnetstring length prefix, found {:?}",
                String::from_utf8_lossy(digits)
            ),
        ));
    }
    let len = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(offset, "length prefix out of range"))?;
    Ok((len, colon + 1))
}

/// Parses one whole item occupying all of `buf`.
pub fn parse(buf: &Bytes) -> Result<Value, ParseError> {
    let (value, used) = parse_at(buf, 0, 0)?;
    if used != buf.len() {
        return Err(err(
            used,
            format!("{} stray bytes after the value", buf.len() - used),
        ));
    }
    Ok(value)
}

/// Parses the payload of an item whose tag is `tag`. `payload_offset` is the
/// payload's offset within `buf`, for errors.
pub(crate) fn parse_payload(
    buf: &Bytes,
    tag: u8,
    start: usize,
    end: usize,
    depth: usize,
) -> Result<Value, ParseError> {
    let payload = &buf[start..end];
    let ascii = |what: &str| {
        std::str::from_utf8(payload).map_err(|_| err(start, format!("{what} payload is not ASCII")))
    };
    Ok(match tag {
        b',' => Value::Bytes(buf.slice(start..end)),
        b';' => {
            std::str::from_utf8(payload)
                .map_err(|e| err(start + e.valid_up_to(), "text value is not valid UTF-8"))?;
            Value::Text(buf.slice(start..end))
        }
        b'#' => Value::Int(ascii("integer")?.parse().map_err(|_| {
            err(
                start,
                format!("bad integer {:?}", String::from_utf8_lossy(payload)),
            )
        })?),
        b'^' => Value::Float(ascii("float")?.parse().map_err(|_| {
            err(
                start,
                format!("bad float {:?}", String::from_utf8_lossy(payload)),
            )
        })?),
        b'!' => match payload {
            b"true" => Value::Bool(true),
            b"false" => Value::Bool(false),
            _ => {
                return Err(err(
                    start,
                    format!("bad boolean {:?}", String::from_utf8_lossy(payload)),
                ));
            }
        },
        b'~' if payload.is_empty() => Value::Null,
        b'~' => return Err(err(start, "null with a payload")),
        b']' => {
            let mut items = Vec::new();
            let mut at = start;
            while at < end {
                let (item, used) = parse_at(&buf.slice(..end), at, depth + 1)?;
                items.push(item);
                at = used;
            }
            Value::List(Arc::new(items))
        }
        b'}' => {
            let mut entries = Vec::new();
            let mut at = start;
            let window = buf.slice(..end);
            while at < end {
                let key_at = at;
                let (key, used) = parse_at(&window, at, depth + 1)?;
                if !matches!(key, Value::Text(_) | Value::Bytes(_)) {
                    return Err(err(key_at, "dict key is not text or bytes"));
                }
                if used >= end {
                    return Err(err(key_at, "dict key without a value"));
                }
                let (value, used) = parse_at(&window, used, depth + 1)?;
                entries.push((key, value));
                at = used;
            }
            Value::Dict(Arc::new(Dict { entries }))
        }
        other => {
            return Err(err(
                end,
                format!("unknown tnetstring type tag {:?}", other as char),
            ));
        }
    })
}

/// Parses the item starting at `at`; returns it and the offset after it.
fn parse_at(buf: &Bytes, at: usize, depth: usize) -> Result<(Value, usize), ParseError> {
    if depth > MAX_DEPTH {
        return Err(err(at, format!("values nested more than {MAX_DEPTH} deep")));
    }
    let (len, prefix) = parse_len(&buf[at..], at)?;
    let start = at + prefix;
    let end = start
        .checked_add(len)
        .filter(|&e| e < buf.len())
        .ok_or_else(|| {
            err(
                at,
                format!(
                    "item claims {len} bytes but only {} remain",
                    buf.len().saturating_sub(start + 1)
                ),
            )
        })?;
    let value = parse_payload(buf, buf[end], start, end, depth)?;
    Ok((value, end + 1))
}

/// Appends `value` as a tnetstring.
///
/// Containers are written payload first and their length prefix inserted
/// afterwards, so each byte moves at most once per level of nesting.
pub fn write(value: &Value, out: &mut Vec<u8>) {
    let start = out.len();
    match value {
        Value::Null => {}
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            use std::io::Write as _;
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => pyfloat::write(*f, out),
        Value::Bytes(b) | Value::Text(b) => {
            // Scalars of known length: write the prefix first, no move.
            write_prefix(b.len(), out);
            out.extend_from_slice(b);
            out.push(tag(value));
            return;
        }
        Value::List(items) => items.iter().for_each(|v| write(v, out)),
        Value::Dict(d) => {
            for (k, v) in &d.entries {
                write(k, out);
                write(v, out);
            }
        }
    }
    let len = out.len() - start;
    let mut prefix = [0u8; 24];
    let n = format_prefix(len, &mut prefix);
    out.splice(start..start, prefix[..n].iter().copied());
    out.push(tag(value));
}

fn write_prefix(len: usize, out: &mut Vec<u8>) {
    let mut prefix = [0u8; 24];
    let n = format_prefix(len, &mut prefix);
    out.extend_from_slice(&prefix[..n]);
}

/// Writes `LEN:` into `buf`; returns how many bytes.
fn format_prefix(mut len: usize, buf: &mut [u8; 24]) -> usize {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (len % 10) as u8;
        len /= 10;
        if len == 0 {
            break;
        }
    }
    let n = digits.len() - i;
    buf[..n].copy_from_slice(&digits[i..]);
    buf[n] = b':';
    n + 1
}

fn tag(value: &Value) -> u8 {
    match value {
        Value::Null => b'~',
        Value::Bool(_) => b'!',
        Value::Int(_) => b'#',
        Value::Float(_) => b'^',
        Value::Bytes(_) => b',',
        Value::Text(_) => b';',
        Value::List(_) => b']',
        Value::Dict(_) => b'}',
    }
}

#[cfg(test)]
mod tests;
