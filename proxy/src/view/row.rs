//! [`Row`]: what the flow list shows of one flow, and sorts by, kept in
//! memory while the flow itself stays in the session file.

use crate::flow::{Flow, FlowKind};
use crate::http::{self, Which};
use crate::summary;
use crate::tnetstring::Value;

/// The flow has TLS on the client side (or an `https` request).
pub const TLS: u8 = 1;
/// The flow is a replay (`is_replay` set).
pub const REPLAY: u8 = 2;
/// The flow was intercepted (`intercepted`).
pub const INTERCEPTED: u8 = 4;
/// The flow was killed (its error is mitmproxy's "Connection killed.").
pub const KILLED: u8 = 8;
/// The flow has an error.
pub const ERROR: u8 = 16;
/// The flow is marked (`marked` is not empty).
pub const MARKED: u8 = 32;

/// One flow's line in the list: its place in the session file and the
/// fields the columns show.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Where the flow starts in the session file.
    pub offset: u64,
    /// How many bytes it takes there.
    pub len: u32,
    /// `http`, `websocket`, `tcp`, `udp`, `dns`, or the file's own word.
    pub kind: Box<str>,
    /// When the flow started (Unix seconds).
    pub time: f64,
    /// The request method (empty for other flows).
    pub method: Box<str>,
    /// The URL as mitmproxy shows it; for TCP and UDP flows the server's
    /// address.
    pub url: Box<str>,
    /// The response's status, 0 without one.
    pub status: u16,
    /// The response body's size, or a stream's message bytes.
    pub size: u64,
    /// Seconds from the request to the end of the response (or the
    /// error); `None` before that.
    pub duration: Option<f64>,
    /// [`TLS`], [`REPLAY`], … bits.
    pub flags: u8,
    /// The mark's colour or emoji as mitmproxy writes it (`:default:`,
    /// `:red:`, `🐛`); empty when unmarked.
    pub mark: Box<str>,
    /// Deleted from the view (still in the file).
    pub deleted: bool,
    /// Where the flow was before its first edit, to revert to.
    pub original: Option<(u64, u32)>,
}

impl Row {
    /// The row of `flow`, which the session file holds at `offset`, in
    /// `len` bytes.
    pub fn of(flow: &Flow, offset: u64, len: u32) -> Row {
        let dict = flow.dict();
        let float = |d: Option<&crate::tnetstring::Dict>, key: &str| {
            d.and_then(|d| d.get(key)).and_then(Value::as_float)
        };
        let req = flow.request();
        let resp = flow.response();
        let client = flow.conn("client_conn");
        let mut flags = 0;
        let client_tls = client
            .and_then(|c| c.get("tls_established"))
            .is_some_and(|v| matches!(v, Value::Bool(true)));
        let https = req.is_some_and(|r| http::raw(r, "scheme") == b"https");
        if client_tls || https {
            flags |= TLS;
        }
        if dict.get("is_replay").is_some_and(|v| !v.is_null()) {
            flags |= REPLAY;
        }
        if matches!(dict.get("intercepted"), Some(Value::Bool(true))) {
            flags |= INTERCEPTED;
        }
        let error = flow.error_msg();
        if error.is_some() {
            flags |= ERROR;
        }
        if error == Some("Connection killed.") {
            flags |= KILLED;
        }
        let mark = flow.text("marked").unwrap_or("");
        if !mark.is_empty() {
            flags |= MARKED;
        }
        let start = float(req, "timestamp_start").or_else(|| float(client, "timestamp_start"));
        let end = float(resp, "timestamp_end").or_else(|| {
            flow.dict()
                .get("error")
                .and_then(Value::as_dict)
                .and_then(|e| e.get("timestamp"))
                .and_then(Value::as_float)
        });
        let duration = match (start, end) {
            (Some(s), Some(e)) if e >= s => Some(e - s),
            _ => None,
        };
        let messages = |key: &str| {
            dict.get(key).and_then(Value::as_list).map_or(0, |list| {
                list.iter()
                    .filter_map(Value::as_list)
                    .filter_map(|m| m.get(1).and_then(Value::as_bytes).map(<[u8]>::len))
                    .sum::<usize>() as u64
            })
        };
        let (kind, method, url, size) = match flow.kind() {
            FlowKind::Http => {
                let websocket = dict.get("websocket").is_some_and(|w| !w.is_null());
                let method = req.map_or(String::new(), |r| {
                    String::from_utf8_lossy(http::raw(r, "method")).into_owned()
                });
                let url = req.map_or(String::new(), summary::url);
                let size = if websocket {
                    dict.get("websocket")
                        .and_then(Value::as_dict)
                        .and_then(|w| w.get("messages"))
                        .and_then(Value::as_list)
                        .map_or(0, |list| {
                            list.iter()
                                .filter_map(Value::as_list)
                                .filter_map(|m| m.get(2).and_then(Value::as_bytes))
                                .map(|b| b.len() as u64)
                                .sum()
                        })
                } else {
                    resp.and_then(http::raw_content)
                        .map_or(0, |b| b.len() as u64)
                };
                let kind = if websocket { "websocket" } else { "http" };
                (kind.to_owned(), method, url, size)
            }
            _ => {
                let server = summary::addr(flow.conn("server_conn"), "address")
                    .unwrap_or_else(|| "-".into());
                (
                    flow.kind_name().to_owned(),
                    String::new(),
                    server,
                    messages("messages"),
                )
            }
        };
        let status = resp
            .and_then(|r| r.get("status_code"))
            .and_then(Value::as_int)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        Row {
            offset,
            len,
            kind: kind.into(),
            time: start.unwrap_or(0.0),
            method: method.into(),
            url: url.into(),
            status,
            size,
            duration,
            flags,
            mark: mark.into(),
            deleted: false,
            original: None,
        }
    }

    /// The `Host` the request went to, from the URL.
    pub fn host(&self) -> &str {
        let rest = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        rest.split(['/', '?']).next().unwrap_or("")
    }

    /// Whether a [`Which`] message is there to read: a request for HTTP
    /// flows, a response once it has a status.
    pub fn has(&self, which: Which) -> bool {
        match which {
            Which::Request => !self.method.is_empty(),
            Which::Response => self.status != 0,
        }
    }
}
