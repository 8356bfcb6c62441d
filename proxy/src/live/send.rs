//! Writing a flow's request upstream and its response to the client over
//! HTTP/1, as mitmproxy does: the flow's fields in their order and case,
//! hop-by-hop ones included, and the body framed as those fields say, for
//! the body the flow holds now. Toward HTTP/2, `end_to_end` leaves out the
//! fields HTTP/2 forbids.

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

/// The request's fields as they go upstream: the flow's, in order and
/// case, hop-by-hop ones included, as mitmproxy sends them; a request
/// that came over HTTP/2 gets the Host field HTTP/1.1 needs first. Unlike
/// mitmproxy, a client's Proxy-Authorization never goes on: credentials
/// for a proxy are not for the server, and an upstream proxy gets
/// `upstream_auth` in their place.
fn request_fields<'a>(req: &'a Dict, host: Option<&'a str>, form: Form<'a>) -> Vec<Field<'a>> {
    let mut fields: Vec<Field<'a>> = http::fields(req)
        .filter(|(n, _)| !n.eq_ignore_ascii_case(b"proxy-authorization"))
        .collect();
    if let Some(host) = host {
        fields.insert(0, (b"host", host.as_bytes()));
    }
    if let Form::Absolute { auth: Some(auth) } = form {
        fields.push((b"proxy-authorization", auth.as_bytes()));
    }
    fields
}

/// `body` chunked: one chunk (none when empty), the last chunk, and the
/// `trailers` of `msg`.
fn chunked(body: &[u8], msg: &Dict) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    if !body.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    let trailers = msg.get("trailers").and_then(Value::as_list);
    for pair in trailers.unwrap_or_default() {
        let pair = pair.as_list().unwrap_or_default();
        if let (Some(n), Some(v)) = (
            pair.first().and_then(Value::as_bytes),
            pair.get(1).and_then(Value::as_bytes),
        ) {
            for part in [n, b": ", v, b"\r\n"] {
                out.extend_from_slice(part);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `fields` with the framing field for a body streamed as `kind`: a
/// length or chunks in the field's place (appended only where the message
/// has none), neither for a body that has none or ends with the
/// connection. A body-less `None` keeps the fields as they are (a 101's,
/// a HEAD answer's).
fn framed<'a>(fields: Vec<Field<'a>>, kind: BodyKind, len: &'a str) -> Vec<Field<'a>> {
    match kind {
        BodyKind::Length(_) => with_length(without(fields, b"transfer-encoding"), len),
        BodyKind::None => fields,
        BodyKind::Chunked => {
            let mut fields = without(fields, b"content-length");
            if !says_chunked(&fields) {
                fields = without(fields, b"transfer-encoding");
                fields.push((b"transfer-encoding", b"chunked"));
            }
            fields
        }
        BodyKind::Close => without(without(fields, b"content-length"), b"transfer-encoding"),
    }
}

/// The decimal length of a `Length` body, for [`framed`].
fn length_text(kind: BodyKind) -> String {
    match kind {
        BodyKind::Length(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The request as it goes upstream, in `form`: the flow's fields, and the
/// body framed as they say (chunked, or by a Content-Length corrected in
/// place to the body the flow holds now, appended where a body has none).
pub fn request(flow: &Flow, form: Form<'_>) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let (version, host) = as_h1(req);
    let body = http::raw_content(req).map(|b| &b[..]).unwrap_or_default();
    let len = body.len().to_string();
    let mut fields = request_fields(req, host.as_deref(), form);
    let sent;
    let body = if says_chunked(&fields) {
        fields = without(fields, b"content-length");
        sent = chunked(body, req);
        &sent[..]
    } else {
        // A body, or an explicit empty one, is framed by length; a bodiless
        // GET gets no Content-Length, as the client sent it.
        if !body.is_empty() || named(&fields, b"content-length").next().is_some() {
            fields = with_length(without(fields, b"transfer-encoding"), &len);
        }
        body
    };
    head(
        [http::raw(req, "method"), &target(req, form), version],
        &fields,
        body,
    )
}

/// The head of a request whose body is streamed as `kind`: a
/// length-framed body says its length, a chunked one says so, each in the
/// field's place where the flow has it.
pub fn request_head(flow: &Flow, kind: BodyKind, form: Form<'_>) -> Vec<u8> {
    let req = flow.request().expect("an HTTP flow has a request");
    let (version, host) = as_h1(req);
    let len = length_text(kind);
    // A request without a body says nothing of its framing.
    let kind = match kind {
        BodyKind::None => BodyKind::Close,
        kind => kind,
    };
    let fields = framed(request_fields(req, host.as_deref(), form), kind, &len);
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

/// Whether `fields` frame the body as chunked: a Transfer-Encoding whose
/// last coding is chunked (as the reader decides, `h1::chunked_last`).
fn says_chunked(fields: &[Field<'_>]) -> bool {
    h1::chunked_last(named(fields, b"transfer-encoding")) == Some(true)
}

fn named<'a>(fields: &'a [Field<'_>], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    fields
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Whether a message of `version` with `fields` ends its connection:
/// `Connection: close`, or HTTP/1.0 without `keep-alive` (mitmproxy's
/// `connection_close`).
fn says_close(version: &[u8], fields: &[Field<'_>]) -> bool {
    let tokens = connection_tokens(named(fields, b"connection"));
    let has = |t: &[u8]| tokens.iter().any(|x| x.eq_ignore_ascii_case(t));
    has(b"close") || (version == b"HTTP/1.0" && !has(b"keep-alive"))
}

/// `fields` without those named `name`.
fn without<'a>(fields: Vec<Field<'a>>, name: &[u8]) -> Vec<Field<'a>> {
    fields
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .collect()
}

/// The status line of a response to an HTTP/1 client: the recorded
/// version (HTTP/1.1 for one that came over HTTP/2 or 3) and reason.
fn status_line(resp: &Dict) -> ([u8; 8], String, &[u8]) {
    let version = match http::raw(resp, "http_version") {
        b"HTTP/1.0" => *b"HTTP/1.0",
        _ => *b"HTTP/1.1",
    };
    let (status, reason) = response_start(resp);
    (version, status, reason)
}

/// Whether the response came over HTTP/2 or 3, which frame bodies
/// themselves: toward an HTTP/1 client it gets a length, not a close.
fn converted(resp: &Dict) -> bool {
    let version = http::raw(resp, "http_version");
    version.starts_with(b"HTTP/2") || version.starts_with(b"HTTP/3")
}

/// The response as it goes to an HTTP/1 client, and whether the
/// connection must close after it. As mitmproxy sends it: the flow's
/// fields in their order and case, hop-by-hop ones included, and the body
/// framed as those fields say: chunked under `Transfer-Encoding: chunked`
/// (the trailers after it), by a Content-Length corrected in place to the
/// body the flow holds now, or else by closing the connection. An
/// HTTP/1.0 client gets a length instead of chunks; a response that came
/// over HTTP/2 gets a length appended.
pub fn response(flow: &Flow, http10_client: bool) -> (Vec<u8>, bool) {
    let resp = flow
        .message(Which::Response)
        .expect("sending a response the flow has");
    let (version, status, reason) = status_line(resp);
    let mut fields: Vec<Field<'_>> = http::fields(resp).collect();
    let mut close = says_close(&version, &fields);
    let sent = client_body(flow);
    let len;
    let mut body = Vec::new();
    if let Some(sent) = &sent {
        if says_chunked(&fields) && !http10_client {
            fields = without(fields, b"content-length");
            body = chunked(sent, resp);
        } else {
            let was_chunked = says_chunked(&fields);
            fields = without(fields, b"transfer-encoding");
            let has_length = named(&fields, b"content-length").next().is_some();
            if has_length || was_chunked || converted(resp) {
                len = sent.len().to_string();
                fields = with_length(fields, &len);
            } else {
                // Neither length nor chunks: the body ends with the
                // connection, as the server framed it.
                close = true;
            }
            body.extend_from_slice(sent);
        }
    }
    (
        head([&version, status.as_bytes(), reason], &fields, &body),
        close,
    )
}

/// How a streamed response's body goes to an HTTP/1 client, given the
/// length the server announced: as the flow's fields frame it where the
/// client can take that (chunked, a length, or until the connection
/// closes), chunked for one that came over HTTP/2 without a length. And
/// whether the connection ends after it, by what the response says
/// (`Connection: close`, HTTP/1.0 without keep-alive).
pub fn stream_framing(flow: &Flow, length: Option<u64>, http10_client: bool) -> (BodyKind, bool) {
    let resp = flow
        .message(Which::Response)
        .expect("streaming a response the flow has");
    let fields: Vec<Field<'_>> = http::fields(resp).collect();
    let kind = match length {
        Some(0) => BodyKind::None,
        _ if says_chunked(&fields) && !http10_client => BodyKind::Chunked,
        Some(n) => BodyKind::Length(n),
        None if http10_client || !converted(resp) => BodyKind::Close,
        None => BodyKind::Chunked,
    };
    let (version, _, _) = status_line(resp);
    (
        kind,
        kind == BodyKind::Close || says_close(&version, &fields),
    )
}

/// The head of a response whose body follows framed as `kind` (a 101's
/// fields as they are): the flow's fields in order and case, the framing
/// field in its place (appended only where the flow has none).
pub fn response_head(flow: &Flow, kind: BodyKind) -> Vec<u8> {
    let resp = flow
        .message(Which::Response)
        .expect("streaming a response the flow has");
    let len = length_text(kind);
    let fields = framed(http::fields(resp).collect(), kind, &len);
    let (version, status, reason) = status_line(resp);
    head([&version, status.as_bytes(), reason], &fields, b"")
}

/// A CONNECT's answer as its flow holds it: the status line, the fields
/// and any body, with no framing added (a 2xx opens the tunnel after it;
/// anything else closes the connection).
pub fn connect_answer(response: &Dict) -> Vec<u8> {
    let (version, status, reason) = status_line(response);
    let fields: Vec<Field<'_>> = http::fields(response).collect();
    let body = http::raw_content(response).map_or(&[][..], |b| &b[..]);
    head([&version, status.as_bytes(), reason], &fields, body)
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

    /// An HTTP flow: a `method` request and a response of `version` with
    /// `fields` and `body`.
    fn flow(method: &str, version: &str, fields: &[(&str, &str)], body: &str) -> Flow {
        let mut req = msg(&[("Host", "a")], None).as_dict().unwrap().clone();
        req.push("method", Value::bytes(method.as_bytes()));
        req.push("http_version", Value::bytes(b"HTTP/1.1"));
        let mut resp = msg(fields, Some(body)).as_dict().unwrap().clone();
        resp.push("status_code", Value::Int(200));
        resp.push("reason", Value::bytes(b"OK"));
        resp.push("http_version", Value::bytes(version.as_bytes()));
        resp.push("trailers", Value::Null);
        let mut d = Dict::new();
        d.push("type", Value::bytes(b"http"));
        d.push("request", Value::Dict(req.into()));
        d.push("response", Value::Dict(resp.into()));
        Flow::from_value(Value::Dict(d.into())).unwrap()
    }

    fn sent(flow: &Flow, http10: bool) -> (String, bool) {
        let (bytes, close) = response(flow, http10);
        (String::from_utf8(bytes).unwrap(), close)
    }

    #[test]
    fn responses_go_out_as_their_fields_frame_them() {
        // Chunked stays chunked, hop-by-hop fields and all.
        let f = flow(
            "GET",
            "HTTP/1.1",
            &[
                ("Transfer-Encoding", "chunked"),
                ("Connection", "keep-alive"),
            ],
            "hello",
        );
        assert_eq!(
            sent(&f, false),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n".into(),
                false
            )
        );
        // ...except to an HTTP/1.0 client, which gets a length.
        assert_eq!(
            sent(&f, true).0,
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\ncontent-length: 5\r\n\r\nhello"
        );
        // A Content-Length follows the body in its place and case.
        let f = flow(
            "GET",
            "HTTP/1.1",
            &[("Content-LENGTH", "2"), ("X-A", "1")],
            "hello",
        );
        assert_eq!(
            sent(&f, false).0,
            "HTTP/1.1 200 OK\r\nContent-LENGTH: 5\r\nX-A: 1\r\n\r\nhello"
        );
        // Neither: the body ends with the connection.
        let f = flow("GET", "HTTP/1.1", &[("X-A", "1")], "hello");
        assert_eq!(
            sent(&f, false),
            ("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nhello".into(), true)
        );
        // One that came over HTTP/2 gets a length instead.
        let f = flow("GET", "HTTP/2.0", &[("x-a", "1")], "hello");
        assert_eq!(
            sent(&f, false),
            (
                "HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 5\r\n\r\nhello".into(),
                false
            )
        );
        // HTTP/1.0 keeps its version, and closes without keep-alive.
        let f = flow("GET", "HTTP/1.0", &[("Content-Length", "5")], "hello");
        assert_eq!(
            sent(&f, false),
            (
                "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello".into(),
                true
            )
        );
        // A HEAD keeps the server's fields, body-less.
        let f = flow("HEAD", "HTTP/1.1", &[("Content-Length", "50")], "");
        assert_eq!(
            sent(&f, false).0,
            "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"
        );
    }

    #[test]
    fn streamed_responses_keep_their_framing_where_the_client_can_take_it() {
        let chunked = flow("GET", "HTTP/1.1", &[("Transfer-Encoding", "chunked")], "");
        assert_eq!(stream_framing(&chunked, None, false).0, BodyKind::Chunked);
        assert_eq!(stream_framing(&chunked, None, true).0, BodyKind::Close);
        assert_eq!(
            String::from_utf8(response_head(&chunked, BodyKind::Chunked)).unwrap(),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let open = flow("GET", "HTTP/1.1", &[("X-A", "1")], "");
        assert_eq!(stream_framing(&open, None, false).0, BodyKind::Close);
        let h2 = flow("GET", "HTTP/2.0", &[("x-a", "1")], "");
        assert_eq!(stream_framing(&h2, None, false).0, BodyKind::Chunked);
        assert_eq!(
            String::from_utf8(response_head(&h2, BodyKind::Chunked)).unwrap(),
            "HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let sized = flow("GET", "HTTP/1.1", &[("content-length", "9")], "");
        assert_eq!(
            stream_framing(&sized, Some(9), false).0,
            BodyKind::Length(9)
        );
    }
}
