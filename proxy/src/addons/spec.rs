//! The pieces of mitmproxy's rewriting specs: `[/filter]/subject/value`
//! split on its first character (`utils.spec.parse_spec`), Python byte
//! escapes (`strutils.escaped_str_to_bytes`), and `re.sub` with Python's
//! replacement templates and empty-match rules.

use crate::filter::{Filter, FilterError};

/// A spec split into its filter (none: every flow), subject and value.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) filter: Option<Filter>,
    pub(crate) subject: String,
    pub(crate) value: String,
}

/// Why a spec is malformed (the caller names the option).
#[derive(Debug)]
pub(crate) enum SpecProblem {
    /// Not 2 or 3 parts.
    Parts(usize),
    /// Empty spec.
    Empty,
    /// The filter part.
    Filter(FilterError),
}

/// `parse_spec`: the first character separates the parts; the value may
/// contain it (at most three parts are split off).
pub(crate) fn parse_spec(spec: &str) -> Result<Parts, SpecProblem> {
    let mut chars = spec.chars();
    let Some(sep) = chars.next() else {
        return Err(SpecProblem::Empty);
    };
    let parts: Vec<&str> = chars.as_str().splitn(3, sep).collect();
    match parts.as_slice() {
        [subject, value] => Ok(Parts {
            filter: None,
            subject: (*subject).to_owned(),
            value: (*value).to_owned(),
        }),
        [filter, subject, value] => Ok(Parts {
            filter: Some(Filter::parse(filter).map_err(SpecProblem::Filter)?),
            subject: (*subject).to_owned(),
            value: (*value).to_owned(),
        }),
        other => Err(SpecProblem::Parts(other.len())),
    }
}

/// Python's `codecs.escape_decode` of the text's UTF-8: `\n`, `\t`,
/// `\xhh`, octal, `\\`, `\'`, `\"` and the like become bytes; an unknown
/// escape stays as it is (backslash included).
pub(crate) fn escape_decode(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let Some(&c) = b.get(i + 1) else {
            return Err("Trailing \\ in string".into());
        };
        i += 2;
        match c {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(c),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(9),
            b'n' => out.push(10),
            b'r' => out.push(13),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            b'x' => {
                let hex = b.get(i..i + 2).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    h.bytes()
                        .all(|d| d.is_ascii_hexdigit())
                        .then(|| u8::from_str_radix(h, 16).ok())?
                });
                let Some(byte) = hex else {
                    return Err(format!("invalid \\x escape at position {}", i - 2));
                };
                out.push(byte);
                i += 2;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// One piece of a replacement template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    Group(usize),
}

/// A Python `re.sub` replacement template: `\1`, `\g<1>`, `\g<name>`,
/// `\n` and friends; other escapes of punctuation stay as written, of
/// ASCII letters are errors.
#[derive(Clone, Debug)]
pub(crate) struct Template(Vec<Piece>);

impl Template {
    /// Compiles `template` for a regex with `groups` groups (group 0
    /// included) named `names`.
    pub(crate) fn new(
        template: &[u8],
        groups: usize,
        names: &[(String, usize)],
        text: bool,
    ) -> Result<Template, String> {
        // An octal escape is a byte in a bytes template, a character (its
        // UTF-8) in a text one.
        let octal_value = |literal: &mut Vec<u8>, value: u32| {
            if text {
                let c = char::from_u32(value).unwrap_or('\u{fffd}');
                literal.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            } else {
                literal.push(value as u8);
            }
        };
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut i = 0;
        let group = |n: usize| {
            if n < groups {
                Ok(n)
            } else {
                Err(format!("invalid group reference {n}"))
            }
        };
        while i < template.len() {
            let c = template[i];
            if c != b'\\' {
                literal.push(c);
                i += 1;
                continue;
            }
            let Some(&e) = template.get(i + 1) else {
                return Err("bad escape (end of pattern)".into());
            };
            i += 2;
            let reference = match e {
                b'g' => {
                    if template.get(i) != Some(&b'<') {
                        return Err("missing <".into());
                    }
                    let end = template[i..]
                        .iter()
                        .position(|&b| b == b'>')
                        .ok_or("missing >, unterminated name")?;
                    let name = String::from_utf8_lossy(&template[i + 1..i + end]).into_owned();
                    i += end + 1;
                    if name.is_empty() {
                        return Err("missing group name".into());
                    }
                    let n = if name.bytes().all(|b| b.is_ascii_digit()) {
                        name.parse::<usize>().unwrap_or(usize::MAX)
                    } else {
                        names
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map(|(_, i)| *i)
                            .ok_or_else(|| format!("unknown group name '{name}'"))?
                    };
                    Some(group(n)?)
                }
                b'0' => {
                    let mut value = 0u32;
                    for _ in 0..2 {
                        match template.get(i) {
                            Some(d @ b'0'..=b'7') => {
                                value = value * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    octal_value(&mut literal, value);
                    None
                }
                b'1'..=b'9' => {
                    let d1 = template.get(i).copied();
                    let d2 = template.get(i + 1).copied();
                    let octal = |d: Option<u8>| d.is_some_and(|d| (b'0'..=b'7').contains(&d));
                    if e <= b'7' && octal(d1) && octal(d2) {
                        let value = u32::from(e - b'0') * 64
                            + u32::from(d1.unwrap_or(b'0') - b'0') * 8
                            + u32::from(d2.unwrap_or(b'0') - b'0');
                        if value > 0o377 {
                            return Err(format!(
                                "octal escape value \\{}{}{} outside of range 0-0o377",
                                char::from(e),
                                char::from(d1.unwrap_or(b'0')),
                                char::from(d2.unwrap_or(b'0'))
                            ));
                        }
                        octal_value(&mut literal, value);
                        i += 2;
                        None
                    } else {
                        let mut n = usize::from(e - b'0');
                        if let Some(d @ b'0'..=b'9') = d1 {
                            n = n * 10 + usize::from(d - b'0');
                            i += 1;
                        }
                        Some(group(n)?)
                    }
                }
                b'a' => push(&mut literal, 7),
                b'b' => push(&mut literal, 8),
                b'f' => push(&mut literal, 12),
                b'n' => push(&mut literal, 10),
                b'r' => push(&mut literal, 13),
                b't' => push(&mut literal, 9),
                b'v' => push(&mut literal, 11),
                b'\\' => push(&mut literal, b'\\'),
                c if c.is_ascii_alphabetic() => {
                    return Err(format!("bad escape \\{}", char::from(c)));
                }
                c => {
                    literal.push(b'\\');
                    literal.push(c);
                    None
                }
            };
            if let Some(n) = reference {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Group(n));
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Template(pieces))
    }

    /// For a bytes regex.
    pub(crate) fn for_bytes(template: &[u8], re: &regex::bytes::Regex) -> Result<Template, String> {
        let names: Vec<(String, usize)> = re
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| Some((n?.to_owned(), i)))
            .collect();
        Template::new(template, re.captures_len(), &names, false)
    }

    /// For a text regex.
    pub(crate) fn for_text(template: &str, re: &regex::Regex) -> Result<Template, String> {
        let names: Vec<(String, usize)> = re
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| Some((n?.to_owned(), i)))
            .collect();
        Template::new(template.as_bytes(), re.captures_len(), &names, true)
    }

    fn expand(
        &self,
        group: impl Fn(usize) -> Option<(usize, usize)>,
        haystack: &[u8],
        out: &mut Vec<u8>,
    ) {
        for piece in &self.0 {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                Piece::Group(n) => {
                    if let Some((start, end)) = group(*n) {
                        out.extend_from_slice(&haystack[start..end]);
                    }
                }
            }
        }
    }
}

fn push(literal: &mut Vec<u8>, byte: u8) -> Option<usize> {
    literal.push(byte);
    None
}

/// `re.sub(regex, template, haystack)` over bytes: every match replaced,
/// an empty match right after a previous match allowed (Python 3.7+).
pub(crate) fn sub_bytes(re: &regex::bytes::Regex, template: &Template, haystack: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let (mut last, mut pos, mut must_advance) = (0, 0, false);
    while pos <= haystack.len() {
        let Some(caps) = re.captures_at(haystack, pos) else {
            break;
        };
        let m = caps.get(0).expect("group 0 is the match");
        if must_advance && m.start() == pos && m.end() == pos {
            pos += 1;
            must_advance = false;
            continue;
        }
        out.extend_from_slice(&haystack[last..m.start()]);
        template.expand(
            |n| caps.get(n).map(|g| (g.start(), g.end())),
            haystack,
            &mut out,
        );
        last = m.end();
        must_advance = m.start() == m.end();
        pos = m.end();
    }
    out.extend_from_slice(&haystack[last..]);
    out
}

/// `re.sub` over text, as [`sub_bytes`].
pub(crate) fn sub_text(re: &regex::Regex, template: &Template, haystack: &str) -> String {
    let mut out = Vec::with_capacity(haystack.len());
    let (mut last, mut pos, mut must_advance) = (0, 0, false);
    while pos <= haystack.len() {
        let Some(caps) = re.captures_at(haystack, pos) else {
            break;
        };
        let m = caps.get(0).expect("group 0 is the match");
        if must_advance && m.start() == pos && m.end() == pos {
            pos += haystack[pos..].chars().next().map_or(1, char::len_utf8);
            must_advance = false;
            continue;
        }
        out.extend_from_slice(&haystack.as_bytes()[last..m.start()]);
        template.expand(
            |n| caps.get(n).map(|g| (g.start(), g.end())),
            haystack.as_bytes(),
            &mut out,
        );
        last = m.end();
        must_advance = m.start() == m.end();
        pos = m.end();
    }
    out.extend_from_slice(&haystack.as_bytes()[last..]);
    String::from_utf8_lossy(&out).into_owned()
}
