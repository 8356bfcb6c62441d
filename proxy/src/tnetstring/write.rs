//! Serializing values, the way mitmproxy does.

use super::{Value, pyfloat};

/// Appends `value` as a tnetstring.
///
/// Unchanged containers are copied from the bytes they were parsed from.
/// Others are written payload first with their length prefix inserted
/// afterwards, so each byte moves at most once per level of nesting.
pub fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::List(l) if l.raw().is_some() => {
            return out.extend_from_slice(l.raw().map(|b| &b[..]).unwrap_or_default());
        }
        Value::Dict(d) if d.raw().is_some() => {
            return out.extend_from_slice(d.raw().map(|b| &b[..]).unwrap_or_default());
        }
        _ => {}
    }
    let start = out.len();
    match value {
        Value::Null => {}
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => {
            if *i < 0 {
                out.push(b'-');
            }
            let mut digits = [0u8; 24];
            let n = format_prefix(i.unsigned_abs(), &mut digits);
            out.extend_from_slice(&digits[..n - 1]);
        }
        Value::Float(f) => pyfloat::write(*f, out),
        Value::Bytes(b) | Value::Text(b) => {
            // Scalars of known length: write the prefix first, no move.
            write_prefix(b.len(), out);
            out.extend_from_slice(b);
            out.push(tag(value));
            return;
        }
        Value::List(l) => l.items().iter().for_each(|v| write(v, out)),
        Value::Dict(d) => {
            for (k, v) in d.iter() {
                write(k, out);
                write(v, out);
            }
        }
    }
    let len = out.len() - start;
    let mut prefix = [0u8; 24];
    let n = format_prefix(len as u64, &mut prefix);
    out.splice(start..start, prefix[..n].iter().copied());
    out.push(tag(value));
}

/// Writes `value` in two parts around a hole: what goes before and after
/// `extra` bytes of items that are not in memory, spliced in at the front
/// of the list found under the dict keys `path`. Every container on the
/// path gets a length prefix that counts the hole; the caller writes
/// `head`, then the `extra` bytes, then `tail`. `None` if `path` does not
/// lead to a list.
pub fn write_spliced(value: &Value, path: &[&str], extra: u64) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut head = Vec::new();
    let mut tail;
    match (path.split_first(), value) {
        (None, Value::List(l)) => {
            let mut items = Vec::new();
            l.items().iter().for_each(|v| write(v, &mut items));
            write_prefix(usize::try_from(extra).ok()? + items.len(), &mut head);
            tail = items;
            tail.push(b']');
        }
        (Some((key, rest)), Value::Dict(d)) => {
            let (mut before, mut after) = (Vec::new(), Vec::new());
            let mut inner = None;
            for (k, v) in d.iter() {
                let out = if inner.is_some() {
                    &mut after
                } else {
                    &mut before
                };
                write(k, out);
                if inner.is_none() && k.as_bytes() == Some(key.as_bytes()) {
                    inner = Some(write_spliced(v, rest, extra)?);
                } else {
                    write(v, out);
                }
            }
            let (inner_head, inner_tail) = inner?;
            let len = before.len() + inner_head.len() + inner_tail.len() + after.len();
            write_prefix(usize::try_from(extra).ok()? + len, &mut head);
            head.extend_from_slice(&before);
            head.extend_from_slice(&inner_head);
            tail = inner_tail;
            tail.extend_from_slice(&after);
            tail.push(b'}');
        }
        _ => return None,
    }
    Some((head, tail))
}

fn write_prefix(len: usize, out: &mut Vec<u8>) {
    let mut prefix = [0u8; 24];
    let n = format_prefix(len as u64, &mut prefix);
    out.extend_from_slice(&prefix[..n]);
}

/// Writes `LEN:` into `buf`; returns how many bytes.
fn format_prefix(mut len: u64, buf: &mut [u8; 24]) -> usize {
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
