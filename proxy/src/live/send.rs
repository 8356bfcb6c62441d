//! Writing a flow's request upstream and its response to the client:
//! fields in their recorded order and case, hop-by-hop fields dropped,
//! framing recomputed for the body the flow holds now.

use crate::flow::Flow;
use crate::h1::{self, BodyKind, Head, connection_tokens, is_hop_by_hop};
use crate::http::{self, Which};
use crate::tnetstring::{Dict, Value};

pub(super) type Field<'a> = (&'a [u8], &'a [u8]);

/// Whether a client asks for a new connection per request: `close`, or
/// HTTP/1.0 without `keep-alive`.
pub fn wants_close(head: &Head) -> bool {
    let tokens = h1::connection_tokens(
        head.headers_named("connection")
            .chain(head.headers_named("proxy-connection")),
    );
    let has = |t: &[u8]| tokens.iter().any(|x| x.eq_ignore_ascii_case(t));
    has(b"close") || (&head.third[..] == b"HTTP/1.0" && !has(b"keep-alive"))
}

/// The message's end-to-end fields: hop-by-hop ones (RFC 9110 §7.6.1, and
/// those its Connection field names) and Expect, which the proxy answers
/// itself, left out. A protocol upgrade (an `Upgrade` field that
/// `Connection` names) keeps both: the proxy passes the switch on.
pub(super) fn end_to_end(msg: &Dict) -> Vec<Field<'_>> {
    let all: Vec<Field<'_>> = (0..http::headers(msg).len())
        .filter_map(|i| http::header_at(msg, i))
        .collect();
    let tokens = connection_tokens(
        all.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"connection"))
            .map(|(_, v)| *v),
    );
    let upgrade = tokens.iter().any(|t| t.eq_ignore_ascii_case(b"upgrade"))
        && all.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"upgrade"));
    let kept = |n: &[u8]| {
        upgrade && (n.eq_ignore_ascii_case(b"upgrade") || n.eq_ignore_ascii_case(b"connection"))
    };
    all.into_iter()
        .filter(|(n, _)| {
            kept(n) || (!is_hop_by_hop(n, &tokens) && !n.eq_ignore_ascii_case(b"expect"))
        })
        .collect()
}

/// `fields` with Content-Length set to `len` in place (the first one kept,
/// others dropped), or appended.
fn with_length<'a>(fields: Vec<Field<'a>>, len: &'a str) -> Vec<Field<'a>> {
    let mut out = Vec::with_capacity(fields.len() + 1);
    let mut set = false;
    for (name, value) in fields {
        if !name.eq_ignore_ascii_case(b"content-length") {
            out.push((name, value));
        } else if !set {
            out.push((name, len.as_bytes()));
            set = true;
        }
    }
    if !set {
        out.push((b"content-length", len.as_bytes()));
    }
    out
}

fn head(start: [&[u8]; 3], fields: &[Field<'_>], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    h1::write_head(&mut out, start, fields);
    out.extend_from_slice(body);
    out
}

/// `host[:port]` of a request: its authority (HTTP/2's `:authority`), or
/// its host and port, the port left out where it is the scheme's default.
pub fn authority(req: &Dict) -> String {
    let recorded = http::raw(req, "authority");
    if !recorded.is_empty() {
        return String::from_utf8_lossy(recorded).into_owned();
    }
    let host = req.get("host").and_then(Value::as_str).unwrap_or_default();
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let port = req.get("port").and_then(Value::as_int).unwrap_or(0);
    let default = if http::raw(req, "scheme") == b"https" {
        443
    } else {
        80
    };
    if port == default {
        host
    } else {
        format!("{host}:{port}")
    }
}

/// The request line's version upstream, and the Host field a request
/// that came over HTTP/2 (which has none) needs in HTTP/1.1.
fn as_h1(req: &Dict) -> (&[u8], Option<String>) {
    let version = http::raw(req, "http_version");
    if !(version.starts_with(b"HTTP/2") || version.starts_with(b"HTTP/3")) {
        return (version, None);
    }
    let host = http::header(req, "host").is_none().then(|| authority(req));
    (b"HTTP/1.1", host)
}

/// How a request line names its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form<'a> {
    /// `GET /path`, to the server itself.
    Origin,
    /// `GET http://host/path`, to an upstream proxy, with this
    /// `Proxy-Authorization` value if it wants one.
    Absolute { auth: Option<&'a str> },
}

/// The request line's target in `form`.
fn target<'a>(req: &'a Dict, form: Form<'_>) -> std::borrow::Cow<'a, [u8]> {
    match form {
        Form::Origin => http::raw(req, "path").into(),
        Form::Absolute { .. } => {
            let scheme = String::from_utf8_lossy(http::raw(req, "scheme"));
            let path = String::from_utf8_lossy(http::raw(req, "path"));
            format!("{scheme}://{}{path}", authority(req))
                .into_bytes()
                .into()
        }
    }
}

/// The request as it goes upstream, in `form`.
pub fn request(flow: &Flow, form: Form<'_>) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let (version, host) = as_h1(req);
    let body = http::raw_content(req).map(|b| &b[..]).unwrap_or_default();
    let len = body.len().to_string();
    // A body, or an explicit empty one, is framed by length; a bodiless
    // GET gets no Content-Length, as the client sent it.
    let framed = !body.is_empty()
        || http::header(req, "content-length").is_some()
        || http::header(req, "transfer-encoding").is_some();
    let mut fields = if framed {
        with_length(end_to_end(req), &len)
    } else {
        end_to_end(req)
    };
    if let Some(host) = &host {
        fields.insert(0, (b"host", host.as_bytes()));
    }
    if let Form::Absolute { auth: Some(auth) } = form {
        fields.push((b"proxy-authorization", auth.as_bytes()));
    }
    head(
        [http::raw(req, "method"), &target(req, form), version],
        &fields,
        body,
    )
}

/// The head of a request whose body is streamed as `kind`: a
/// length-framed body says its length, a chunked one says so.
pub fn request_head(flow: &Flow, kind: BodyKind, form: Form<'_>) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let (version, host) = as_h1(req);
    let len;
    let mut fields = match kind {
        BodyKind::Length(n) => {
            len = n.to_string();
            with_length(end_to_end(req), &len)
        }
        _ => end_to_end(req)
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(b"content-length"))
            .collect(),
    };
    if let Some(host) = &host {
        fields.insert(0, (b"host", host.as_bytes()));
    }
    if kind == BodyKind::Chunked {
        fields.push((b"transfer-encoding", b"chunked"));
    }
    if let Form::Absolute { auth: Some(auth) } = form {
        fields.push((b"proxy-authorization", auth.as_bytes()));
    }
    head(
        [http::raw(req, "method"), &target(req, form), version],
        &fields,
        b"",
    )
}

fn response_start(resp: &Dict) -> (String, &[u8]) {
    let status = resp
        .get("status_code")
        .and_then(Value::as_int)
        .unwrap_or(502)
        .to_string();
    let reason = match http::raw(resp, "reason") {
        // HTTP/2 has no reason phrase; an HTTP/1 client gets the usual one.
        b"" => resp
            .get("status_code")
            .and_then(Value::as_int)
            .and_then(|s| u16::try_from(s).ok())
            .map_or(&b""[..], |s| http::reason_phrase(s).as_bytes()),
        reason => reason,
    };
    (status, reason)
}

/// The body a flow's response sends the client, or `None` when it may
/// have none (HEAD, 1xx, 204, 304), in either HTTP version.
pub(super) fn client_body(flow: &Flow) -> Option<bytes::Bytes> {
    let req = flow.request().expect("an HTTP flow has a request");
    let resp = flow
        .message(Which::Response)
        .expect("sending a response the flow has");
    let status = resp
        .get("status_code")
        .and_then(Value::as_int)
        .unwrap_or(502);
    let bodiless = http::raw(req, "method").eq_ignore_ascii_case(b"HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304;
    (!bodiless).then(|| http::raw_content(resp).cloned().unwrap_or_default())
}

/// The response as it goes to the client; `close` adds
/// `connection: close`.
pub fn response(flow: &Flow, close: bool) -> Vec<u8> {
    let resp = flow
        .message(Which::Response)
        .expect("sending a response the flow has");
    let sent = client_body(flow);
    let bodiless = sent.is_none();
    let body = sent.as_deref().unwrap_or_default();
    let len = body.len().to_string();
    // A HEAD or 304 keeps the Content-Length the server gave.
    let mut fields = if bodiless {
        end_to_end(resp)
    } else {
        with_length(end_to_end(resp), &len)
    };
    if close {
        fields.push((b"connection", b"close"));
    }
    let (status, reason) = response_start(resp);
    head([b"HTTP/1.1", status.as_bytes(), reason], &fields, body)
}

/// The head of a response whose body follows framed as `kind` (a 101's
/// fields as they are).
pub fn response_head(flow: &Flow, kind: BodyKind, close: bool) -> Vec<u8> {
    let resp = flow
        .message(Which::Response)
        .expect("streaming a response the flow has");
    let fields = end_to_end(resp);
    let len;
    let mut fields = match kind {
        BodyKind::Length(n) => {
            len = n.to_string();
            with_length(fields, &len)
        }
        BodyKind::None => fields,
        BodyKind::Chunked | BodyKind::Close => fields
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(b"content-length"))
            .collect(),
    };
    if kind == BodyKind::Chunked {
        fields.push((b"transfer-encoding", b"chunked"));
    }
    if close || kind == BodyKind::Close {
        fields.push((b"connection", b"close"));
    }
    let (status, reason) = response_start(resp);
    head([b"HTTP/1.1", status.as_bytes(), reason], &fields, b"")
}

/// A response the proxy makes itself (errors, 407): plain text, closing.
pub fn simple(status: u16, extra: &[(&str, &str)], text: &str) -> Vec<u8> {
    let len = text.len().to_string();
    let mut fields: Vec<Field<'_>> = vec![
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", len.as_bytes()),
        (b"connection", b"close"),
    ];
    fields.extend(extra.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    let status_text = status.to_string();
    // mitmproxy's table lacks some codes the proxy itself answers with.
    let reason = match (status, http::reason_phrase(status)) {
        (431, "") => "Request Header Fields Too Large",
        (508, "") => "Loop Detected",
        (_, reason) => reason,
    };
    head(
        [b"HTTP/1.1", status_text.as_bytes(), reason.as_bytes()],
        &fields,
        text.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tnetstring::Value;

    fn msg(fields: &[(&str, &str)], body: Option<&str>) -> Value {
        let mut d = Dict::new();
        let list = fields
            .iter()
            .map(|(n, v)| Value::list(vec![Value::bytes(n.as_bytes()), Value::bytes(v.as_bytes())]))
            .collect();
        d.push("headers", Value::list(list));
        d.push(
            "content",
            body.map_or(Value::Null, |b| Value::bytes(b.as_bytes())),
        );
        Value::Dict(d.into())
    }

    #[test]
    fn hop_by_hop_out_length_in_place() {
        let m = msg(
            &[
                ("Host", "a"),
                ("Connection", "close, X-Gone"),
                ("X-Gone", "1"),
                ("Content-Length", "9"),
                ("Keep-Alive", "5"),
                ("X-Keep", "2"),
            ],
            None,
        );
        let fields = with_length(end_to_end(m.as_dict().unwrap()), "3");
        assert_eq!(
            fields,
            [
                (&b"Host"[..], &b"a"[..]),
                (b"Content-Length", b"3"),
                (b"X-Keep", b"2")
            ]
        );
        let m = msg(&[("Transfer-Encoding", "chunked")], None);
        assert_eq!(
            with_length(end_to_end(m.as_dict().unwrap()), "0"),
            [(&b"content-length"[..], &b"0"[..])]
        );
    }
}
