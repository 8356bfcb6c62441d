//! Serializing values, the way mitmproxy does.

use super::{Value, pyfloat};

/// Appends `value` as a tnetstring.
///
/// Unchanged containers are copied from the bytes they were parsed from.
/// A built container is written back to front into a scratch buffer kept
/// per thread (every byte in reverse order, so that each length prefix,
/// which comes before its payload, is written just after the payload,
/// when its length is known), then copied onto `out` the right way
/// round. One walk of the tree, and no byte moves within `out`. Long
/// pieces (a body, a connection record kept as bytes) are not reversed:
/// they are noted where they go and copied once, as they are.
pub fn write(value: &Value, out: &mut Vec<u8>) {
    if let Some(raw) = raw(value) {
        return out.extend_from_slice(raw);
    }
    match value {
        Value::List(_) | Value::Dict(_) => {
            let mut back = Back {
                bytes: SCRATCH.take(),
                pieces: Vec::new(),
                aside: 0,
            };
            back.bytes.clear();
            backward(value, &mut back);
            back.finish(out);
            if back.bytes.capacity() <= SCRATCH_KEPT {
                SCRATCH.set(back.bytes);
            }
        }
        _ => scalar(value, out),
    }
}

thread_local! {
    /// [`write`]'s back-to-front buffer: a thread that encodes one flow
    /// encodes many.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The largest scratch buffer a thread keeps between flows.
const SCRATCH_KEPT: usize = 256 << 10;

/// Pieces longer than this are copied as they are, not reversed twice.
const LONG: usize = 256;

/// A value being written back to front.
struct Back<'a> {
    /// What is written so far, in reverse.
    bytes: Vec<u8>,
    /// The long pieces left out of `bytes`, in writing order, each with
    /// the place in `bytes` where it belongs.
    pieces: Vec<(usize, &'a [u8])>,
    /// How many bytes `pieces` hold.
    aside: usize,
}

impl<'a> Back<'a> {
    /// How many bytes are written so far, pieces included.
    fn len(&self) -> usize {
        self.bytes.len() + self.aside
    }

    /// Writes `piece` back to front.
    fn reversed(&mut self, piece: &'a [u8]) {
        if piece.len() > LONG {
            self.pieces.push((self.bytes.len(), piece));
            self.aside += piece.len();
        } else {
            self.bytes.extend(piece.iter().rev());
        }
    }

    /// Appends what was written onto `out`, the right way round.
    fn finish(&self, out: &mut Vec<u8>) {
        out.reserve(self.len());
        let mut end = self.bytes.len();
        for &(at, piece) in self.pieces.iter().rev() {
            out.extend(self.bytes[at..end].iter().rev());
            out.extend_from_slice(piece);
            end = at;
        }
        out.extend(self.bytes[..end].iter().rev());
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

/// Writes `value` back to front: its tag, its payload in reverse (a
/// container's items last to first, each back to front), the `:` and the
/// length's digits, least significant first.
fn backward<'a>(value: &'a Value, back: &mut Back<'a>) {
    if let Some(raw) = raw(value) {
        return back.reversed(raw);
    }
    back.bytes.push(tag(value));
    let payload = back.len();
    match value {
        Value::Null => {}
        Value::Bool(true) => back.bytes.extend_from_slice(b"eurt"),
        Value::Bool(false) => back.bytes.extend_from_slice(b"eslaf"),
        Value::Int(i) => {
            digits_backward(i.unsigned_abs(), &mut back.bytes);
            if *i < 0 {
                back.bytes.push(b'-');
            }
        }
        Value::Float(f) => {
            let at = back.bytes.len();
            pyfloat::write(*f, &mut back.bytes);
            back.bytes[at..].reverse();
        }
        Value::Bytes(b) | Value::Text(b) => back.reversed(b),
        Value::List(l) => {
            for v in l.items().iter().rev() {
                backward(v, back);
            }
        }
        Value::Dict(d) => {
            for (k, v) in d.entries().iter().rev() {
                backward(v, back);
                backward(k, back);
            }
        }
    }
    let len = back.len() - payload;
    back.bytes.push(b':');
    digits_backward(len as u64, &mut back.bytes);
}

/// Appends `n`'s decimal digits, least significant first. Written here,
/// not taken from `itoa`: `itoa` lays digits out forward, and turning
/// them round made encoding a flow 16% slower (905 against 1,055 ns).
fn digits_backward(mut n: u64, out: &mut Vec<u8>) {
    loop {
        out.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
}

/// Writes a value that is not inside a built container: bytes and text
/// straight, a container by [`write`], anything else (a few bytes) back
/// to front as [`backward`] writes it, then turned round.
fn scalar(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Bytes(b) | Value::Text(b) => {
            write_prefix(b.len(), out);
            out.extend_from_slice(b);
            out.push(tag(value));
        }
        Value::List(_) | Value::Dict(_) => write(value, out),
        _ => {
            let mut back = Back {
                bytes: Vec::new(),
                pieces: Vec::new(),
                aside: 0,
            };
            backward(value, &mut back);
            back.finish(out);
        }
    }
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

/// Appends `LEN:`.
fn write_prefix(len: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
    out.push(b':');
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
