//! A flow as a command or as bytes, as mitmproxy 11's `export` addon makes
//! them: `curl`, `httpie`, `raw_request`, `raw_response` and `raw`.

use std::fmt;

use crate::flow::Flow;
use crate::http::{self, message, url};
use crate::tnetstring::{Dict, Value};

/// Why a flow cannot be exported in a format: mitmproxy's words, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// A TCP, UDP or DNS flow, which only `raw` of HTTP exports.
    NotHttp,
    /// The flow has no request.
    NoRequest,
    /// The flow has no response.
    NoResponse,
    /// The flow has neither with a body kept.
    NoMessage,
    /// The request's body was not kept (streamed).
    RequestContentMissing,
    /// The response's body was not kept (streamed).
    ResponseContentMissing,
    /// A command line needs the request's body as text, and it is not.
    NotUnicode,
    /// Trailers on a message that is not chunked.
    TrailersWithoutChunked,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExportError::NotHttp => "only HTTP flows can be exported",
            ExportError::NoRequest => "Can't export flow with no request.",
            ExportError::NoResponse => "Can't export flow with no response.",
            ExportError::NoMessage => "Can't export flow with no request or response.",
            ExportError::RequestContentMissing => "Request content missing.",
            ExportError::ResponseContentMissing => "Response content missing.",
            ExportError::NotUnicode => "Request content must be valid unicode",
            ExportError::TrailersWithoutChunked => {
                "Sending HTTP/1.1 trailer headers requires transfer-encoding: chunked"
            }
        })
    }
}

impl std::error::Error for ExportError {}

/// `shlex.quote`.
fn quote(arg: &str) -> String {
    if arg.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if arg.chars().all(safe) {
        return arg.to_owned();
    }
    format!("'{}'", arg.replace('\'', "'\"'\"'"))
}

/// `cleanup_request`: a copy with the body decoded (or kept raw when it
/// can't be) and Content-Encoding gone.
fn cleanup(msg: &Dict) -> Dict {
    let mut msg = msg.clone();
    let decoded = http::content_or_raw(&msg);
    http::remove_header(&mut msg, b"content-encoding");
    if let Some(body) = decoded {
        http::set_decoded_content(&mut msg, &body);
    }
    msg
}

/// `pop_headers`: without Content-Length, and without Host or
/// `:authority` when they only repeat the host.
fn pop_headers(req: &mut Dict) {
    http::remove_header(req, b"content-length");
    let host = String::from_utf8_lossy(http::raw(req, "host")).into_owned();
    for name in ["host", ":authority"] {
        if joined(req, name).is_some_and(|v| v == host) {
            http::remove_header(req, name.as_bytes());
        }
    }
}

/// A header's fields joined by `, ` (`Headers.get`).
fn joined(msg: &Dict, name: &str) -> Option<String> {
    let values: Vec<String> = http::fields(msg)
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The request of an HTTP flow, cleaned up.
fn request(flow: &Flow) -> Result<Dict, ExportError> {
    http_only(flow)?;
    flow.request().map(cleanup).ok_or(ExportError::NoRequest)
}

/// `request_content_for_console`: the body as text, control characters
/// escaped.
fn console_text(req: &Dict) -> Result<String, ExportError> {
    let text = match message::text(req) {
        Ok(Some(text)) if !text.is_empty() => text,
        _ => return Err(ExportError::NotUnicode),
    };
    Ok(text
        .chars()
        .map(|c| match c {
            '\0'..='\x1f' => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect())
}

fn has_content(req: &Dict) -> bool {
    http::raw_content(req).is_some_and(|b| !b.is_empty())
}

fn header_args(req: &Dict) -> Vec<(String, String)> {
    http::fields(req)
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

/// `export.curl`.
pub fn curl(flow: &Flow) -> Result<String, ExportError> {
    let mut req = request(flow)?;
    pop_headers(&mut req);
    let mut args = vec!["curl".to_owned()];
    for (name, value) in header_args(&req) {
        if name.eq_ignore_ascii_case("accept-encoding") {
            args.push("--compressed".into());
        } else {
            args.push("-H".into());
            args.push(format!("{name}: {value}"));
        }
    }
    // `Request.method` is upper case.
    let method = String::from_utf8_lossy(http::raw(&req, "method")).to_uppercase();
    if method != "GET" {
        args.push("-X".into());
        args.push(method);
    }
    args.push(url::pretty_url(&req));
    if has_content(&req) {
        args.push("-d".into());
        args.push(console_text(&req)?);
    }
    Ok(args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "))
}

/// `export.httpie`.
pub fn httpie(flow: &Flow) -> Result<String, ExportError> {
    let mut req = request(flow)?;
    pop_headers(&mut req);
    let mut args = vec![
        "http".to_owned(),
        String::from_utf8_lossy(http::raw(&req, "method")).to_uppercase(),
        url::pretty_url(&req),
    ];
    for (name, value) in header_args(&req) {
        args.push(format!("{name}: {value}"));
    }
    let mut cmd = args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ");
    if has_content(&req) {
        cmd += " <<< ";
        cmd += &quote(&console_text(&req)?);
    }
    Ok(cmd)
}

/// Header lines and body, chunked when Transfer-Encoding says so
/// (`assemble_body`).
fn assemble_rest(msg: &Dict, out: &mut Vec<u8>) -> Result<(), ExportError> {
    for (name, value) in http::fields(msg) {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    let body = http::raw_content(msg).map_or(&[][..], |b| &b[..]);
    let chunked =
        joined(msg, "transfer-encoding").is_some_and(|te| te.to_lowercase().contains("chunked"));
    let trailers = msg
        .get("trailers")
        .and_then(Value::as_list)
        .filter(|t| !t.is_empty());
    if !chunked {
        if trailers.is_some() {
            return Err(ExportError::TrailersWithoutChunked);
        }
        out.extend_from_slice(body);
        return Ok(());
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    if let Some(trailers) = trailers {
        for pair in trailers.iter().filter_map(Value::as_list) {
            let part = |i: usize| pair.get(i).and_then(Value::as_bytes).unwrap_or_default();
            out.extend_from_slice(part(0));
            out.extend_from_slice(b": ");
            out.extend_from_slice(part(1));
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// `export.raw_request`.
pub fn raw_request(flow: &Flow) -> Result<Vec<u8>, ExportError> {
    let req = request(flow)?;
    if http::raw_content(&req).is_none() {
        return Err(ExportError::RequestContentMissing);
    }
    let mut out = Vec::new();
    let method = http::raw(&req, "method");
    out.extend_from_slice(method);
    out.push(b' ');
    let authority = http::raw(&req, "authority");
    if method.eq_ignore_ascii_case(b"CONNECT") {
        out.extend_from_slice(authority);
    } else if !authority.is_empty() {
        out.extend_from_slice(http::raw(&req, "scheme"));
        out.extend_from_slice(b"://");
        out.extend_from_slice(authority);
        out.extend_from_slice(http::raw(&req, "path"));
    } else {
        out.extend_from_slice(http::raw(&req, "path"));
    }
    out.push(b' ');
    out.extend_from_slice(http::raw(&req, "http_version"));
    out.extend_from_slice(b"\r\n");
    assemble_rest(&req, &mut out)?;
    Ok(out)
}

/// Other flows (DNS has a `request` too) are not exported.
fn http_only(flow: &Flow) -> Result<(), ExportError> {
    match flow.kind() {
        crate::flow::FlowKind::Http => Ok(()),
        _ if flow.request().is_none() => Err(ExportError::NoRequest),
        _ => Err(ExportError::NotHttp),
    }
}

/// `export.raw_response`.
pub fn raw_response(flow: &Flow) -> Result<Vec<u8>, ExportError> {
    http_only(flow)?;
    let resp = flow
        .response()
        .map(cleanup)
        .ok_or(ExportError::NoResponse)?;
    if http::raw_content(&resp).is_none() {
        return Err(ExportError::ResponseContentMissing);
    }
    let mut out = Vec::new();
    out.extend_from_slice(http::raw(&resp, "http_version"));
    let status = resp.get("status_code").and_then(Value::as_int).unwrap_or(0);
    out.extend_from_slice(format!(" {status} ").as_bytes());
    out.extend_from_slice(http::raw(&resp, "reason"));
    out.extend_from_slice(b"\r\n");
    assemble_rest(&resp, &mut out)?;
    Ok(out)
}

/// `export.raw`: the request and the response, whichever are there with
/// their bodies, separated by a blank line; then a WebSocket's messages.
pub fn raw(flow: &Flow) -> Result<Vec<u8>, ExportError> {
    if flow.kind() != crate::flow::FlowKind::Http {
        return Err(ExportError::NoMessage);
    }
    let kept = |m: Option<&Dict>| m.is_some_and(|m| http::raw_content(m).is_some());
    match (kept(flow.request()), kept(flow.response())) {
        (true, true) => {
            let mut out = raw_request(flow)?;
            out.extend_from_slice(b"\r\n\r\n");
            out.extend(raw_response(flow)?);
            if let Some(ws) = flow.dict().get("websocket").and_then(Value::as_dict) {
                out.extend_from_slice(b"\r\n\r\n");
                let messages = ws
                    .get("messages")
                    .and_then(Value::as_list)
                    .unwrap_or_default();
                for (i, m) in messages.iter().filter_map(Value::as_list).enumerate() {
                    if i > 0 {
                        out.push(b'\n');
                    }
                    let from_client = matches!(m.get(1), Some(Value::Bool(true)));
                    out.extend_from_slice(if from_client {
                        b"[OUTGOING] "
                    } else {
                        b"[INCOMING] "
                    });
                    out.extend_from_slice(m.get(2).and_then(Value::as_bytes).unwrap_or_default());
                }
            }
            Ok(out)
        }
        (true, false) => raw_request(flow),
        (false, true) => raw_response(flow),
        (false, false) => Err(ExportError::NoMessage),
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_like_shlex() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("curl"), "curl");
        assert_eq!(quote("http://a/b?c=d"), "'http://a/b?c=d'");
        assert_eq!(quote("it's"), "'it'\"'\"'s'");
        assert_eq!(quote("a b"), "'a b'");
    }
}
