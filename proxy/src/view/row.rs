//! [`Row`]: what the flow list shows of one flow, and sorts by, kept in
//! memory while the flow itself stays in the session file.

use std::borrow::Cow;

use crate::flow::{FORMAT_VERSION, Flow};
use crate::http::Which;
use crate::summary;
use crate::tnetstring::{Item, Node, Tree};

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
    /// `http`, `websocket`, `tcp`, `udp`, `dns`, or the file's own word
    /// (the usual words are not copied: see [`word`]).
    pub kind: Cow<'static, str>,
    /// When the flow started (Unix seconds).
    pub time: f64,
    /// The request method (empty for other flows).
    pub method: Cow<'static, str>,
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
        Row::read(Tree::Dict(flow.dict()), offset, len)
    }

    /// The row of the flow in `bytes` (one whole flow-file item), read
    /// without building the flow; `None` when it is not a flow of this
    /// format that can be read so (an older format, or a malformed item),
    /// for the caller to parse instead.
    pub fn scan(bytes: &[u8], offset: u64) -> Option<Row> {
        let flow = Item::whole(bytes)?;
        if !flow.is_dict() || flow.get("version")?.int()? != FORMAT_VERSION {
            return None;
        }
        Some(Row::read(flow, offset, u32::try_from(bytes.len()).ok()?))
    }

    /// The row of a flow, built or not.
    fn read<'a, N: Node<'a>>(flow: N, offset: u64, len: u32) -> Row {
        let dict = |n: Option<N>| n.filter(|n| n.is_dict());
        let [
            req,
            resp,
            client,
            error,
            server,
            kind_name,
            replay,
            intercepted,
            mark,
            ws,
            messages,
        ] = flow.fields([
            "request",
            "response",
            "client_conn",
            "error",
            "server_conn",
            "type",
            "is_replay",
            "intercepted",
            "marked",
            "websocket",
            "messages",
        ]);
        let (req, resp, client, error) = (dict(req), dict(resp), dict(client), dict(error));
        // The request is read in one walk: the URL's fields, then its
        // start.
        let [scheme, host, port, authority, method, path, req_start] = req.map_or([None; 7], |r| {
            let [u0, u1, u2, u3, u4, u5] = summary::URL_FIELDS;
            r.fields([u0, u1, u2, u3, u4, u5, "timestamp_start"])
        });
        let [content, status, resp_end] = resp.map_or([None; 3], |r| {
            r.fields(["content", "status_code", "timestamp_end"])
        });
        let https = scheme.and_then(Node::bytes) == Some(b"https");
        let float = |n: Option<N>| n.and_then(Node::float);
        // The client's record (often still in its file form) is only read
        // for what the request does not tell: its TLS unless the scheme
        // is `https`, its start unless the request's is a number (a `~`
        // falls back as an absent one does).
        let [tls, client_start] = match (client, !https, float(req_start).is_none()) {
            (Some(c), true, true) => c.fields(["tls", "timestamp_start"]),
            (Some(c), true, false) => [c.get("tls"), None],
            (Some(c), false, true) => [None, c.get("timestamp_start")],
            _ => [None; 2],
        };
        let [message, error_time] = error.map_or([None; 2], |e| e.fields(["msg", "timestamp"]));
        let mut flags = 0;
        if tls.is_some_and(Node::is_true) || https {
            flags |= TLS;
        }
        if replay.is_some_and(|v| !v.is_null()) {
            flags |= REPLAY;
        }
        if intercepted.is_some_and(Node::is_true) {
            flags |= INTERCEPTED;
        }
        let message = message.and_then(Node::str);
        if message.is_some() {
            flags |= ERROR;
        }
        if message == Some("Connection killed.") {
            flags |= KILLED;
        }
        let mark = mark.and_then(Node::str).unwrap_or("");
        if !mark.is_empty() {
            flags |= MARKED;
        }
        let start = float(req_start).or_else(|| float(client_start));
        let end = float(resp_end).or_else(|| float(error_time));
        let duration = match (start, end) {
            (Some(s), Some(e)) if e >= s => Some(e - s),
            _ => None,
        };
        // The bytes of each message in a list of messages, where each
        // message keeps its content at `at`.
        let content_of = |list: Option<N>, at: usize| {
            let mut total = 0u64;
            if let Some(list) = list {
                Node::each(list, |m| {
                    if let Some(b) = m.nth(at).and_then(Node::bytes) {
                        total += b.len() as u64;
                    }
                });
            }
            total
        };
        let kind_name = kind_name.and_then(Node::str);
        let (kind, method, url, size) = match kind_name {
            Some("http") => {
                let websocket = ws.filter(|w| !w.is_null());
                let url = match req {
                    Some(_) => summary::url_from([scheme, host, port, authority, method, path]),
                    None => String::new(),
                };
                let method = method.and_then(Node::bytes).map_or(Cow::Borrowed(""), word);
                let size = match websocket {
                    Some(w) => content_of(w.get("messages"), 2),
                    None => content.and_then(Node::bytes).map_or(0, |b| b.len() as u64),
                };
                let kind = if websocket.is_some() {
                    "websocket"
                } else {
                    "http"
                };
                (Cow::Borrowed(kind), method, url, size)
            }
            _ => {
                let server = dict(server)
                    .and_then(|c| summary::addr_of(c, "address"))
                    .unwrap_or_else(|| "-".into());
                (
                    word(kind_name.unwrap_or("?").as_bytes()),
                    Cow::Borrowed(""),
                    server,
                    content_of(messages, 1),
                )
            }
        };
        let status = status
            .and_then(Node::int)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        Row {
            offset,
            len,
            kind,
            time: start.unwrap_or(0.0),
            method,
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

    /// Where the flow is in the session file.
    pub(super) fn place(&self) -> super::order::Place {
        super::order::Place {
            offset: self.offset,
            len: self.len,
            deleted: self.deleted,
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

/// The words a row holds most (methods, flow types), kept without a copy
/// of their own: a million rows then hold no million small strings.
const WORDS: [&str; 14] = [
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "CONNECT",
    "TRACE",
    "http",
    "websocket",
    "tcp",
    "udp",
    "dns",
];

/// `bytes` as text, borrowed from [`WORDS`] when it is one of them.
fn word(bytes: &[u8]) -> Cow<'static, str> {
    match WORDS.iter().find(|w| w.as_bytes() == bytes) {
        Some(w) => Cow::Borrowed(w),
        None => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
    }
}
