//! HAR entries to flows: mitmproxy 11's `io/har.py` (`request_to_flow`)
//! and how its `FlowReader` recognises and reads a HAR file.

use serde_json::Value as JsonValue;

use super::HarError;
use super::json::py_bytes;
use super::text::{
    assemble_content_type, b64decode, encode, infer_content_encoding, parse_content_type, parse_iso,
};
use crate::flow::{FORMAT_VERSION, Flow, new_id};
use crate::http::{self, url};
use crate::tnetstring::{Dict, Value};

/// Header fields, name and value, in order.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Whether a file starting with `head` is read as HAR, as mitmproxy's
/// `FlowReader` decides: it starts with `{`, or with a UTF-8 byte order
/// mark and `{` (Fiddler writes one). A flow file starts with a digit.
pub fn is_har(head: &[u8]) -> bool {
    head.strip_prefix(BOM).unwrap_or(head).first() == Some(&b'{')
}

/// Every flow of a HAR file, or the first reason it cannot be read.
pub fn read_har(bytes: &[u8]) -> Result<Vec<Flow>, HarError> {
    HarEntries::parse(bytes)?.collect()
}

/// A parsed HAR file's entries, made into flows one at a time: as in
/// mitmproxy, the entries before a broken one are flows, and reading
/// stops at the broken one.
#[derive(Debug)]
pub struct HarEntries {
    entries: std::vec::IntoIter<JsonValue>,
    index: usize,
    total: usize,
    failed: bool,
}

impl HarEntries {
    /// Parses the JSON (after a byte order mark, if any) and finds
    /// `log.entries`.
    pub fn parse(bytes: &[u8]) -> Result<HarEntries, HarError> {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        let mut doc: JsonValue = serde_json::from_slice(bytes).map_err(|e| HarError::Json {
            reason: e.to_string(),
        })?;
        let entries = match doc.get_mut("log").and_then(|l| l.get_mut("entries")) {
            Some(JsonValue::Array(entries)) => std::mem::take(entries),
            _ => return Err(HarError::NoEntries),
        };
        Ok(HarEntries {
            total: entries.len(),
            entries: entries.into_iter(),
            index: 0,
            failed: false,
        })
    }

    /// How many entries the file has.
    pub fn total(&self) -> usize {
        self.total
    }

    /// How many have been taken.
    pub fn taken(&self) -> usize {
        self.index
    }
}

impl Iterator for HarEntries {
    type Item = Result<Flow, HarError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let entry = self.entries.next()?;
        let index = self.index;
        self.index += 1;
        let flow = request_to_flow(&entry, index, now());
        self.failed = flow.is_err();
        Some(flow)
    }
}

/// Seconds since the Unix epoch: a flow's `timestamp_created`.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One entry and where it is, for errors.
struct Entry<'a> {
    json: &'a JsonValue,
    index: usize,
}

impl<'a> Entry<'a> {
    fn missing(&self, field: &str, expected: &'static str) -> HarError {
        HarError::Field {
            entry: self.index,
            field: field.to_owned(),
            expected,
        }
    }

    fn bad(&self, field: &str, reason: impl Into<String>) -> HarError {
        HarError::Value {
            entry: self.index,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The value at a dotted path, `None` if any step is missing.
    fn get(&self, path: &str) -> Option<&'a JsonValue> {
        path.split('.').try_fold(self.json, |v, key| v.get(key))
    }

    /// A dict at `path` (mitmproxy indexes into it).
    fn object(&self, path: &str) -> Result<&'a JsonValue, HarError> {
        self.get(path)
            .filter(|v| v.is_object())
            .ok_or_else(|| self.missing(path, "an object"))
    }

    fn str(&self, path: &str) -> Result<&'a str, HarError> {
        self.get(path)
            .and_then(JsonValue::as_str)
            .ok_or_else(|| self.missing(path, "a string"))
    }

    fn number(&self, path: &str) -> Result<f64, HarError> {
        self.get(path)
            .and_then(JsonValue::as_f64)
            .ok_or_else(|| self.missing(path, "a number"))
    }

    /// `fix_headers`: `{"name", "value"}` objects or `[name, value]` lists.
    fn headers(&self, path: &str) -> Result<Fields, HarError> {
        let list = self
            .get(path)
            .and_then(JsonValue::as_array)
            .ok_or_else(|| self.missing(path, "a list"))?;
        list.iter()
            .enumerate()
            .map(|(i, h)| {
                let (name, value) = match h {
                    JsonValue::Object(o) => (o.get("name"), o.get("value")),
                    JsonValue::Array(a) => (a.first(), a.get(1)),
                    _ => (None, None),
                };
                match (
                    name.and_then(JsonValue::as_str),
                    value.and_then(JsonValue::as_str),
                ) {
                    (Some(n), Some(v)) => Ok((py_bytes(n), py_bytes(v))),
                    _ => Err(self.missing(
                        &format!("{path}[{i}]"),
                        "a {\"name\": ..., \"value\": ...} object with two strings",
                    )),
                }
            })
            .collect()
    }
}

fn headers_value(fields: &[(Vec<u8>, Vec<u8>)]) -> Value {
    Value::list(
        fields
            .iter()
            .map(|(n, v)| Value::list(vec![Value::bytes(n), Value::bytes(v)]))
            .collect(),
    )
}

/// `request_to_flow`: one entry as mitmproxy builds it.
fn request_to_flow(json: &JsonValue, index: usize, now: f64) -> Result<Flow, HarError> {
    let e = Entry { json, index };
    e.object("request")?;
    e.object("response")?;
    let started = e.str("startedDateTime")?;
    let timestamp_start = parse_iso(started).map_err(|r| e.bad("startedDateTime", r))?;
    let timestamp_end = timestamp_start + e.number("time")? / 1000.0;
    let method = e.str("request.method")?;
    let request_url = e.str("request.url")?;
    let server_address = match e.get("serverIPAddress") {
        None | Some(JsonValue::Null) => None,
        Some(JsonValue::String(s)) if s.is_empty() => None,
        Some(JsonValue::String(s)) => Some(s.as_str()),
        Some(_) => return Err(e.missing("serverIPAddress", "a string")),
    };
    let request_headers = e.headers("request.headers")?;
    let version_req = e
        .get("request.httpVersion")
        .ok_or_else(|| e.missing("request.httpVersion", "present"))?;
    let version_resp = e
        .get("response.httpVersion")
        .ok_or_else(|| e.missing("response.httpVersion", "present"))?;
    let port = if request_url.starts_with("http://") {
        80
    } else {
        443
    };

    let request_content = match e.get("request.postData") {
        None => "",
        Some(_) => e.str("request.postData.text")?,
    };
    // Request.make(method, url, content, headers).
    let parts = url::parse(request_url).map_err(|r| e.bad("request.url", r.to_string()))?;
    let mut request = Dict::new();
    request.push("http_version", Value::bytes(http_version(version_req)));
    request.push("headers", headers_value(&request_headers));
    request.push("content", Value::bytes(b""));
    request.push("trailers", Value::Null);
    request.push("timestamp_start", Value::Float(timestamp_start));
    request.push("timestamp_end", Value::Float(timestamp_end));
    request.push("host", Value::text(&parts.host));
    request.push("port", Value::Int(parts.port));
    request.push("method", Value::bytes(&py_bytes(method)));
    request.push("scheme", Value::bytes(parts.scheme.as_bytes()));
    request.push("authority", Value::bytes(b""));
    request.push("path", Value::bytes(&py_bytes(&parts.path)));
    set_request_text(&mut request, request_content);

    // The response, built directly (no Content-Length added).
    let status = match e.get("response.status") {
        Some(s) => s
            .as_i64()
            .ok_or_else(|| e.missing("response.status", "an integer"))?,
        None => return Err(e.missing("response.status", "an integer")),
    };
    e.object("response.content")?;
    let text = e.get("response.content.text");
    let content_encoding = match e.get("response.content.encoding") {
        None | Some(JsonValue::Null) => None,
        Some(JsonValue::String(s)) => Some(s.as_str()),
        Some(_) => return Err(e.missing("response.content.encoding", "a string")),
    };
    let response_headers = e.headers("response.headers")?;
    let mut response = Dict::new();
    response.push("http_version", Value::bytes(http_version(version_resp)));
    response.push("headers", headers_value(&response_headers));
    let header = |name: &str| -> String {
        let values: Vec<String> = response_headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| super::json::py_str(v))
            .collect();
        values.join(", ")
    };
    let decoded: Option<Vec<u8>> = match (text, content_encoding) {
        // Firefox leaves images out.
        (None, _) => Some(Vec::new()),
        (Some(JsonValue::String(t)), Some("base64")) => {
            Some(b64decode(t).map_err(|r| e.bad("response.content.text", r))?)
        }
        (Some(JsonValue::String(t)), enc) => {
            let enc = enc.filter(|enc| !enc.is_empty()).map_or_else(
                || infer_content_encoding(&header("content-type"), b""),
                str::to_owned,
            );
            Some(encode(t, &enc).unwrap_or_else(|| py_bytes(t)))
        }
        (Some(JsonValue::Null), _) => None,
        (Some(_), _) => return Err(e.missing("response.content.text", "a string")),
    };
    let content = match decoded {
        None => Value::Null,
        Some(body) => {
            let ce = header("content-encoding").to_lowercase();
            let raw = match ce.as_str() {
                "" | "identity" | "none" => body,
                "gzip" | "deflate" | "br" | "zstd" => crate::encoding::encode(ce.as_bytes(), &body)
                    .map_err(|r| e.bad("response.headers", r.to_string()))?
                    .to_vec(),
                other => {
                    return Err(e.bad(
                        "response.headers",
                        format!(
                            "content-encoding {other:?} is not one mitmproxy can apply to the text \
                             (gzip, deflate, br, zstd, identity)"
                        ),
                    ));
                }
            };
            Value::bytes(&raw)
        }
    };
    response.push("content", content);
    response.push("trailers", Value::Null);
    response.push("timestamp_start", Value::Float(timestamp_start));
    response.push("timestamp_end", Value::Float(timestamp_end));
    response.push("status_code", Value::Int(status));
    let reason = u16::try_from(status).map_or("", http::reason_phrase);
    response.push("reason", Value::bytes(reason.as_bytes()));

    let server_conn = server_conn(server_address.map(|a| (a, port)));
    let mut d = Dict::new();
    d.push("version", Value::Int(FORMAT_VERSION));
    d.push("type", Value::text("http"));
    d.push("id", Value::text(&new_id()));
    d.push("error", Value::Null);
    d.push("client_conn", client_conn(timestamp_start, timestamp_end));
    d.push("server_conn", server_conn);
    d.push("intercepted", Value::Bool(false));
    d.push("is_replay", Value::Null);
    d.push("marked", Value::text(""));
    d.push("metadata", Value::Dict(Dict::new().into()));
    d.push("comment", Value::text(""));
    d.push("timestamp_created", Value::Float(now));
    d.push("backup", Value::Null);
    d.push("request", Value::Dict(request.into()));
    d.push("response", Value::Dict(response.into()));
    d.push("websocket", Value::Null);
    Ok(Flow::from_value(Value::Dict(d.into())).expect("a dict"))
}

/// The version mitmproxy sets from a HAR's `httpVersion`.
fn http_version(v: &JsonValue) -> &'static [u8] {
    match v.as_str() {
        Some("http/2.0" | "HTTP/2") => b"HTTP/2",
        Some("HTTP/3") => b"HTTP/3",
        _ => b"HTTP/1.1",
    }
}

/// `Request.text = text`: encoded in the Content-Type's charset (latin-1
/// by default); text that charset cannot hold is sent as UTF-8 and the
/// Content-Type says so. Then `Request.content = ...`: Content-Encoding
/// applied and Content-Length set.
fn set_request_text(request: &mut Dict, text: &str) {
    let content_type = {
        let values: Vec<String> = http::fields(request)
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
            .map(|(_, v)| super::json::py_str(v))
            .collect();
        values.join(", ")
    };
    let enc = infer_content_encoding(&content_type, b"");
    let body = match encode(text, &enc) {
        Some(body) => body,
        None => {
            let (ty, sub, mut params) = parse_content_type(&content_type)
                .unwrap_or_else(|| ("text".into(), "plain".into(), Vec::new()));
            match params.iter_mut().find(|(k, _)| k == "charset") {
                Some(slot) => slot.1 = "utf-8".into(),
                None => params.push(("charset".into(), "utf-8".into())),
            }
            let value = assemble_content_type(&ty, &sub, &params);
            http::set_header(request, b"content-type", &py_bytes(&value));
            py_bytes(text)
        }
    };
    http::set_decoded_content(request, &body);
}

/// The connection fields both sides have, in mitmproxy's order.
fn conn_common(d: &mut Dict, peer: Value, sock: Value) {
    d.push("peername", peer);
    d.push("sockname", sock);
    d.push("id", Value::text(&new_id()));
    d.push("transport_protocol", Value::text("tcp"));
    d.push("error", Value::Null);
    d.push("tls", Value::Bool(false));
    d.push("certificate_list", Value::list(Vec::new()));
    d.push("alpn", Value::Null);
    d.push("alpn_offers", Value::list(Vec::new()));
    d.push("cipher", Value::Null);
    d.push("cipher_list", Value::list(Vec::new()));
    d.push("tls_version", Value::Null);
    d.push("sni", Value::Null);
}

fn loopback() -> Value {
    Value::list(vec![Value::text("127.0.0.1"), Value::Int(0)])
}

/// mitmproxy's client for HAR flows: loopback, the entry's times.
fn client_conn(start: f64, end: f64) -> Value {
    let mut d = Dict::new();
    conn_common(&mut d, loopback(), loopback());
    d.push("timestamp_start", Value::Float(start));
    d.push("timestamp_end", Value::Float(end));
    d.push("timestamp_tls_setup", Value::Null);
    d.push("mitmcert", Value::Null);
    d.push("proxy_mode", Value::text("regular"));
    Value::Dict(d.into())
}

/// mitmproxy's server for HAR flows: never connected, its address the
/// entry's `serverIPAddress` (port 80 for `http://` URLs, else 443).
fn server_conn(address: Option<(&str, i64)>) -> Value {
    let mut d = Dict::new();
    conn_common(&mut d, Value::Null, Value::Null);
    d.push("timestamp_start", Value::Null);
    d.push("timestamp_end", Value::Null);
    d.push("timestamp_tls_setup", Value::Null);
    d.push(
        "address",
        address.map_or(Value::Null, |(host, port)| {
            Value::list(vec![Value::text(host), Value::Int(port)])
        }),
    );
    d.push("timestamp_tcp_setup", Value::Null);
    d.push("via", Value::Null);
    Value::Dict(d.into())
}
