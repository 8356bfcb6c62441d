//! Writing a flow's request upstream and its response to the client:
//! fields in their recorded order and case, hop-by-hop fields dropped,
//! framing recomputed for the body the flow holds now.

use crate::flow::Flow;
use crate::h1::{self, connection_tokens, is_hop_by_hop};
use crate::http::{self, Which};
use crate::tnetstring::{Dict, Value};

fn bytes<'a>(msg: &'a Dict, key: &str) -> &'a [u8] {
    msg.get(key).and_then(Value::as_bytes).unwrap_or_default()
}

/// The fields to forward: hop-by-hop ones out, `Content-Length` set to
/// `body_len` in place (or appended) when the body is framed by length.
fn forwarded<'a>(
    msg: &'a Dict,
    body_len: Option<usize>,
    extra: &'a [(&'a [u8], &'a [u8])],
    len_text: &'a str,
) -> Vec<(&'a [u8], &'a [u8])> {
    let all: Vec<(&[u8], &[u8])> = (0..http::headers(msg).len())
        .filter_map(|i| http::header_at(msg, i))
        .collect();
    let tokens = connection_tokens(
        all.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
            .map(|(_, v)| *v),
    );
    let mut out = Vec::with_capacity(all.len() + 2);
    let mut length_set = false;
    for (name, value) in &all {
        if is_hop_by_hop(name, &tokens) || name.eq_ignore_ascii_case(b"expect") {
            continue;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            if body_len.is_some() && !length_set {
                out.push((*name, len_text.as_bytes()));
                length_set = true;
            }
            continue;
        }
        out.push((*name, *value));
    }
    if body_len.is_some() && !length_set {
        out.push((&b"content-length"[..], len_text.as_bytes()));
    }
    out.extend_from_slice(extra);
    out
}

/// The request as it goes upstream, in origin form.
pub fn request(flow: &Flow) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let body = http::raw_content(req).map(|b| &b[..]).unwrap_or_default();
    let method = bytes(req, "method");
    // A body, or an explicit empty one, is framed by length; a bodiless
    // GET gets no Content-Length, as the client sent it.
    let had_framing = http::header(req, "content-length").is_some()
        || http::header(req, "transfer-encoding").is_some();
    let body_len = (!body.is_empty() || had_framing).then_some(body.len());
    let len_text = body.len().to_string();
    let fields = forwarded(req, body_len, &[], &len_text);
    let mut out = Vec::with_capacity(256 + body.len());
    h1::write_head(
        &mut out,
        [method, bytes(req, "path"), bytes(req, "http_version")],
        &fields,
    );
    out.extend_from_slice(body);
    out
}

/// The response as it goes to the client; `close` adds
/// `connection: close`.
pub fn response(flow: &Flow, close: bool) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let resp = flow
        .message(Which::Response)
        .expect("sending a response the flow has");
    let status = resp
        .get("status_code")
        .and_then(Value::as_int)
        .unwrap_or(502);
    let bodiless = bytes(req, "method").eq_ignore_ascii_case(b"HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304;
    let body = http::raw_content(resp).map(|b| &b[..]).unwrap_or_default();
    let len_text = body.len().to_string();
    let extra: &[(&[u8], &[u8])] = if close {
        &[(b"connection", b"close")]
    } else {
        &[]
    };
    let fields = if bodiless {
        // Keep the Content-Length the server gave for a HEAD or 304.
        let all: Vec<(&[u8], &[u8])> = (0..http::headers(resp).len())
            .filter_map(|i| http::header_at(resp, i))
            .collect();
        let tokens = connection_tokens(
            all.iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
                .map(|(_, v)| *v),
        );
        all.into_iter()
            .filter(|(n, _)| !is_hop_by_hop(n, &tokens))
            .chain(extra.iter().copied())
            .collect()
    } else {
        forwarded(resp, Some(body.len()), extra, &len_text)
    };
    let status_text = status.to_string();
    let version = match bytes(resp, "http_version") {
        b"HTTP/2.0" | b"HTTP/2" | b"HTTP/3" => &b"HTTP/1.1"[..],
        v => v,
    };
    let mut out = Vec::with_capacity(256 + body.len());
    h1::write_head(
        &mut out,
        [version, status_text.as_bytes(), bytes(resp, "reason")],
        &fields,
    );
    if !bodiless {
        out.extend_from_slice(body);
    }
    out
}

/// The head of a request whose body is streamed as `kind`, in origin
/// form: the recorded fields, hop-by-hop ones out, chunked framing said
/// again (a length-framed body keeps its Content-Length).
pub fn request_head(flow: &Flow, kind: h1::BodyKind) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let all: Vec<(&[u8], &[u8])> = (0..http::headers(req).len())
        .filter_map(|i| http::header_at(req, i))
        .collect();
    let tokens = connection_tokens(
        all.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
            .map(|(_, v)| *v),
    );
    let mut fields: Vec<(&[u8], &[u8])> = all
        .into_iter()
        .filter(|(n, _)| !is_hop_by_hop(n, &tokens) && !n.eq_ignore_ascii_case(b"expect"))
        .collect();
    if kind == h1::BodyKind::Chunked {
        fields.push((b"transfer-encoding", b"chunked"));
    }
    let mut out = Vec::with_capacity(256);
    h1::write_head(
        &mut out,
        [
            bytes(req, "method"),
            bytes(req, "path"),
            bytes(req, "http_version"),
        ],
        &fields,
    );
    out
}

/// The head of a response whose body is streamed as `kind`: the fields as
/// recorded, hop-by-hop ones out, the framing said again.
pub fn response_head(flow: &Flow, kind: h1::BodyKind, close: bool) -> Vec<u8> {
    let resp = flow
        .message(Which::Response)
        .expect("streaming a response the flow has");
    let all: Vec<(&[u8], &[u8])> = (0..http::headers(resp).len())
        .filter_map(|i| http::header_at(resp, i))
        .collect();
    let tokens = connection_tokens(
        all.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
            .map(|(_, v)| *v),
    );
    let mut fields: Vec<(&[u8], &[u8])> = all
        .into_iter()
        .filter(|(n, _)| !is_hop_by_hop(n, &tokens))
        .collect();
    if kind == h1::BodyKind::Chunked {
        fields.push((b"transfer-encoding", b"chunked"));
    }
    if close || kind == h1::BodyKind::Close {
        fields.push((b"connection", b"close"));
    }
    let status = resp
        .get("status_code")
        .and_then(Value::as_int)
        .unwrap_or(502)
        .to_string();
    let mut out = Vec::with_capacity(256);
    h1::write_head(
        &mut out,
        [b"HTTP/1.1", status.as_bytes(), bytes(resp, "reason")],
        &fields,
    );
    out
}

/// A response the proxy makes itself (errors, 407): plain text, closing.
pub fn simple(status: u16, extra: &[(&str, &str)], text: &str) -> Vec<u8> {
    let reason = http::reason_phrase(status);
    let len = text.len().to_string();
    let mut fields: Vec<(&[u8], &[u8])> = vec![
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", len.as_bytes()),
        (b"connection", b"close"),
    ];
    fields.extend(extra.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    let status = status.to_string();
    let mut out = Vec::new();
    h1::write_head(
        &mut out,
        [b"HTTP/1.1", status.as_bytes(), reason.as_bytes()],
        &fields,
    );
    out.extend_from_slice(text.as_bytes());
    out
}
