//! `server_replay` (`-S`): requests that match a recorded flow get its
//! response, as mitmproxy 11's `serverplayback` addon answers them from
//! the `request` hook, and the server is never asked.
//!
//! A request matches a recording when their keys are equal: scheme,
//! method, path (`urlparse`'s: no query, no `;params`), the body (or its
//! form items without `server_replay_ignore_payload_params`), host, port,
//! the query's pairs (`server_replay_ignore_params` left out) and the
//! `server_replay_use_headers` values. mitmproxy hashes the `repr` of a
//! list of these; here the key is the same fields, each tagged and
//! length-prefixed, so two keys are equal exactly when mitmproxy's lists
//! are. Keys are built once per recorded flow, at start-up; the flows
//! stay where the runner put them and the index holds their positions.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::event::{Event, Level, LogSink};
use crate::flow::{Flow, FlowKind};
use crate::http::form::{self, Errors};
use crate::http::{self, Which, url};
use crate::tnetstring::{Dict, Value};

use super::{Addon, now};

/// `server_replay_extra`: what a request that matches no recording gets
/// while recordings remain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Extra {
    /// Sent to the server (`forward`, the default).
    #[default]
    Forward,
    /// Killed: no answer (`kill`).
    Kill,
    /// An empty response with this status (`204`, `400`, `404`, `500`).
    Status(u16),
}

impl Extra {
    /// The values mitmproxy accepts.
    pub const ACCEPTED: [&'static str; 6] = ["forward", "kill", "204", "400", "404", "500"];

    /// Reads one of [`Extra::ACCEPTED`].
    pub fn parse(value: &str) -> Option<Extra> {
        match value {
            "forward" => Some(Extra::Forward),
            "kill" => Some(Extra::Kill),
            "204" | "400" | "404" | "500" => value.parse().ok().map(Extra::Status),
            _ => None,
        }
    }
}

/// The flows `-S` read, shared without copying.
#[derive(Clone, Default)]
pub struct ReplayFlows(Arc<[Flow]>);

impl ReplayFlows {
    /// How many flows (of any kind).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<Flow>> for ReplayFlows {
    fn from(flows: Vec<Flow>) -> ReplayFlows {
        ReplayFlows(flows.into())
    }
}

impl PartialEq for ReplayFlows {
    fn eq(&self, other: &ReplayFlows) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for ReplayFlows {}

impl fmt::Debug for ReplayFlows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayFlows({} flows)", self.0.len())
    }
}

/// Server replay's options, with mitmproxy's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// The flows read from `server_replay`'s files.
    pub flows: ReplayFlows,
    /// `server_replay_extra` (and the deprecated `server_replay_kill_extra`).
    pub extra: Extra,
    /// `server_replay_reuse` (or its old name `server_replay_nopop`): serve
    /// a recording again and again instead of once.
    pub reuse: bool,
    /// `server_replay_refresh`: move a served response's dates and cookie
    /// expiry forward by the time since it was recorded (default true).
    pub refresh: bool,
    /// `server_replay_use_headers`: request headers that must match too.
    pub use_headers: Vec<String>,
    /// `server_replay_ignore_content`: match without the body.
    pub ignore_content: bool,
    /// `server_replay_ignore_params`: query parameters left out.
    pub ignore_params: Vec<String>,
    /// `server_replay_ignore_payload_params`: form parameters left out
    /// (urlencoded or multipart bodies).
    pub ignore_payload_params: Vec<String>,
    /// `server_replay_ignore_host`: match without the host.
    pub ignore_host: bool,
    /// `server_replay_ignore_port`: match without the port.
    pub ignore_port: bool,
}

impl Default for ReplayOptions {
    fn default() -> ReplayOptions {
        ReplayOptions {
            flows: ReplayFlows::default(),
            extra: Extra::Forward,
            reuse: false,
            refresh: true,
            use_headers: Vec::new(),
            ignore_content: false,
            ignore_params: Vec::new(),
            ignore_payload_params: Vec::new(),
            ignore_host: false,
            ignore_port: false,
        }
    }
}

/// The addon: the recordings by key, each key's flows in file order.
pub(super) struct ServerReplay {
    options: ReplayOptions,
    /// Positions in `options.flows`. An emptied key is removed, so an
    /// empty map means nothing is left to replay.
    index: Mutex<HashMap<Box<[u8]>, VecDeque<u32>>>,
}

impl fmt::Debug for ServerReplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerReplay")
            .field("flows", &self.options.flows)
            .finish_non_exhaustive()
    }
}

impl ServerReplay {
    pub(super) fn new(options: &ReplayOptions) -> ServerReplay {
        // Each recording's key, on a thread per core: this is most of a
        // large file's start-up after reading it.
        let flows = &options.flows.0;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = flows.len().div_ceil(threads).max(1);
        let keys: Vec<Option<Box<[u8]>>> = std::thread::scope(|scope| {
            let parts: Vec<_> = flows
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|flow| {
                                let req =
                                    flow.request().filter(|_| flow.kind() == FlowKind::Http)?;
                                Some(key(options, req).into_boxed_slice())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().expect("a key-building thread panicked"))
                .collect()
        });
        let mut index: HashMap<Box<[u8]>, VecDeque<u32>> = HashMap::with_capacity(keys.len());
        for (i, key) in keys.into_iter().enumerate() {
            if let Some(key) = key {
                index.entry(key).or_default().push_back(i as u32);
            }
        }
        ServerReplay {
            options: options.clone(),
            index: Mutex::new(index),
        }
    }

    /// How many recordings are left (mitmproxy's `replay.server.count`).
    #[cfg(test)]
    pub(super) fn count(&self) -> usize {
        self.lock().values().map(VecDeque::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<[u8]>, VecDeque<u32>>> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn has_response(&self, i: u32) -> bool {
        self.options.flows.0[i as usize].response().is_some()
    }

    /// `next_flow`: `Err(())` when nothing is left to replay at all;
    /// `Ok(None)` when the request matches no recording with a response.
    /// Without reuse, recordings are taken in file order, the ones without
    /// a response on the way dropped.
    fn next_flow(&self, key: &[u8]) -> Result<Option<u32>, ()> {
        let mut index = self.lock();
        if index.is_empty() {
            return Err(());
        }
        let Some(list) = index.get_mut(key) else {
            return Ok(None);
        };
        if self.options.reuse {
            return Ok(list.iter().copied().find(|&i| self.has_response(i)));
        }
        let mut found = None;
        while let Some(i) = list.pop_front() {
            if self.has_response(i) {
                found = Some(i);
                break;
            }
        }
        if list.is_empty() {
            index.remove(key);
        }
        Ok(found)
    }
}

impl Addon for ServerReplay {
    fn name(&self) -> &'static str {
        "server_replay"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, event: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) {
        self.event_may_kill(event, flow, live, log);
    }

    fn event_may_kill(&self, _: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) -> bool {
        let Some(req) = flow.request() else {
            return false;
        };
        let found = match self.next_flow(&key(&self.options, req)) {
            Err(()) => return false,
            Ok(found) => found,
        };
        let now = now();
        if let Some(i) = found {
            let recorded = &self.options.flows.0[i as usize];
            let mut response = recorded.response().expect("checked").clone();
            if self.options.refresh {
                http::refresh::refresh(&mut response, now);
            }
            flow.dict_mut()
                .insert("response", Value::Dict(response.into()));
            mark_replay(flow);
            return false;
        }
        let url = url::url(req);
        match self.options.extra {
            Extra::Forward => false,
            Extra::Kill => {
                let msg = format!("server_playback: killed non-replay request {url}");
                log.log(self.name(), Level::Warn, &msg);
                if !live {
                    let msg = format!(
                        "flow {} cannot be killed: it was read from a file, not live traffic (mitmproxy: \"Flow is not killable.\")",
                        flow.id()
                    );
                    log.log(self.name(), Level::Error, &msg);
                    return false;
                }
                if flow.error_msg() == Some("Connection killed.") {
                    return false;
                }
                flow.set_error("Connection killed.", now);
                true
            }
            Extra::Status(status) => {
                let msg = format!("server_playback: returned {status} non-replay request {url}");
                log.log(self.name(), Level::Warn, &msg);
                flow.set_new_response(status, now);
                if let Some(resp) = flow.message_mut(Which::Response) {
                    http::set_decoded_content(resp, b"");
                }
                mark_replay(flow);
                false
            }
        }
    }
}

fn mark_replay(flow: &mut Flow) {
    flow.dict_mut().insert("is_replay", Value::text("response"));
}

/// Builds the key field by field.
struct Key(Vec<u8>);

impl Key {
    fn field(&mut self, tag: u8, bytes: &[u8]) {
        self.0.push(tag);
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.0.extend_from_slice(bytes);
    }
}

/// `ServerPlayback._hash`, as bytes with the same equality.
fn key(options: &ReplayOptions, req: &Dict) -> Vec<u8> {
    let mut key = Key(Vec::with_capacity(128));
    let scheme = http::raw(req, "scheme");
    let (path, query) = path_and_query(req);
    key.field(b'S', scheme);
    key.field(b'M', http::raw(req, "method"));
    key.field(b'P', &path);
    if !options.ignore_content {
        content(options, req, &mut key);
    }
    if !options.ignore_host {
        key.field(b'H', url::pretty_host(req).as_bytes());
    }
    if !options.ignore_port {
        let port = req.get("port").and_then(Value::as_int).unwrap_or(0);
        key.field(b'O', &port.to_le_bytes());
    }
    for (name, value) in form::parse_qsl(&query, Errors::Replace) {
        if !options.ignore_params.iter().any(|p| p.as_bytes() == name) {
            key.field(b'Q', &name);
            key.field(b'q', &value);
        }
    }
    if !options.use_headers.is_empty() {
        key.field(b'L', b"");
        for name in &options.use_headers {
            key.field(b'N', name.as_bytes());
            let values: Vec<&[u8]> = http::fields(req)
                .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
                .map(|(_, v)| v)
                .collect();
            match values.is_empty() {
                true => key.field(b'0', b""),
                false => key.field(b'1', &values.join(&b", "[..])),
            }
        }
    }
    key.0
}

/// The body's part of the key: with ignored payload parameters, the
/// multipart form's items, else the urlencoded form's (each filtered),
/// when there are any; else the raw body.
fn content(options: &ReplayOptions, req: &Dict, key: &mut Key) {
    let ignored = &options.ignore_payload_params;
    if !ignored.is_empty() {
        let ct: Vec<u8> = {
            let values: Vec<&[u8]> = http::fields(req)
                .filter(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
                .map(|(_, v)| v)
                .collect();
            values.join(&b", "[..])
        };
        let decoded = http::mitmproxy_content(req).ok().flatten();
        let multipart = form::multipart_form(&ct, decoded.as_deref());
        if !multipart.is_empty() {
            for (name, value) in multipart {
                if !ignored.iter().any(|p| *p == String::from_utf8_lossy(&name)) {
                    key.field(b'F', &name);
                    key.field(b'f', &value);
                }
            }
            return;
        }
        let body = http::content_or_raw(req);
        let urlencoded = form::urlencoded_form(&ct, body.as_deref());
        if !urlencoded.is_empty() {
            for (name, value) in urlencoded {
                if !ignored.iter().any(|p| p.as_bytes() == name) {
                    key.field(b'U', &name);
                    key.field(b'u', &value);
                }
            }
            return;
        }
    }
    match http::raw_content(req) {
        Some(body) => key.field(b'C', body),
        None => key.field(b'c', b""),
    }
}

/// `urlparse(r.url)`'s path and query (Python 3.11): tabs and line breaks
/// dropped, the fragment cut, the query split off, and for the schemes
/// that use them the `;params` of the last segment cut.
fn path_and_query(req: &Dict) -> (Vec<u8>, Vec<u8>) {
    let method = http::raw(req, "method");
    let mut full: Vec<u8> = if method.eq_ignore_ascii_case(b"CONNECT") {
        url::url(req).into_bytes()
    } else {
        let scheme = String::from_utf8_lossy(http::raw(req, "scheme"));
        let host = String::from_utf8_lossy(http::raw(req, "host"));
        let port = req.get("port").and_then(Value::as_int).unwrap_or(0);
        let path = http::raw(req, "path");
        let path = if path == b"*" { &b""[..] } else { path };
        let mut u = format!("{scheme}://{}", url::hostport(&scheme, &host, port)).into_bytes();
        u.extend_from_slice(path);
        u
    };
    full.retain(|b| !matches!(b, b'\t' | b'\r' | b'\n'));
    let start = full.iter().position(|&b| b > b' ').unwrap_or(full.len());
    let mut rest = &full[start..];
    let mut scheme = Vec::new();
    if let Some(colon) = rest.iter().position(|&b| b == b':')
        && colon > 0
        && rest[0].is_ascii_alphabetic()
        && rest[..colon]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        scheme = rest[..colon].to_ascii_lowercase();
        rest = &rest[colon + 1..];
    }
    if rest.starts_with(b"//") {
        let end = rest[2..]
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .map_or(rest.len(), |i| i + 2);
        rest = &rest[end..];
    }
    if let Some(hash) = rest.iter().position(|&b| b == b'#') {
        rest = &rest[..hash];
    }
    let (mut path, query) = match rest.iter().position(|&b| b == b'?') {
        Some(q) => (&rest[..q], &rest[q + 1..]),
        None => (rest, &b""[..]),
    };
    const USES_PARAMS: [&[u8]; 15] = [
        b"",
        b"ftp",
        b"hdl",
        b"prospero",
        b"http",
        b"imap",
        b"https",
        b"shttp",
        b"rtsp",
        b"rtspu",
        b"sip",
        b"sips",
        b"mms",
        b"sftp",
        b"tel",
    ];
    if USES_PARAMS.contains(&scheme.as_slice()) && path.contains(&b';') {
        let from = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
        if let Some(semi) = path[from..].iter().position(|&b| b == b';') {
            path = &path[..from + semi];
        }
    }
    (path.to_vec(), query.to_vec())
}

#[cfg(test)]
mod tests;
