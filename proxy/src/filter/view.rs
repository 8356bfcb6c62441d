//! What filter terms read from a flow, worked out once per match and only
//! when a term asks: decoded bodies, header blocks, the pretty URL and
//! host, the metadata text. Each as mitmproxy 11 computes it.

use std::cell::OnceCell;

use bytes::Bytes;

use crate::flow::{Flow, FlowKind};
use crate::http::{self, Which};
use crate::tnetstring::{Dict, Value};

use super::{dns, pyrepr};

/// A flow under one match.
pub(super) struct View<'f> {
    pub(super) flow: &'f Flow,
    pub(super) kind: FlowKind,
    messages: [OnceCell<Option<&'f Dict>>; 2],
    bodies: [OnceCell<Option<Bytes>>; 2],
    heads: [OnceCell<Option<Vec<u8>>>; 2],
    pretty_url: OnceCell<Option<String>>,
    pretty_host: OnceCell<Option<std::borrow::Cow<'f, str>>>,
}

impl<'f> View<'f> {
    pub(super) fn new(flow: &'f Flow) -> View<'f> {
        View {
            flow,
            kind: flow.kind(),
            messages: Default::default(),
            bodies: Default::default(),
            heads: Default::default(),
            pretty_url: OnceCell::new(),
            pretty_host: OnceCell::new(),
        }
    }

    pub(super) fn is_http(&self) -> bool {
        self.kind == FlowKind::Http
    }

    /// The request or response dict (HTTP and DNS).
    pub(super) fn message(&self, which: Which) -> Option<&'f Dict> {
        *self.messages[which as usize].get_or_init(|| self.flow.message(which))
    }

    /// `get_content(strict=False)` of an HTTP message.
    pub(super) fn body(&self, which: Which) -> Option<&[u8]> {
        self.bodies[which as usize]
            .get_or_init(|| self.message(which).and_then(http::content_or_raw))
            .as_deref()
    }

    /// `bytes(message.headers)`: `name: value` lines, each ending `\r\n`.
    pub(super) fn head(&self, which: Which) -> Option<&[u8]> {
        self.heads[which as usize]
            .get_or_init(|| {
                let msg = self.message(which)?;
                let mut out = Vec::new();
                for (name, value) in http::fields(msg) {
                    out.extend_from_slice(name);
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(value);
                    out.extend_from_slice(b"\r\n");
                }
                Some(out)
            })
            .as_deref()
    }

    /// The values of every Content-Type field of a message.
    pub(super) fn content_types(&self, which: Which) -> impl Iterator<Item = &'f [u8]> {
        self.message(which)
            .into_iter()
            .flat_map(http::fields)
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
            .map(|(_, v)| v)
    }

    pub(super) fn pretty_url(&self) -> Option<&str> {
        self.pretty_url
            .get_or_init(|| self.message(Which::Request).map(http::url::pretty_url))
            .as_deref()
    }

    pub(super) fn pretty_host(&self) -> Option<&str> {
        self.pretty_host
            .get_or_init(|| self.message(Which::Request).map(http::url::pretty_host))
            .as_deref()
    }

    pub(super) fn host(&self) -> Option<&'f str> {
        self.message(Which::Request)?.get("host")?.as_str()
    }

    /// A DNS message's content.
    pub(super) fn dns_content(&self, which: Which) -> Option<Vec<u8>> {
        Some(dns::content(self.message(which)?))
    }

    /// The first DNS question's name.
    pub(super) fn dns_question(&self) -> Option<String> {
        dns::first_question(self.message(Which::Request)?)
    }

    /// A top-level text field (`comment`, `marked`).
    pub(super) fn text(&self, key: &str) -> &'f str {
        self.flow.text(key).unwrap_or("")
    }

    /// `host:port` of a connection's `peername` or `address`.
    pub(super) fn address(&self, conn: &str, key: &str) -> Option<String> {
        let parts = self.flow.conn(conn)?.get(key)?.as_list()?;
        let host = pyrepr::py_str(parts.first()?);
        let port = pyrepr::py_str(parts.get(1)?);
        Some(format!("{host}:{port}"))
    }

    /// `"key: value"` per metadata entry, joined by `\n`.
    pub(super) fn metadata(&self) -> String {
        let Some(meta) = self.flow.dict().get("metadata").and_then(Value::as_dict) else {
            return String::new();
        };
        meta.iter()
            .map(|(k, v)| format!("{}: {}", pyrepr::py_str(k), pyrepr::py_str(v)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether `f(from_client, content)` holds for a WebSocket message
    /// (HTTP) or a TCP/UDP message. A long stream's older messages are
    /// read back from its spill, after those in memory (one that cannot
    /// be read matches nothing).
    pub(super) fn any_message(&self, mut f: impl FnMut(bool, &[u8]) -> bool) -> bool {
        let list = self.flow.stream_list();
        let http = self.kind == FlowKind::Http;
        let mut test = |m: &Value| {
            let message = if http {
                crate::flow::websocket::Message::new(m)
                    .and_then(|m| Some((m.from_client(), m.content()?)))
            } else {
                m.as_list().and_then(|m| {
                    Some((
                        matches!(m.first()?, Value::Bool(true)),
                        m.get(1)?.as_bytes()?,
                    ))
                })
            };
            message.is_some_and(|(client, content)| f(client, content))
        };
        if list.unwrap_or_default().iter().any(&mut test) {
            return true;
        }
        self.flow
            .spill()
            .is_some_and(|spill| spill.any(|m| test(&m)).unwrap_or(false))
    }
}
