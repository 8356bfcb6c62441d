//! Python's `str()` and `repr()` of the values a flow file holds, for
//! `~meta`, which matches `"key: value"` lines built with `str(value)`.

use crate::tnetstring::Value;

/// `str(value)`: text as it is, everything else as `repr`.
pub(super) fn py_str(value: &Value) -> String {
    match value {
        Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
        other => py_repr(other),
    }
}

/// `repr(value)`.
pub(super) fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => crate::tnetstring::py_float_repr(*f),
        Value::Text(t) => str_repr(&String::from_utf8_lossy(t)),
        Value::Bytes(b) => bytes_repr(b),
        Value::List(_) => {
            let items: Vec<String> = value.as_list().unwrap_or(&[]).iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Dict(d) => {
            let items: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// The quote Python picks: `'` unless the text has one and no `"`.
fn quote(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double { '"' } else { '\'' }
}

fn str_repr(s: &str) -> String {
    let q = quote(s.contains('\''), s.contains('"'));
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(q);
    out
}

fn bytes_repr(b: &[u8]) -> String {
    let q = quote(b.contains(&b'\''), b.contains(&b'"'));
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(q);
    for &byte in b {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if char::from(c) == q => {
                out.push('\\');
                out.push(q);
            }
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(q);
    out
}

/// `str.isprintable` for one character, as far as std can tell: control
/// and format characters, separators other than the space, and private
/// use are not.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
            | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
            | 0xe000..=0xf8ff | 0xf0000..)
        || (0xd800..=0xdfff).contains(&u))
}

#[cfg(test)]
mod tests {
    use super::{py_repr, py_str};
    use crate::tnetstring::Value;

    #[test]
    fn reprs() {
        assert_eq!(py_str(&Value::text("a'b")), "a'b");
        assert_eq!(py_repr(&Value::text("a'b")), "\"a'b\"");
        assert_eq!(py_repr(&Value::text("it's \"q\"")), "'it\\'s \"q\"'");
        assert_eq!(py_repr(&Value::bytes(b"\x00x'")), "b\"\\x00x'\"");
        assert_eq!(py_repr(&Value::Float(3.25)), "3.25");
        assert_eq!(
            py_repr(&Value::list(vec![
                Value::Int(1),
                Value::text("b"),
                Value::Null
            ])),
            "[1, 'b', None]"
        );
        assert_eq!(py_repr(&Value::text("é\u{a0}\n")), "'é\\xa0\\n'");
    }
}
