//! Form bodies and query strings as mitmproxy 11 reads them:
//! `urllib.parse.parse_qsl(..., keep_blank_values=True)` (what
//! `Request.urlencoded_form` and server replay's query matching use),
//! `Request.urlencoded_form`'s text (the charset, Latin-1 by default) and
//! `net.http.multipart.decode_multipart`, quirks included (a part's lines
//! are joined without their line breaks). Pure functions, no I/O.
//!
//! Python works on `str`; here a `str` is its UTF-8 bytes, with the
//! undecodable bytes of `surrogateescape` kept as the bytes they were:
//! two strings are equal exactly when their bytes are.

/// How `unquote` decodes the bytes `%xx` escapes give: `replace` (the
/// default of `parse_qsl`, so of query strings) or `surrogateescape`
/// (what `url.decode` asks for, so form bodies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errors {
    /// Undecodable bytes become U+FFFD.
    Replace,
    /// Undecodable bytes stay what they were.
    SurrogateEscape,
}

/// `parse_qsl(qs, keep_blank_values=True, errors=...)` (Python 3.11): pairs
/// split on `&` (empty pieces skipped), then on the first `=` (none: the
/// value is empty), `+` read as a space, `%xx` decoded.
pub fn parse_qsl(qs: &[u8], errors: Errors) -> Vec<(Vec<u8>, Vec<u8>)> {
    qs.split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, &b""[..]),
            };
            (unquote_plus(name, errors), unquote_plus(value, errors))
        })
        .collect()
}

/// [`parse_qsl`] written as the boundary's items (name, value, name, ...:
/// each a 4-byte little-endian length and its bytes) onto `out`, with no
/// pair built on the way unless a `%` escape needs decoding.
pub fn parse_qsl_items(qs: &[u8], errors: Errors, out: &mut Vec<u8>) {
    for piece in qs.split(|&b| b == b'&').filter(|piece| !piece.is_empty()) {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &b""[..]),
        };
        for part in [name, value] {
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            if part.contains(&b'%') {
                out.extend_from_slice(&unquote_plus(part, errors));
            } else {
                out.extend(part.iter().map(|&b| if b == b'+' { b' ' } else { b }));
            }
            let len = (out.len() - at - 4) as u32;
            out[at..at + 4].copy_from_slice(&len.to_le_bytes());
        }
    }
}

fn unquote_plus(s: &[u8], errors: Errors) -> Vec<u8> {
    let spaced: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    unquote(&spaced, errors)
}

/// `urllib.parse.unquote`: each run of ASCII characters has its `%xx`
/// escapes decoded as UTF-8 with `errors`; other characters stay.
pub fn unquote(s: &[u8], errors: Errors) -> Vec<u8> {
    if !s.contains(&b'%') {
        return s.to_vec();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let ascii = s[i].is_ascii();
        let end = s[i..]
            .iter()
            .position(|b| b.is_ascii() != ascii)
            .map_or(s.len(), |n| i + n);
        let run = &s[i..end];
        if ascii {
            let bytes = unquote_to_bytes(run);
            match errors {
                Errors::Replace => {
                    out.extend_from_slice(String::from_utf8_lossy(&bytes).as_bytes())
                }
                Errors::SurrogateEscape => out.extend_from_slice(&bytes),
            }
        } else {
            out.extend_from_slice(run);
        }
        i = end;
    }
    out
}

/// `unquote_to_bytes`: `%` and two hex digits become that byte; anything
/// else stays.
fn unquote_to_bytes(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// `headers.parse_content_type`: type and subtype (lowercased) and the
/// parameters (names and values trimmed, values not unquoted; a later
/// parameter of the same name wins). `None` without a `/`.
#[allow(clippy::type_complexity)]
pub fn parse_content_type(value: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)> {
    let (media, params) = match value.iter().position(|&b| b == b';') {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    let slash = media.iter().position(|&b| b == b'/')?;
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for clause in params.into_iter().flat_map(|p| p.split(|&b| b == b';')) {
        if let Some(eq) = clause.iter().position(|&b| b == b'=') {
            let name = py_strip(&clause[..eq]).to_vec();
            let value = py_strip(&clause[eq + 1..]).to_vec();
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => out.push((name, value)),
            }
        }
    }
    Some((
        media[..slash].to_ascii_lowercase(),
        media[slash + 1..].to_ascii_lowercase(),
        out,
    ))
}

/// `str.strip()` for the ASCII whitespace a header holds.
fn py_strip(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| {
        matches!(
            b,
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' | 0x1c..=0x1f
        )
    };
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// The text `Request.urlencoded_form` parses: the body (already decoded
/// per Content-Encoding) read in the Content-Type's charset, Latin-1 when
/// there is none. UTF-8 (or a charset that fails or is not one of these)
/// keeps the bytes, as `get_text(strict=False)` falls back to UTF-8 with
/// `surrogateescape`. Other real codecs are read that way too: an
/// approximation for charsets no form sender uses.
pub fn form_text(content_type: &[u8], body: &[u8]) -> Vec<u8> {
    let charset = parse_content_type(content_type).and_then(|(_, _, params)| {
        params
            .into_iter()
            .find(|(n, _)| n == b"charset")
            .map(|(_, v)| v)
    });
    let latin1 = match charset {
        None => true,
        Some(c) => {
            let c = String::from_utf8_lossy(&c)
                .to_ascii_lowercase()
                .replace(['-', ' '], "_");
            matches!(
                c.as_str(),
                "latin_1"
                    | "latin1"
                    | "latin"
                    | "l1"
                    | "iso_8859_1"
                    | "iso8859_1"
                    | "8859"
                    | "cp819"
                    | "iso_ir_100"
            )
        }
    };
    if latin1 {
        body.iter()
            .map(|&b| b as char)
            .collect::<String>()
            .into_bytes()
    } else {
        body.to_vec()
    }
}

/// `Request.urlencoded_form`'s items: empty unless the Content-Type holds
/// `application/x-www-form-urlencoded`; `body` is the content as
/// `get_content(strict=False)` gives it (`None`: not kept).
pub fn urlencoded_form(content_type: &[u8], body: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let ct = content_type.to_ascii_lowercase();
    if !contains(&ct, b"application/x-www-form-urlencoded") {
        return Vec::new();
    }
    match body {
        Some(body) => parse_qsl(&form_text(content_type, body), Errors::SurrogateEscape),
        None => Vec::new(),
    }
}

/// `Request.multipart_form`'s items: empty unless the Content-Type holds
/// `multipart/form-data` and the body parses.
pub fn multipart_form(content_type: &[u8], body: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let ct = content_type.to_ascii_lowercase();
    match body {
        Some(body) if contains(&ct, b"multipart/form-data") => {
            decode_multipart(content_type, body).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `multipart.decode_multipart`: the body split on `--` and the
/// `boundary` parameter (as written, quotes included; non-ASCII: no
/// items); of each piece with two lines or more whose first does not start
/// with `--`, the `name="..."` of its second line, and the lines after the
/// first empty one from the third on, joined with nothing. `None` where
/// mitmproxy raises (a named part without an empty line), which
/// `multipart_form` reads as no items.
pub fn decode_multipart(content_type: &[u8], body: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if content_type.is_empty() {
        return Some(Vec::new());
    }
    let Some((_, _, params)) = parse_content_type(content_type) else {
        return Some(Vec::new());
    };
    let Some(boundary) = params
        .into_iter()
        .find(|(n, _)| n == b"boundary")
        .map(|(_, v)| v)
        .filter(|b| b.is_ascii())
    else {
        return Some(Vec::new());
    };
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(&boundary);
    let mut items = Vec::new();
    for piece in split_on(body, &delimiter) {
        let lines = splitlines(piece);
        if lines.len() > 1
            && !lines[0].starts_with(b"--")
            && let Some(name) = form_name(lines[1])
        {
            let blank = lines[2..].iter().position(|l| l.is_empty())?;
            let value: Vec<u8> = lines[3 + blank..].concat();
            items.push((name.to_vec(), value));
        }
    }
    Some(items)
}

/// `bytes.split(sep)` (sep not empty).
fn split_on<'a>(s: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= s.len() {
        if &s[i..i + sep.len()] == sep {
            out.push(&s[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// `bytes.splitlines()`: on `\n`, `\r` and `\r\n`, no empty last line.
fn splitlines(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < s.len() {
        match s[i] {
            b'\n' => {
                out.push(&s[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                out.push(&s[start..i]);
                i += if s.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The first match of `\bname="([^"]+)"` (ASCII word boundary).
fn form_name(line: &[u8]) -> Option<&[u8]> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(at) = line[from..]
        .windows(6)
        .position(|w| w == b"name=\"")
        .map(|p| from + p)
    {
        let boundary = at == 0 || !word(line[at - 1]);
        let rest = &line[at + 6..];
        if boundary
            && let Some(end) = rest.iter().position(|&b| b == b'"')
            && end > 0
        {
            return Some(&rest[..end]);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests;
