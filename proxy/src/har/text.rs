//! The text helpers HAR needs, as Python does them: charsets
//! (`infer_content_encoding` and the codecs it names), base64,
//! `is_mostly_bin`, and timestamps as ISO 8601.

use super::json::py_str;
use crate::http::message::charset::{self, Charset};

/// A Content-Type's type, subtype and parameters.
pub(crate) type ContentType = (String, String, Vec<(String, String)>);

/// `parse_content_type`: type, subtype and parameters, or `None` without
/// a `/`.
pub(crate) fn parse_content_type(c: &str) -> Option<ContentType> {
    let (head, params) = match c.split_once(';') {
        Some((h, p)) => (h, Some(p)),
        None => (c, None),
    };
    let (ty, sub) = head.split_once('/')?;
    let mut d: Vec<(String, String)> = Vec::new();
    for clause in params.into_iter().flat_map(|p| p.split(';')) {
        if let Some((k, v)) = clause.split_once('=') {
            let (k, v) = (py_strip(k), py_strip(v));
            match d.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v.to_owned(),
                None => d.push((k.to_owned(), v.to_owned())),
            }
        }
    }
    Some((ty.to_lowercase(), sub.to_lowercase(), d))
}

/// `str.strip()` (Unicode whitespace).
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// `assemble_content_type`.
pub(crate) fn assemble_content_type(ty: &str, sub: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return format!("{ty}/{sub}");
    }
    let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{ty}/{sub}; {}", params.join("; "))
}

/// `infer_content_encoding(content_type, content)`: the charset a body is
/// in, by mitmproxy's rules; latin-1 when nothing says.
pub(crate) fn infer_content_encoding(content_type: &str, content: &[u8]) -> String {
    charset::infer(content_type.as_bytes(), content)
}

/// `codecs.decode(content, enc)`, strict; `None` where Python raises, and
/// for a charset Waylay has no codec for (callers take mitmproxy's
/// fallback, UTF-8; for charsets such as Shift_JIS mitmproxy would decode
/// instead).
pub(crate) fn decode(content: &[u8], enc: &str) -> Option<String> {
    Charset::lookup(enc.trim()).decode(content)
}

/// `codecs.encode(text, enc)`, strict; `None` where Python raises. Text
/// holding undecodable bytes (kept as Python's surrogates, which this
/// module's JSON maps to U+10FF80 and up) does not encode, as in Python.
pub(crate) fn encode(text: &str, enc: &str) -> Option<Vec<u8>> {
    if text.chars().any(|c| u32::from(c) >= 0x10_FF80) {
        return None;
    }
    Charset::lookup(enc.trim()).encode(text)
}

/// `Message.get_text(strict=False)` on a body: decoded with its charset,
/// or as UTF-8 with undecodable bytes kept (`surrogateescape`).
pub(crate) fn body_text(content: &[u8], content_type: &str) -> String {
    let enc = infer_content_encoding(content_type, content);
    decode(content, &enc).unwrap_or_else(|| py_str(content))
}

/// `strutils.is_mostly_bin`.
pub(crate) fn is_mostly_bin(s: &[u8]) -> bool {
    if s.is_empty() {
        return false;
    }
    let head = &s[..s.len().min(100)];
    let odd = head
        .iter()
        .filter(|&&i| i < 9 || (13 < i && i < 32) || 126 < i)
        .count();
    odd as f64 / head.len() as f64 > 0.3
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `base64.b64encode(data).decode()`.
pub(crate) fn b64encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `base64.b64decode(text)` (not validating: other characters are
/// skipped, as binascii does); the error is Python's.
pub(crate) fn b64decode(text: &str) -> Result<Vec<u8>, String> {
    if !text.is_ascii() {
        return Err("string argument should contain only ASCII characters".into());
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut quad, mut left, mut pads, mut data_chars) = (0u8, 0u32, 0u32, 0usize);
    for &c in text.as_bytes() {
        if c == b'=' {
            pads += 1;
            if quad >= 2 && u32::from(quad) + pads >= 4 {
                return Ok(out);
            }
            continue;
        }
        let Some(v) = B64.iter().position(|&b| b == c) else {
            continue;
        };
        let v = v as u32;
        data_chars += 1;
        pads = 0;
        match quad {
            0 => {
                left = v;
                quad = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0xF;
                quad = 2;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x3;
                quad = 3;
            }
            _ => {
                out.push(((left << 6) | v) as u8);
                quad = 0;
            }
        }
    }
    match quad {
        0 => Ok(out),
        1 => Err(format!(
            "invalid base64: the number of data characters ({data_chars}) cannot be 1 more than a multiple of 4"
        )),
        _ => Err("invalid base64: incorrect padding".into()),
    }
}

/// `datetime.fromtimestamp(ts, timezone.utc).isoformat()`: microseconds
/// rounded half to even, left out when zero. Python raises outside years
/// 1 to 9999; those (and NaN) are written as the epoch.
pub(crate) fn iso_utc(ts: f64) -> String {
    const MIN: f64 = -62_135_596_800.0; // 0001-01-01
    const MAX: f64 = 253_402_300_800.0; // 10000-01-01
    let ts = if ts.is_finite() && (MIN..MAX).contains(&ts) {
        ts
    } else {
        0.0
    };
    let mut secs = ts.trunc();
    let mut us = ((ts - secs) * 1e6).round_ties_even();
    if us >= 1e6 {
        us -= 1e6;
        secs += 1.0;
    } else if us < 0.0 {
        us += 1e6;
        secs -= 1.0;
    }
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::dates::civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let us = us as i64;
    if us == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+00:00")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{us:06}+00:00")
    }
}

/// `datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()` for
/// Python 3.11's formats: `YYYY-MM-DD` (or `YYYYMMDD`), any one separator
/// character, `HH[:MM[:SS[.f+]]]` (or without colons), and an offset
/// `Z`, `±HH[:MM[:SS[.f]]]`. A time without an offset is taken as UTC
/// (Python would take the machine's local time).
pub(crate) fn parse_iso(text: &str) -> Result<f64, String> {
    let text = text.replace('Z', "+00:00");
    let bad = || format!("{text:?} is not an ISO 8601 date and time");
    let chars: Vec<char> = text.chars().collect();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let s: String = chars.get(from..from + n)?.iter().collect();
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    // The date.
    let (y, m, d, mut at) = if chars.get(4) == Some(&'-') {
        if chars.get(7) != Some(&'-') {
            return Err(bad());
        }
        (digits(0, 4), digits(5, 2), digits(8, 2), 10)
    } else {
        (digits(0, 4), digits(4, 2), digits(6, 2), 8)
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(bad());
    };
    let month_days = [
        31,
        if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) {
            29
        } else {
            28
        },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1 || !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return Err(bad());
    }
    let mut total_us = crate::dates::days_from_civil(y, m, d) * 86_400_000_000;
    if at < chars.len() {
        at += 1; // the separator, whatever it is
        let (time_us, next) = parse_time(&chars, at, true).ok_or_else(bad)?;
        total_us += time_us;
        at = next;
        if at < chars.len() {
            let sign = match chars[at] {
                '+' => -1,
                '-' => 1,
                _ => return Err(bad()),
            };
            let (offset_us, next) = parse_time(&chars, at + 1, false).ok_or_else(bad)?;
            if next != chars.len() || offset_us >= 86_400_000_000 {
                return Err(bad());
            }
            total_us += sign * offset_us;
        }
    }
    Ok(total_us as f64 / 1e6)
}

/// `HH[:MM[:SS[.ffffff]]]` (or `HHMMSS`) at `at`: microseconds into the
/// day and where it ends (at an offset sign or the end).
fn parse_time(chars: &[char], mut at: usize, allow_fraction: bool) -> Option<(i64, usize)> {
    let two = |at: usize| -> Option<i64> {
        let (a, b) = (
            chars.get(at)?.to_digit(10)?,
            chars.get(at + 1)?.to_digit(10)?,
        );
        Some(i64::from(a * 10 + b))
    };
    let mut parts = [0i64; 3];
    let mut colons = None;
    for (i, part) in parts.iter_mut().enumerate() {
        *part = two(at)?;
        at += 2;
        match chars.get(at) {
            Some(':') if i < 2 && colons != Some(false) => {
                colons = Some(true);
                at += 1;
            }
            Some(c) if c.is_ascii_digit() && i < 2 && colons != Some(true) => colons = Some(false),
            _ => break,
        }
    }
    let [hh, mm, ss] = parts;
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let mut us = 0;
    if matches!(chars.get(at), Some('.' | ',')) {
        at += 1;
        let start = at;
        while chars.get(at).is_some_and(char::is_ascii_digit) {
            at += 1;
        }
        if at == start || (!allow_fraction && at - start != 6) {
            return None;
        }
        let frac: String = chars[start..at.min(start + 6)].iter().collect();
        us = format!("{frac:0<6}").parse().ok()?;
    }
    Some((((hh * 60 + mm) * 60 + ss) * 1_000_000 + us, at))
}
