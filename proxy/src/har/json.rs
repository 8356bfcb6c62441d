//! JSON as Python's `json.dumps(obj, indent=4)` writes it: ASCII only
//! (`\uXXXX` escapes), `", "`/`": "` separators, floats as `repr`,
//! `Infinity`/`NaN`; and strings as Python holds them, with bytes that
//! are not UTF-8 kept as surrogates (`surrogateescape`).

use crate::tnetstring::py_float_repr;

/// A JSON value in the order it is written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text as [`py_str`] decodes it.
    Str(String),
    List(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

/// Where a byte that is not UTF-8 goes in a decoded string: Python's
/// `surrogateescape` maps byte `b` to U+DC00+b, which a Rust `String`
/// cannot hold, so it is kept at U+10FF00+b (the end of a private-use
/// plane) and written back out as `\udcXX`.
const ESCAPED_BYTE: u32 = 0x10_FF00;

/// `bytes.decode("utf-8", "surrogateescape")`.
pub(crate) fn py_str(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).expect("checked"));
                let n = e.error_len().unwrap_or(bad.len());
                for &b in &bad[..n] {
                    out.push(escaped_byte(b));
                }
                rest = &bad[n..];
            }
        }
    }
}

/// The char that stands for an undecodable byte.
pub(crate) fn escaped_byte(b: u8) -> char {
    char::from_u32(ESCAPED_BYTE + u32::from(b)).expect("a valid scalar value")
}

/// `str.encode("utf-8", "surrogateescape")`: the inverse of [`py_str`].
pub(crate) fn py_bytes(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u32::from(c).checked_sub(ESCAPED_BYTE) {
            Some(b @ 0x80..=0xFF) => out.push(b as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}

/// Writes `value` at nesting depth `depth` (4 spaces each), as
/// `json.dumps(..., indent=4)` would inside a document.
pub(crate) fn write(value: &J, depth: usize, out: &mut String) {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(i) => out.push_str(&i.to_string()),
        J::Float(f) => out.push_str(&float(*f)),
        J::Str(s) => string(s, out),
        J::List(items) if items.is_empty() => out.push_str("[]"),
        J::Obj(items) if items.is_empty() => out.push_str("{}"),
        J::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(depth + 1, out);
                write(item, depth + 1, out);
            }
            out.push('\n');
            indent(depth, out);
            out.push(']');
        }
        J::Obj(items) => {
            out.push('{');
            for (i, (key, item)) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(depth + 1, out);
                string(key, out);
                out.push_str(": ");
                write(item, depth + 1, out);
            }
            out.push('\n');
            indent(depth, out);
            out.push('}');
        }
    }
}

pub(crate) fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

/// `float.__repr__`, or what `json` writes for the values JSON lacks.
fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        py_float_repr(f)
    }
}

/// A string with `ensure_ascii`: quotes and backslashes escaped, `\n`,
/// `\r`, `\t`, `\b`, `\f` short, everything else outside ` `..`~` as
/// `\uXXXX` (astral characters as surrogate pairs).
pub(crate) fn string(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let code = u32::from(c);
                if let Some(b @ 0x80..=0xFF) = code.checked_sub(ESCAPED_BYTE) {
                    let _ = write!(out, "\\udc{b:02x}");
                } else {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
            }
        }
    }
    out.push('"');
}
