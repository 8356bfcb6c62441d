//! Serializing values, the way mitmproxy does.

use super::{Value, pyfloat};

/// Appends `value` as a tnetstring.
///
/// Unchanged containers are copied from the bytes they were parsed from.
/// A built container is measured first (each container's payload length
/// and each float's digits, in the order they will be written), so that
/// every length prefix is written before its payload and no byte moves
/// twice.
pub fn write(value: &Value, out: &mut Vec<u8>) {
    if let Some(raw) = raw(value) {
        return out.extend_from_slice(raw);
    }
    match value {
        Value::List(_) | Value::Dict(_) => {
            let mut measured = Measured::default();
            let size = measure(value, &mut measured);
            out.reserve(size);
            let mut cursor = Cursor::default();
            emit(value, &measured, &mut cursor, out);
        }
        _ => scalar(value, out),
    }
}

/// The bytes an unchanged container was read from.
fn raw(value: &Value) -> Option<&[u8]> {
    match value {
        Value::List(l) => l.raw().map(|b| &b[..]),
        Value::Dict(d) => d.raw().map(|b| &b[..]),
        _ => None,
    }
}

/// What [`measure`] found, in writing order: the payload length of every
/// built container and float, and the floats' digits.
#[derive(Default)]
struct Measured {
    lens: Vec<usize>,
    floats: Vec<u8>,
}

/// How far [`emit`] has read a [`Measured`].
#[derive(Default)]
struct Cursor {
    len: usize,
    float: usize,
}

/// The whole size of `value` written (prefix, payload, tag), noting in
/// `measured` what writing it will need again.
fn measure(value: &Value, measured: &mut Measured) -> usize {
    if let Some(raw) = raw(value) {
        return raw.len();
    }
    let payload = match value {
        Value::Null => 0,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Int(i) => usize::from(*i < 0) + digits(i.unsigned_abs()),
        Value::Float(f) => {
            let before = measured.floats.len();
            pyfloat::write(*f, &mut measured.floats);
            let len = measured.floats.len() - before;
            measured.lens.push(len);
            len
        }
        Value::Bytes(b) | Value::Text(b) => b.len(),
        Value::List(l) => {
            let slot = measured.lens.len();
            measured.lens.push(0);
            let len = l.items().iter().map(|v| measure(v, measured)).sum();
            measured.lens[slot] = len;
            len
        }
        Value::Dict(d) => {
            let slot = measured.lens.len();
            measured.lens.push(0);
            let len = d
                .iter()
                .map(|(k, v)| measure(k, measured) + measure(v, measured))
                .sum();
            measured.lens[slot] = len;
            len
        }
    };
    digits(payload as u64) + 1 + payload + 1
}

/// Writes `value` as [`measure`] measured it.
fn emit(value: &Value, measured: &Measured, cursor: &mut Cursor, out: &mut Vec<u8>) {
    if let Some(raw) = raw(value) {
        return out.extend_from_slice(raw);
    }
    match value {
        Value::Float(_) => {
            let len = measured.lens[cursor.len];
            cursor.len += 1;
            write_prefix(len, out);
            out.extend_from_slice(&measured.floats[cursor.float..cursor.float + len]);
            cursor.float += len;
        }
        Value::List(l) => {
            write_prefix(measured.lens[cursor.len], out);
            cursor.len += 1;
            for v in l.items() {
                emit(v, measured, cursor, out);
            }
        }
        Value::Dict(d) => {
            write_prefix(measured.lens[cursor.len], out);
            cursor.len += 1;
            for (k, v) in d.iter() {
                emit(k, measured, cursor, out);
                emit(v, measured, cursor, out);
            }
        }
        _ => return scalar(value, out),
    }
    out.push(tag(value));
}

/// Writes a scalar (not a float inside a container: those were measured).
fn scalar(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"0:~"),
        Value::Bool(true) => out.extend_from_slice(b"4:true!"),
        Value::Bool(false) => out.extend_from_slice(b"5:false!"),
        Value::Int(i) => {
            let mut buf = [0u8; 24];
            let n = format_prefix(i.unsigned_abs(), &mut buf);
            write_prefix(usize::from(*i < 0) + n - 1, out);
            if *i < 0 {
                out.push(b'-');
            }
            out.extend_from_slice(&buf[..n - 1]);
            out.push(b'#');
        }
        Value::Float(f) => {
            let mut digits = Vec::with_capacity(24);
            pyfloat::write(*f, &mut digits);
            write_prefix(digits.len(), out);
            out.extend_from_slice(&digits);
            out.push(b'^');
        }
        Value::Bytes(b) | Value::Text(b) => {
            write_prefix(b.len(), out);
            out.extend_from_slice(b);
            out.push(tag(value));
        }
        Value::List(_) | Value::Dict(_) => write(value, out),
    }
}

/// How many decimal digits `n` has.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
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
