//! Flows to HAR entries: mitmproxy 11's `savehar` addon, field by field.

use std::collections::HashSet;
use std::io::{self, Write};

use super::json::{self, J, py_str};
use super::text::{b64encode, body_text, is_mostly_bin, iso_utc};
use crate::flow::websocket::Message;
use crate::flow::{Flow, FlowKind};
use crate::http::cookies;
use crate::http::{self, url};
use crate::tnetstring::{Dict, Value};

/// A HAR file being collected: each entry is serialised as its flow is
/// added, [`HarDump::finish`] writes the document.
#[derive(Debug, Default)]
pub struct HarDump {
    /// Each entry's JSON, indented for its place in the document.
    entries: Vec<String>,
    /// Server connections (by id) whose connect time an earlier entry
    /// counted: savehar gives later entries over them `-1`.
    servers_seen: HashSet<String>,
}

impl HarDump {
    /// An empty HAR.
    pub fn new() -> HarDump {
        HarDump::default()
    }

    /// Adds a finished flow as mitmproxy's `hardump` collects it from its
    /// hooks: an HTTP flow with a WebSocket once (`websocket_end`); any
    /// other HTTP flow once for its response and once more for its error
    /// (`response`, then `error`: a flow with both is in the file twice,
    /// as in mitmproxy); nothing for a flow with neither, or for
    /// TCP, UDP and DNS flows. Returns how many entries it added.
    pub fn add(&mut self, flow: &Flow) -> usize {
        if flow.kind() != FlowKind::Http || flow.request().is_none() {
            return 0;
        }
        let times = if flow.websocket().is_some() {
            1
        } else {
            usize::from(flow.response().is_some()) + usize::from(has_error(flow))
        };
        for _ in 0..times {
            self.push_entry(flow);
        }
        times
    }

    /// Adds one entry for `flow`, as `save.har` does for each flow it is
    /// given; non-HTTP flows are skipped (`false`).
    pub fn push_entry(&mut self, flow: &Flow) -> bool {
        if flow.kind() != FlowKind::Http || flow.request().is_none() {
            return false;
        }
        let entry = entry(flow, &mut self.servers_seen);
        let mut out = String::with_capacity(2048);
        json::indent(3, &mut out);
        json::write(&entry, 3, &mut out);
        self.entries.push(out);
        true
    }

    /// Entries so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The whole document, as `json.dumps(har, indent=4)`: no newline at
    /// the end (mitmproxy's `-` output adds one, as `print` does).
    pub fn finish<W: Write>(&self, mut out: W) -> io::Result<()> {
        let mut head = String::new();
        let creator = J::Obj(vec![
            ("name", J::Str("Waylay".into())),
            ("version", J::Str(env!("CARGO_PKG_VERSION").into())),
            ("comment", J::Str(String::new())),
        ]);
        head.push_str("{\n    \"log\": {\n        \"version\": \"1.2\",\n        \"creator\": ");
        json::write(&creator, 2, &mut head);
        head.push_str(",\n        \"pages\": [],\n        \"entries\": ");
        if self.entries.is_empty() {
            head.push_str("[]\n    }\n}");
            return out.write_all(head.as_bytes());
        }
        head.push_str("[\n");
        out.write_all(head.as_bytes())?;
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(entry.as_bytes())?;
        }
        out.write_all(b"\n        ]\n    }\n}")
    }
}

impl HarDump {
    /// [`HarDump::finish`] compressed with zlib at level 9, as mitmproxy
    /// writes a `.zhar` file.
    pub fn finish_zlib<W: Write>(&self, out: W) -> io::Result<()> {
        let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::new(9));
        self.finish(&mut z)?;
        z.finish().map(drop)
    }
}

fn has_error(flow: &Flow) -> bool {
    flow.dict().get("error").and_then(Value::as_dict).is_some()
}

/// A number field (int or float); `None` when null or missing.
fn num(d: &Dict, key: &str) -> Option<T> {
    match d.get(key)? {
        Value::Float(f) => Some(T::Ms(*f)),
        Value::Int(i) => Some(T::Int(*i)),
        _ => None,
    }
}

/// Python truthiness of an optional timestamp.
fn truthy(v: Option<T>) -> Option<T> {
    v.filter(|t| t.as_f64() != 0.0)
}

/// A number as Python keeps it: timestamps written as ints (mitmproxy's
/// test factories do) give int timings, as in Python.
#[derive(Clone, Copy)]
enum T {
    Int(i64),
    Ms(f64),
}

const ZERO: T = T::Int(0);

impl T {
    fn json(self) -> J {
        match self {
            T::Int(i) => J::Int(i),
            T::Ms(f) => J::Float(f),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            T::Int(i) => i as f64,
            T::Ms(f) => f,
        }
    }

    /// `a + b` (`sub`: `a - b`), int if both are.
    fn add(self, other: T, sub: bool) -> T {
        match (self, other) {
            (T::Int(a), T::Int(b)) => {
                let r = if sub {
                    a.checked_sub(b)
                } else {
                    a.checked_add(b)
                };
                r.map_or_else(|| T::Ms(self.add_f(other, sub)), T::Int)
            }
            _ => T::Ms(self.add_f(other, sub)),
        }
    }

    fn add_f(self, other: T, sub: bool) -> f64 {
        if sub {
            self.as_f64() - other.as_f64()
        } else {
            self.as_f64() + other.as_f64()
        }
    }

    /// `1000 * (end - start)`.
    fn ms(end: T, start: T) -> T {
        match end.add(start, true) {
            T::Int(d) => d.checked_mul(1000).map_or(T::Ms(1000.0 * d as f64), T::Int),
            T::Ms(d) => T::Ms(1000.0 * d),
        }
    }
}

fn entry(flow: &Flow, servers_seen: &mut HashSet<String>) -> J {
    let req = flow.request().expect("checked by the caller");
    let resp = flow.response();
    let server = flow.conn("server_conn");
    let server_id = server
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("");

    // Connection times: counted for the first flow over a connection.
    let (mut connect, mut ssl) = (T::Ms(-1.0), T::Ms(-1.0));
    if servers_seen.contains(server_id) {
    } else if let Some(tcp) = server.and_then(|s| truthy(num(s, "timestamp_tcp_setup"))) {
        let server = server.expect("has a tcp setup time");
        // mitmproxy asserts a start time here; without one it is taken as 0.
        connect = T::ms(tcp, num(server, "timestamp_start").unwrap_or(ZERO));
        if let Some(tls) = truthy(num(server, "timestamp_tls_setup")) {
            ssl = T::ms(tls, tcp);
        }
        servers_seen.insert(server_id.to_owned());
    }
    let req_start = num(req, "timestamp_start").unwrap_or(ZERO);
    let req_end = truthy(num(req, "timestamp_end"));
    let send = req_end.map_or(ZERO, |end| T::ms(end, req_start));
    let wait = match (resp, req_end) {
        (Some(r), Some(end)) => T::ms(num(r, "timestamp_start").unwrap_or(ZERO), end),
        _ => ZERO,
    };
    let receive = match resp.map(|r| (r, truthy(num(r, "timestamp_end")))) {
        Some((r, Some(end))) => T::ms(end, num(r, "timestamp_start").unwrap_or(ZERO)),
        _ => ZERO,
    };
    // sum(v for v in timings.values() if v >= 0), in savehar's order.
    let mut time = ZERO;
    for t in [connect, ssl, send, receive, wait] {
        if t.as_f64() >= 0.0 {
            time = time.add(t, false);
        }
    }
    let timings = J::Obj(vec![
        ("connect", connect.json()),
        ("ssl", ssl.json()),
        ("send", send.json()),
        ("receive", receive.json()),
        ("wait", wait.json()),
    ]);

    let method = py_str(http::raw(req, "method")).to_uppercase();
    let url = if method == "CONNECT" {
        format!("https://{}/", url::pretty_url(req))
    } else {
        url::pretty_url(req)
    };
    let mut request = vec![
        ("method", J::Str(method.clone())),
        ("url", J::Str(url)),
        (
            "httpVersion",
            J::Str(py_str(http::raw(req, "http_version"))),
        ),
        ("cookies", request_cookies(req)),
        ("headers", header_list(req)),
        ("queryString", pairs(query(req))),
        ("headersSize", J::Int(headers_repr_len(req))),
        ("bodySize", J::Int(content_len(req))),
    ];
    if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
        let content_type = header_text(req, "content-type");
        let text = http::content_or_raw(req).map(|c| body_text(&c, &content_type));
        let params = if content_type
            .to_lowercase()
            .contains("application/x-www-form-urlencoded")
        {
            parse_qsl(text.as_deref().unwrap_or(""))
        } else {
            Vec::new()
        };
        request.push((
            "postData",
            J::Obj(vec![
                ("mimeType", J::Str(content_type)),
                ("text", text.map_or(J::Null, J::Str)),
                ("params", pairs(params)),
            ]),
        ));
    }

    let response = match resp {
        Some(r) => response(r),
        None => J::Obj(vec![
            ("status", J::Int(0)),
            ("statusText", J::Str(String::new())),
            ("httpVersion", J::Str(String::new())),
            ("headers", J::List(Vec::new())),
            ("cookies", J::List(Vec::new())),
            ("content", J::Obj(Vec::new())),
            ("redirectURL", J::Str(String::new())),
            ("headersSize", J::Int(-1)),
            ("bodySize", J::Int(-1)),
            ("_transferSize", J::Int(0)),
            (
                "_error",
                flow.error_msg().map_or(J::Null, |m| J::Str(m.to_owned())),
            ),
        ]),
    };

    let mut entry = vec![
        ("startedDateTime", J::Str(iso_utc(req_start.as_f64()))),
        ("time", time.json()),
        ("request", J::Obj(request)),
        ("response", response),
        ("cache", J::Obj(Vec::new())),
        ("timings", timings),
    ];
    if let Some(ip) = server
        .and_then(|s| s.get("peername"))
        .and_then(Value::as_list)
        .and_then(|p| p.first())
    {
        let ip = match ip {
            Value::Int(i) => i.to_string(),
            other => py_str(other.as_bytes().unwrap_or_default()),
        };
        entry.push(("serverIPAddress", J::Str(ip)));
    }
    if flow.websocket().is_some() {
        // A long stream's older messages are read back from its spill; one
        // that cannot be read leaves them out rather than the flow.
        let mut messages = Vec::new();
        let _ = flow.for_each_stream_message(|v| {
            let message = Message::new(v).zip(v.as_list().and_then(|l| l.get(3)));
            if let Some((m, time)) = message {
                messages.push(websocket_message(m, time));
            }
        });
        entry.push(("_resourceType", J::Str("websocket".into())));
        entry.push(("_webSocketMessages", J::List(messages)));
    }
    J::Obj(entry)
}

/// One message; `time` is its timestamp as stored (int or float).
fn websocket_message(m: Message<'_>, time: &Value) -> J {
    let content = m.content().unwrap_or_default();
    // mitmproxy decodes text strictly; text that is not UTF-8 (which a
    // WebSocket peer may not send) is kept as surrogates here.
    let data = if m.is_text() {
        py_str(content)
    } else {
        b64encode(content)
    };
    J::Obj(vec![
        (
            "type",
            J::Str(if m.from_client() { "send" } else { "receive" }.into()),
        ),
        (
            "time",
            match time {
                Value::Int(i) => J::Int(*i),
                other => other.as_float().map_or(J::Null, J::Float),
            },
        ),
        ("opcode", m.kind().map_or(J::Null, J::Int)),
        ("data", J::Str(data)),
    ])
}

fn response(r: &Dict) -> J {
    let raw_size = http::raw_content(r).map_or(0, |c| c.len());
    let content = http::content_or_raw(r);
    let decoded_size = content.as_ref().map_or(0, |c| c.len());
    let content_type = header_text(r, "content-type");
    let mut body = vec![
        ("size", J::Int(raw_size as i64)),
        ("compression", J::Int(decoded_size as i64 - raw_size as i64)),
        ("mimeType", J::Str(content_type.clone())),
    ];
    match &content {
        Some(c) if !c.is_empty() && is_mostly_bin(c) => {
            body.push(("text", J::Str(b64encode(c))));
            body.push(("encoding", J::Str("base64".into())));
        }
        _ => body.push((
            "text",
            J::Str(
                content
                    .map(|c| body_text(&c, &content_type))
                    .unwrap_or_default(),
            ),
        )),
    }
    J::Obj(vec![
        (
            "status",
            J::Int(r.get("status_code").and_then(Value::as_int).unwrap_or(0)),
        ),
        (
            "statusText",
            J::Str(
                http::raw(r, "reason")
                    .iter()
                    .map(|&b| char::from(b))
                    .collect(),
            ),
        ),
        ("httpVersion", J::Str(py_str(http::raw(r, "http_version")))),
        ("cookies", response_cookies(r)),
        ("headers", header_list(r)),
        ("content", J::Obj(body)),
        ("redirectURL", J::Str(header_text(r, "location"))),
        ("headersSize", J::Int(headers_repr_len(r))),
        ("bodySize", J::Int(raw_size as i64)),
    ])
}

/// `headers.get(name, "")`: every value of the field, joined by `, `.
fn header_text(msg: &Dict, name: &str) -> String {
    let values: Vec<String> = http::fields(msg)
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| py_str(v))
        .collect();
    values.join(", ")
}

fn header_list(msg: &Dict) -> J {
    pairs(
        http::fields(msg)
            .map(|(n, v)| (py_str(n), py_str(v)))
            .collect(),
    )
}

fn pairs(items: Vec<(String, String)>) -> J {
    J::List(
        items
            .into_iter()
            .map(|(name, value)| J::Obj(vec![("name", J::Str(name)), ("value", J::Str(value))]))
            .collect(),
    )
}

/// `len(str(headers))`: the length of `Headers[(b'name', b'value'), ...]`.
fn headers_repr_len(msg: &Dict) -> i64 {
    let fields: Vec<(&[u8], &[u8])> = http::fields(msg).collect();
    let inner: usize = fields
        .iter()
        .map(|(n, v)| bytes_repr_len(n) + bytes_repr_len(v) + 4)
        .sum();
    let separators = fields.len().saturating_sub(1) * 2;
    ("Headers[]".len() + inner + separators) as i64
}

/// `len(repr(b))`.
fn bytes_repr_len(b: &[u8]) -> usize {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    3 + b
        .iter()
        .map(|&c| match c {
            b'\\' | b'\t' | b'\n' | b'\r' => 2,
            c if c == quote => 2,
            0x20..=0x7E => 1,
            _ => 4,
        })
        .sum::<usize>()
}

/// `len(request.content) if request.content else 0`; mitmproxy raises on
/// a body it cannot decode, the raw length is taken here.
fn content_len(msg: &Dict) -> i64 {
    http::content_or_raw(msg).map_or(0, |c| c.len() as i64)
}

/// `Request.cookies`: every Cookie field's pairs.
fn request_cookies(req: &Dict) -> J {
    let out = http::fields(req)
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"cookie"))
        .flat_map(|(_, value)| cookies::parse_cookie_header(&py_str(value)))
        .collect();
    pairs(out)
}

/// `format_response_cookies`: every Set-Cookie field's cookies.
fn response_cookies(resp: &Dict) -> J {
    let mut out = Vec::new();
    for (_, value) in http::fields(resp).filter(|(n, _)| n.eq_ignore_ascii_case(b"set-cookie")) {
        for c in cookies::parse_set_cookie(&py_str(value)) {
            let opt = |v: Option<&str>| v.map_or(J::Null, |v| J::Str(v.to_owned()));
            let mut cookie = vec![
                ("name", J::Str(c.name.clone())),
                ("value", opt(c.value.as_deref())),
                ("path", c.attr("path").map_or(J::Str("/".into()), opt)),
                (
                    "domain",
                    c.attr("domain").map_or(J::Str(String::new()), opt),
                ),
                ("httpOnly", J::Bool(c.attr("httponly").is_some())),
                ("secure", J::Bool(c.attr("secure").is_some())),
            ];
            if let Some(same_site) = c.attr("samesite") {
                cookie.push(("sameSite", opt(same_site)));
            }
            out.push(J::Obj(cookie));
        }
    }
    J::List(out)
}

/// `Request.query`: `parse_qsl` of the URL's query.
fn query(req: &Dict) -> Vec<(String, String)> {
    if http::raw(req, "method").eq_ignore_ascii_case(b"CONNECT") {
        return Vec::new();
    }
    let path: String = py_str(http::raw(req, "path"))
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let path = path.split('#').next().unwrap_or("");
    match path.split_once('?') {
        Some((_, q)) => parse_qsl(q),
        None => Vec::new(),
    }
}

/// `urllib.parse.parse_qsl(qs, keep_blank_values=True,
/// errors="surrogateescape")`.
pub(crate) fn parse_qsl(qs: &str) -> Vec<(String, String)> {
    qs.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (unquote_plus(name), unquote_plus(value))
        })
        .collect()
}

/// `unquote(s.replace("+", " "), errors="surrogateescape")`.
fn unquote_plus(s: &str) -> String {
    let s = s.replace('+', " ");
    if !s.contains('%') {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut pending: Vec<u8> = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(h) = bytes.get(i + 1..i + 3)
            && let Ok(h) = std::str::from_utf8(h)
            && h.bytes().all(|c| c.is_ascii_hexdigit())
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            pending.push(v);
            i += 3;
        } else if b.is_ascii() {
            pending.push(b);
            i += 1;
        } else {
            out.push_str(&py_str(&pending));
            pending.clear();
            let c = s[i..].chars().next().expect("a char starts here");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out.push_str(&py_str(&pending));
    out
}
