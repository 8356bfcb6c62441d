//! A draft as raw HTTP text, and back: the request line (with the whole
//! URL, or a path and a Host header), header lines, a blank line, the
//! body.

use super::Draft;
use crate::view::Invalid;

/// The draft as text; lines end in `\n`.
pub fn write(draft: &Draft) -> String {
    let mut out = format!("{} {} {}\n", draft.method, draft.url, draft.http_version);
    for (name, value) in &draft.headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&String::from_utf8_lossy(&draft.body));
    out
}

/// Where the head ends and the body starts: after the first blank line
/// (`\r\n\r\n` or `\n\n`), or nowhere.
fn split_head(text: &str) -> (&str, &str) {
    let crlf = text.find("\r\n\r\n").map(|i| (i, i + 4));
    let lf = text.find("\n\n").map(|i| (i, i + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => {
            let (end, body) = if a.0 < b.0 { a } else { b };
            (&text[..end], &text[body..])
        }
        (Some((end, body)), None) | (None, Some((end, body))) => (&text[..end], &text[body..]),
        (None, None) => (text, ""),
    }
}

/// Reads raw HTTP text; `scheme` completes a request line that holds a
/// path only.
pub fn read(text: &str, scheme: &str) -> Result<Draft, Invalid> {
    let (head, body) = split_head(text.trim_start_matches(['\r', '\n']));
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(Invalid::at(
            "line 1",
            format!("expected `METHOD URL HTTP/1.1`, found {first:?}"),
        ));
    };
    let version = parts.next().unwrap_or("HTTP/1.1");
    if parts.next().is_some() || !method.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid::at(
            "line 1",
            format!("expected `METHOD URL HTTP/1.1`, found {first:?}"),
        ));
    }
    let mut headers = Vec::new();
    for (i, line) in lines.enumerate() {
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
            _ => {
                return Err(Invalid::at(
                    format!("line {}", i + 2),
                    format!("expected `Name: value`, found {line:?}"),
                ));
            }
        }
    }
    let lower = target.to_ascii_lowercase();
    let url = if lower.starts_with("http://") || lower.starts_with("https://") {
        target.to_owned()
    } else if target.starts_with('/') {
        let host = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.as_str())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Invalid::at(
                    "line 1",
                    format!("{target:?} is a path; give the whole URL, or a Host header"),
                )
            })?;
        if host.contains(|c: char| c.is_whitespace() || c.is_control() || "/?#@".contains(c)) {
            return Err(Invalid::Whole(format!(
                "the Host header {host:?} is not a host[:port]; give the whole URL on line 1"
            )));
        }
        format!("{scheme}://{host}{target}")
    } else {
        return Err(Invalid::at(
            "line 1",
            format!("{target:?} is not a URL; expected http://… or https://…, or a path"),
        ));
    };
    Ok(Draft {
        method: method.to_owned(),
        url,
        http_version: version.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    })
}
