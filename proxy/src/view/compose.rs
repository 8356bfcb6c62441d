//! Compose: a request as the page edits it before sending ([`Draft`]),
//! made from a flow, from scratch, from raw HTTP text or from a pasted
//! curl command, and made into a flow to send. Pure functions, no I/O;
//! the runner keeps the drafts and sends them through the replayer.

use base64::Engine as _;
use serde_json::{Value as Json, json};

use super::Invalid;
use crate::flow::Flow;
use crate::har::read_har;
use crate::http::{self, Which};
use crate::tnetstring::Value;

mod curl;
mod raw;

pub use curl::{CurlError, shell_words};

/// A request being composed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// `GET`, `POST`, …
    pub method: String,
    /// The whole URL: `https://example.com/a?b=1`.
    pub url: String,
    /// `HTTP/1.1`, `HTTP/2`, …
    pub http_version: String,
    /// Header fields in order, names as written.
    pub headers: Vec<(String, String)>,
    /// The body, decoded (the Content-Encoding header, if any, is applied
    /// when the request is sent).
    pub body: Vec<u8>,
}

impl Default for Draft {
    fn default() -> Draft {
        Draft {
            method: "GET".into(),
            url: "http://example.com/".into(),
            http_version: "HTTP/1.1".into(),
            headers: vec![("Host".into(), "example.com".into())],
            body: Vec::new(),
        }
    }
}

impl Draft {
    /// The request of `flow`, to edit and send again.
    pub fn of(flow: &Flow) -> Result<Draft, Invalid> {
        let req = flow
            .request()
            .ok_or(Invalid::Missing("request to compose from"))?;
        if matches!(req.get("content"), None | Some(Value::Null)) {
            return Err(Invalid::Whole(
                "its request body was streamed, not kept; compose the request anew, or paste it as raw text"
                    .into(),
            ));
        }
        let text = |key| String::from_utf8_lossy(http::raw(req, key)).into_owned();
        let body = http::decoded_content(req)
            .ok()
            .flatten()
            .or_else(|| http::raw_content(req).cloned())
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Ok(Draft {
            method: text("method"),
            url: http::url::url(req),
            http_version: text("http_version"),
            headers: http::fields(req)
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(n).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect(),
            body,
        })
    }

    /// The page's JSON: `body` as text when it is UTF-8, else
    /// `body_base64`.
    pub fn json(&self) -> Json {
        let headers: Vec<Json> = self.headers.iter().map(|(n, v)| json!([n, v])).collect();
        let mut out = json!({
            "method": self.method,
            "url": self.url,
            "http_version": self.http_version,
            "headers": headers,
        });
        match std::str::from_utf8(&self.body) {
            Ok(text) => out["body"] = json!(text),
            Err(_) => {
                out["body_base64"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(&self.body))
            }
        }
        out
    }

    /// A draft from the page's JSON (as [`json`](Draft::json) writes
    /// it; every field but `url` optional).
    pub fn from_json(j: &Json) -> Result<Draft, Invalid> {
        let text = |key: &str, default: &str| -> Result<String, Invalid> {
            match j.get(key) {
                None | Some(Json::Null) => Ok(default.to_owned()),
                Some(Json::String(s)) => Ok(s.clone()),
                Some(_) => Err(Invalid::at(key, "expected text")),
            }
        };
        let url = text("url", "")?;
        if url.is_empty() {
            return Err(Invalid::at(
                "url",
                "a request needs a URL (http://… or https://…)",
            ));
        }
        let mut headers = Vec::new();
        if let Some(list) = j.get("headers").filter(|h| !h.is_null()) {
            let bad = || Invalid::at("headers", "expected [[name, value], ...]");
            for pair in list.as_array().ok_or_else(bad)? {
                match (
                    pair.get(0).and_then(Json::as_str),
                    pair.get(1).and_then(Json::as_str),
                ) {
                    (Some(n), Some(v)) => headers.push((n.to_owned(), v.to_owned())),
                    _ => return Err(bad()),
                }
            }
        }
        let body =
            match (j.get("body_base64"), j.get("body")) {
                (Some(Json::String(b64)), _) => base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| Invalid::at("body_base64", format!("not base64: {e}")))?,
                (Some(other), _) if !other.is_null() => {
                    return Err(Invalid::at("body_base64", "expected text"));
                }
                _ => text("body", "")?.into_bytes(),
            };
        Ok(Draft {
            method: text("method", "GET")?,
            url,
            http_version: text("http_version", "HTTP/1.1")?,
            headers,
            body,
        })
    }

    /// The request as raw HTTP text: the request line with the whole
    /// URL, the headers, a blank line and the body (lines end in `\n`).
    pub fn raw(&self) -> String {
        raw::write(self)
    }

    /// A draft from raw HTTP text (see [`raw`](Draft::raw)); a request
    /// line with only a path takes its host from the Host header and its
    /// scheme from `scheme`.
    pub fn from_raw(text: &str, scheme: &str) -> Result<Draft, Invalid> {
        raw::read(text, scheme)
    }

    /// A draft from a curl command line, as browsers' "Copy as cURL"
    /// writes it.
    pub fn from_curl(command: &str) -> Result<Draft, CurlError> {
        curl::read(command)
    }

    /// The flow to send: `base` (the flow the draft came from, so its
    /// connection details stay) or a new one, with the draft's request
    /// and no response. The body's Content-Length is set as mitmproxy's
    /// `Request.content = …` sets it, unless the body is empty and none
    /// was given.
    pub fn to_flow(&self, base: Option<&Flow>) -> Result<Flow, Invalid> {
        let mut flow = match base {
            Some(f) if f.request().is_some() => f.duplicate(),
            _ => blank(),
        };
        let headers: Vec<Json> = self.headers.iter().map(|(n, v)| json!([n, v])).collect();
        // The URL first: setting it rewrites Host, and a Host the draft
        // gives (a virtual host to test) must win.
        let url = json!({"request": {"method": self.method, "url": self.url}});
        super::edit::apply(&mut flow, &url)?;
        let rest = json!({"request": {"http_version": self.http_version, "headers": headers}});
        super::edit::apply(&mut flow, &rest)?;
        let req = flow
            .message_mut(Which::Request)
            .expect("the flow has a request");
        if self.body.is_empty() && http::header(req, "content-length").is_none() {
            req.insert("content", Value::bytes(b""));
        } else {
            http::set_decoded_content(req, &self.body);
        }
        flow.prepare_replay();
        Ok(flow)
    }
}

/// A new HTTP flow with an empty GET request and no response, built as
/// mitmproxy builds a flow from a HAR entry (`request_to_flow`).
fn blank() -> Flow {
    const ENTRY: &str = r#"{"log": {"entries": [{
        "startedDateTime": "1970-01-01T00:00:00Z", "time": 0,
        "request": {"method": "GET", "url": "http://example.com/", "httpVersion": "HTTP/1.1", "headers": []},
        "response": {"status": 200, "httpVersion": "HTTP/1.1", "headers": [], "content": {}}
    }]}}"#;
    let mut flow = read_har(ENTRY.as_bytes())
        .ok()
        .and_then(|mut flows| flows.pop())
        .expect("the blank entry reads");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    flow.dict_mut()
        .insert("timestamp_created", Value::Float(now));
    flow
}

#[cfg(test)]
mod tests;
