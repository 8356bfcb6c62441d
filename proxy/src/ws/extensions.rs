//! Reading the permessage-deflate parameters a server agreed to from the
//! `Sec-WebSocket-Extensions` fields of its 101 response (RFC 7692
//! section 7.1, RFC 6455 section 9.1's grammar).

use super::WsError;

/// The permessage-deflate parameters a server agreed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deflate {
    /// The server compresses each message with a fresh context.
    pub server_no_context_takeover: bool,
    /// The client compresses each message with a fresh context.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window is at most 2^this bytes: 8..=15.
    pub server_max_window_bits: u8,
    /// The client's LZ77 window is at most 2^this bytes: 8..=15.
    pub client_max_window_bits: u8,
}

impl Default for Deflate {
    /// permessage-deflate with no parameters: context takeover both ways,
    /// 32 KiB windows.
    fn default() -> Self {
        Deflate {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// Reads `Sec-WebSocket-Extensions` values of a 101 response (all of
/// them, comma lists, params with or without quotes) and returns the
/// agreed permessage-deflate parameters, or None if it was not agreed. Err
/// for a malformed permessage-deflate offer. Other extensions are skipped.
pub fn agreed_deflate<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<Deflate>, WsError> {
    let mut agreed = None;
    for value in values {
        for extension in split_unquoted(value, b',') {
            let mut parts = split_unquoted(extension, b';').into_iter();
            let name = parts.next().unwrap_or_default().trim_ascii();
            if !name.eq_ignore_ascii_case(b"permessage-deflate") {
                continue;
            }
            if agreed.is_some() {
                return Err(malformed("permessage-deflate is agreed to more than once"));
            }
            agreed = Some(parameters(parts)?);
        }
    }
    Ok(agreed)
}

fn malformed(what: impl Into<String>) -> WsError {
    WsError::Extension(what.into())
}

/// The parameters after `permessage-deflate`, each at most once.
fn parameters<'a>(params: impl Iterator<Item = &'a [u8]>) -> Result<Deflate, WsError> {
    let mut deflate = Deflate::default();
    let mut seen = [false; 4];
    for param in params {
        let (name, value) = match param.iter().position(|&b| b == b'=') {
            Some(i) => (
                param[..i].trim_ascii(),
                Some(unquote(param[i + 1..].trim_ascii())),
            ),
            None => (param.trim_ascii(), None),
        };
        let shown = String::from_utf8_lossy(name).into_owned();
        let which = [
            &b"server_no_context_takeover"[..],
            b"client_no_context_takeover",
            b"server_max_window_bits",
            b"client_max_window_bits",
        ]
        .iter()
        .position(|known| name.eq_ignore_ascii_case(known))
        .ok_or_else(|| match shown.as_str() {
            "" => malformed("an empty parameter (a stray ';')"),
            _ => malformed(format!("unknown parameter {shown:?}")),
        })?;
        if std::mem::replace(&mut seen[which], true) {
            return Err(malformed(format!("{shown} is given twice")));
        }
        match (which, value) {
            (0 | 1, Some(_)) => return Err(malformed(format!("{shown} takes no value"))),
            (0, None) => deflate.server_no_context_takeover = true,
            (1, None) => deflate.client_no_context_takeover = true,
            (_, None) => {
                return Err(malformed(format!(
                    "{shown} has no value (a server's response must give one)"
                )));
            }
            (_, Some(value)) => {
                let bits = window_bits(value?)
                    .ok_or_else(|| malformed(format!("{shown} must be 8 to 15")))?;
                if which == 2 {
                    deflate.server_max_window_bits = bits;
                } else {
                    deflate.client_max_window_bits = bits;
                }
            }
        }
    }
    Ok(deflate)
}

/// A window size: a decimal 8 to 15, no leading zero (RFC 7692 section
/// 7.1.2.1).
fn window_bits(value: Vec<u8>) -> Option<u8> {
    match value[..] {
        [d @ b'8'..=b'9'] => Some(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Some(10 + d - b'0'),
        _ => None,
    }
}

/// A token as is, or a quoted-string's content with its escapes undone.
fn unquote(value: &[u8]) -> Result<Vec<u8>, WsError> {
    let Some(inner) = value.strip_prefix(b"\"") else {
        return Ok(value.to_vec());
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'"' if bytes.as_slice().is_empty() => return Ok(out),
            b'"' => break,
            b'\\' => out.push(*bytes.next().unwrap_or(&b'\\')),
            b => out.push(b),
        }
    }
    Err(malformed(format!(
        "the quoted value {} is not closed properly",
        String::from_utf8_lossy(value)
    )))
}

/// `value` split at each `sep` outside double quotes; empty pieces (RFC
/// 9110's list rule allows them) dropped, except the parameter list's.
fn split_unquoted(value: &[u8], sep: u8) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in value.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b if b == sep && !quoted => {
                pieces.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&value[start..]);
    if sep == b',' {
        pieces.retain(|p| !p.trim_ascii().is_empty());
    }
    pieces
}

#[cfg(test)]
mod tests;
