//! [`FlowCell`]: a flow as the hooks of one event see it, with the undo log
//! that lets a panicking hook leave the flow as it found it. Safe code; the
//! function table in `ffi` only translates pointers into calls here.

use std::cell::{OnceCell, Ref, RefCell};

use bytes::Bytes;
use waylay_sdk::abi;

use crate::flow::websocket::{self, Message};
use crate::flow::{Flow, FlowKind};
use crate::http::field_bytes;
use crate::http::{self, Which};
use crate::tnetstring::{Dict, Value};

mod stream;
mod tcp;
mod views;

use stream::{ReadBack, Stream};

/// How many `abi::VIEW_*` there are.
const VIEWS: usize = abi::VIEW_CONTENT_ENCODING as usize + 1;

/// A view of a message, as computed (cached until the next change).
type View = OnceCell<Result<Option<Bytes>, String>>;

/// A flow during one event.
#[derive(Debug)]
pub(crate) struct FlowCell<'f> {
    flow: &'f mut Flow,
    live: bool,
    /// What the running hook changed, as it was before: enough to put the
    /// flow back.
    undo: Vec<Undo>,
    killed: bool,
    /// The event is a flow's last (`tcp_end`, `tcp_error`): nothing can be
    /// injected any more.
    ended: bool,
    decoded: [OnceCell<Result<Bytes, crate::encoding::EncodingError>>; 2],
    /// Made on the first view read: most hooks read none, and an event
    /// should not pay to make and drop two dozen empty cells.
    views: OnceCell<Box<[[View; VIEWS]; 2]>>,
    conns: [OnceCell<Option<Value>>; 2],
    last_error: RefCell<Vec<u8>>,
    /// Spilled stream messages read back during the event, by index;
    /// a change drops its entry.
    read_back: ReadBack,
}

/// One entry of the undo log.
#[derive(Debug)]
enum Undo {
    /// A top-level entry (`None`: absent). Every change but a WebSocket
    /// message's is under one top-level key.
    Key(&'static str, Option<Value>),
    /// One field of a message (`None`: absent), for a change known to
    /// touch only some fields (`set_url`): the message itself is then not
    /// copied for the log.
    Field(Which, &'static str, Option<Value>),
    /// A WebSocket message, by index: a long-lived WebSocket's messages are
    /// not copied whole for each change to the newest.
    WsMessage(usize, Value),
    /// How many WebSocket messages there were before the hook injected.
    WsLen(usize),
    /// A TCP message, by index, as for WebSocket messages.
    TcpMessage(usize, Value),
    /// How many TCP messages there were before the hook injected.
    TcpLen(usize),
    /// A spilled stream message, by the flow's index.
    Spilled(usize, Value),
}

fn which(code: u32) -> Option<Which> {
    match code {
        abi::MSG_REQUEST => Some(Which::Request),
        abi::MSG_RESPONSE => Some(Which::Response),
        _ => None,
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl<'f> FlowCell<'f> {
    pub(crate) fn new(flow: &'f mut Flow, live: bool) -> FlowCell<'f> {
        FlowCell {
            flow,
            live,
            undo: Vec::new(),
            killed: false,
            ended: false,
            decoded: Default::default(),
            views: OnceCell::new(),
            conns: Default::default(),
            last_error: RefCell::default(),
            read_back: ReadBack::default(),
        }
    }

    /// The flow as it is now (filters read it).
    pub(crate) fn flow(&self) -> &Flow {
        self.flow
    }

    /// Records why the last call was refused.
    pub(crate) fn set_last_error(&self, msg: &str) {
        *self.last_error.borrow_mut() = msg.as_bytes().to_vec();
    }

    /// Why the last call was refused.
    pub(crate) fn last_error(&self) -> Ref<'_, Vec<u8>> {
        self.last_error.borrow()
    }

    /// Marks the event as the flow's last (`tcp_end`, `tcp_error`), after
    /// which nothing can be injected.
    pub(crate) fn set_ended(&mut self) {
        self.ended = true;
    }

    /// Whether a hook killed the flow.
    pub(crate) fn killed(&self) -> bool {
        self.killed
    }

    /// Ends a hook: keeps its changes, or undoes them if it panicked.
    pub(crate) fn end_hook(&mut self, panicked: bool) {
        if !panicked {
            self.undo.clear();
            return;
        }
        for undo in std::mem::take(&mut self.undo).into_iter().rev() {
            match undo {
                Undo::Key(key, Some(value)) => self.flow.dict_mut().insert(key, value),
                Undo::Key(key, None) => drop(self.flow.dict_mut().remove(key)),
                Undo::Field(which, key, value) => {
                    if let Some(msg) = self.flow.message_mut(which) {
                        match value {
                            Some(value) => msg.insert(key, value),
                            None => drop(msg.remove(key)),
                        }
                    }
                }
                Undo::WsMessage(index, value) => {
                    if let Some(slot) = self
                        .flow
                        .websocket_messages_mut()
                        .and_then(|m| m.get_mut(index))
                    {
                        *slot = value;
                    }
                }
                Undo::WsLen(len) => {
                    if let Some(messages) = self.flow.websocket_messages_mut() {
                        messages.truncate(len);
                    }
                }
                Undo::TcpMessage(index, value) => {
                    if let Some(slot) = self.flow.tcp_messages_mut().and_then(|m| m.get_mut(index))
                    {
                        *slot = value;
                    }
                }
                Undo::TcpLen(len) => {
                    if let Some(messages) = self.flow.tcp_messages_mut() {
                        messages.truncate(len);
                    }
                }
                Undo::Spilled(index, value) => {
                    if let Some(spill) = self.flow.spill_mut() {
                        let _ = spill.set(index, value);
                    }
                }
            }
        }
        self.read_back.0.as_mut().clear();
        self.decoded = Default::default();
        self.views = OnceCell::new();
    }

    /// Every change goes through here first, naming the top-level entry it
    /// changes.
    fn change(&mut self, key: &'static str) -> &mut Flow {
        if !self
            .undo
            .iter()
            .any(|u| matches!(u, Undo::Key(k, _) if *k == key))
        {
            self.undo
                .push(Undo::Key(key, self.flow.dict().get(key).cloned()));
        }
        self.decoded = Default::default();
        self.views = OnceCell::new();
        self.flow
    }

    fn msg(&self, code: u32) -> Option<&Dict> {
        self.flow.message(which(code)?)
    }

    /// Message `code`, for a change to `fields` alone: only those are kept
    /// for the undo log, unless the whole message already is.
    fn msg_fields_mut(&mut self, code: u32, fields: &[&'static str]) -> Result<&mut Dict, String> {
        let w = which(code).ok_or("no such message")?;
        let Some(msg) = self.flow.message(w) else {
            return Err(format!("the flow has no {}", w.key()));
        };
        let whole = self
            .undo
            .iter()
            .any(|u| matches!(u, Undo::Key(k, _) if *k == w.key()));
        if !whole {
            // A hook's first change logs every field without looking.
            let fresh = self.undo.is_empty();
            self.undo.reserve(fields.len());
            for &f in fields {
                let logged = !fresh
                    && self
                        .undo
                        .iter()
                        .any(|u| matches!(u, Undo::Field(uw, k, _) if *uw == w && *k == f));
                if !logged {
                    self.undo.push(Undo::Field(w, f, msg.get(f).cloned()));
                }
            }
        }
        self.decoded = Default::default();
        self.views = OnceCell::new();
        Ok(self.flow.message_mut(w).expect("checked above"))
    }

    fn msg_mut(&mut self, code: u32) -> Result<&mut Dict, String> {
        let w = which(code).ok_or("no such message")?;
        if self.flow.message(w).is_none() {
            return Err(format!("the flow has no {}", w.key()));
        }
        Ok(self.change(w.key()).message_mut(w).expect("checked above"))
    }

    pub(crate) fn flow_text(&self, field: u32) -> Option<&[u8]> {
        let key = match field {
            abi::FLOW_ID => "id",
            abi::FLOW_COMMENT => "comment",
            abi::FLOW_MARKED => "marked",
            abi::FLOW_ERROR_MSG => return self.flow.error_msg().map(str::as_bytes),
            abi::FLOW_TYPE => "type",
            abi::FLOW_IS_REPLAY => "is_replay",
            abi::FLOW_WS_CLOSE_REASON => {
                return self.flow.websocket()?.get("close_reason")?.as_bytes();
            }
            _ => return None,
        };
        self.flow.dict().get(key).and_then(Value::as_bytes)
    }

    pub(crate) fn set_flow_text(&mut self, field: u32, value: &[u8]) -> Result<(), String> {
        let key = match field {
            abi::FLOW_COMMENT => "comment",
            abi::FLOW_MARKED => "marked",
            _ => return Err("that flow field cannot be set".into()),
        };
        let text = std::str::from_utf8(value).map_err(|_| format!("{key} must be UTF-8"))?;
        self.change(key).dict_mut().insert(key, Value::text(text));
        Ok(())
    }

    pub(crate) fn flow_float(&self, field: u32) -> Option<f64> {
        let dict = self.flow.dict();
        match field {
            abi::FLOW_TIMESTAMP_CREATED => dict.get("timestamp_created")?.as_float(),
            abi::FLOW_ERROR_TIMESTAMP => dict.get("error")?.as_dict()?.get("timestamp")?.as_float(),
            abi::FLOW_WS_TIMESTAMP_END => self.flow.websocket()?.get("timestamp_end")?.as_float(),
            _ => None,
        }
    }

    pub(crate) fn flow_int(&self, field: u32) -> Option<i64> {
        match field {
            abi::FLOW_LIVE => Some(i64::from(self.live)),
            abi::FLOW_KILLABLE => Some(i64::from(self.live && !self.killed)),
            abi::FLOW_WEBSOCKET => Some(i64::from(self.flow.websocket().is_some())),
            abi::FLOW_WS_MESSAGES => {
                Some((self.flow.spilled_count() + self.flow.websocket_messages()?.len()) as i64)
            }
            abi::FLOW_WS_CLOSED_BY_CLIENT => {
                match self.flow.websocket()?.get("closed_by_client")? {
                    Value::Bool(b) => Some(i64::from(*b)),
                    _ => None,
                }
            }
            abi::FLOW_WS_CLOSE_CODE => self.flow.websocket()?.get("close_code")?.as_int(),
            abi::FLOW_TCP_MESSAGES => {
                Some((self.flow.spilled_count() + self.flow.tcp_messages()?.len()) as i64)
            }
            _ => None,
        }
    }

    pub(crate) fn kill(&mut self) -> Result<(), String> {
        if !self.live {
            return Err(format!(
                "flow {} cannot be killed: it was read from a file, not live traffic",
                self.flow.id()
            ));
        }
        if !self.killed {
            self.killed = true;
            self.change("error").set_error("Connection killed.", now());
        }
        Ok(())
    }

    pub(crate) fn metadata_get(&self, key: &[u8]) -> Option<&[u8]> {
        let key = std::str::from_utf8(key).ok()?;
        match self.flow.dict().get("metadata")?.as_dict()?.get(key)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn metadata_set(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), String> {
        let key = std::str::from_utf8(key).map_err(|_| "metadata keys must be UTF-8")?;
        let value = value
            .map(|v| std::str::from_utf8(v).map_err(|_| "metadata values must be UTF-8"))
            .transpose()?;
        let root = self.change("metadata").dict_mut();
        if !matches!(root.get("metadata"), Some(Value::Dict(_))) {
            root.insert("metadata", Value::Dict(Default::default()));
        }
        let meta = root
            .get_mut("metadata")
            .and_then(Value::as_dict_mut)
            .expect("just ensured");
        match value {
            Some(v) => meta.insert(key, Value::text(v)),
            None => drop(meta.remove(key)),
        }
        Ok(())
    }

    pub(crate) fn msg_exists(&self, code: u32) -> bool {
        self.msg(code).is_some()
    }

    pub(crate) fn msg_bytes(&self, code: u32, field: u32) -> Option<&[u8]> {
        let key = bytes_key(code, field)?;
        field_bytes(self.msg(code)?, key).map(|b| &b[..])
    }

    pub(crate) fn set_msg_bytes(
        &mut self,
        code: u32,
        field: u32,
        value: &[u8],
    ) -> Result<(), String> {
        let key = bytes_key(code, field).ok_or("that message field cannot be set")?;
        let value = if key == "host" {
            Value::text(std::str::from_utf8(value).map_err(|_| "the host must be UTF-8")?)
        } else {
            Value::bytes(value)
        };
        let msg = self.msg_mut(code)?;
        msg.insert(key, value);
        if key == "host" && code == abi::MSG_REQUEST {
            http::url::update_host_and_authority(msg);
        }
        Ok(())
    }

    pub(crate) fn msg_int(&self, code: u32, field: u32) -> Option<i64> {
        if field == abi::FIELD_STREAM {
            return Some(i64::from(self.flow.streaming(which(code)?)));
        }
        self.msg(code)?.get(int_key(code, field)?)?.as_int()
    }

    pub(crate) fn set_msg_int(&mut self, code: u32, field: u32, value: i64) -> Result<(), String> {
        if field == abi::FIELD_STREAM {
            let w = which(code).ok_or("no such message")?;
            self.flow.set_streaming(w, value != 0);
            return Ok(());
        }
        let key = int_key(code, field).ok_or("that message field is not an integer")?;
        let msg = self.msg_mut(code)?;
        msg.insert(key, Value::Int(value));
        if key == "port" && code == abi::MSG_REQUEST {
            http::url::update_host_and_authority(msg);
        }
        Ok(())
    }

    pub(crate) fn msg_float(&self, code: u32, field: u32) -> Option<f64> {
        let key = match field {
            abi::FIELD_TIMESTAMP_START => "timestamp_start",
            abi::FIELD_TIMESTAMP_END => "timestamp_end",
            _ => return None,
        };
        self.msg(code)?.get(key)?.as_float()
    }

    /// The decoded body: `Ok(None)` when there is no body kept.
    pub(crate) fn decoded(
        &self,
        code: u32,
    ) -> Result<Option<&[u8]>, &crate::encoding::EncodingError> {
        let Some(msg) = self.msg(code) else {
            return Ok(None);
        };
        if http::raw_content(msg).is_none() {
            return Ok(None);
        }
        let slot = &self.decoded[code as usize];
        let decoded =
            slot.get_or_init(|| http::decoded_content(msg).map(Option::unwrap_or_default));
        match decoded {
            Ok(b) => Ok(Some(b)),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn set_decoded(&mut self, code: u32, body: &[u8]) -> Result<(), String> {
        http::set_decoded_content(self.msg_mut(code)?, body);
        Ok(())
    }

    pub(crate) fn new_response(&mut self, status: i64) -> Result<(), String> {
        let status = u16::try_from(status)
            .ok()
            .filter(|s| (100..=999).contains(s));
        let status = status.ok_or("a status code is a number from 100 to 999")?;
        if self.flow.kind() != FlowKind::Http {
            return Err(format!(
                "flow {} is a {} flow: it has no request to answer",
                self.flow.id(),
                self.flow.kind_name()
            ));
        }
        self.change("response").set_new_response(status, now());
        Ok(())
    }

    /// The message whose trailers `code` names, if it names trailers.
    fn trailers_of(code: u32) -> Option<u32> {
        match code {
            abi::MSG_REQUEST_TRAILERS => Some(abi::MSG_REQUEST),
            abi::MSG_RESPONSE_TRAILERS => Some(abi::MSG_RESPONSE),
            _ => None,
        }
    }

    /// The fields `code` names: a message's headers, or its trailers
    /// (none: an empty list).
    fn fields_list(&self, code: u32) -> Option<&[Value]> {
        match Self::trailers_of(code) {
            Some(msg) => Some(
                self.msg(msg)?
                    .get("trailers")
                    .and_then(Value::as_list)
                    .unwrap_or(&[]),
            ),
            None => Some(http::headers(self.msg(code)?)),
        }
    }

    pub(crate) fn headers_len(&self, code: u32) -> Option<usize> {
        Some(self.fields_list(code)?.len())
    }

    pub(crate) fn header_at(&self, code: u32, index: usize) -> Option<(&[u8], &[u8])> {
        let pair = self.fields_list(code)?.get(index)?.as_list()?;
        Some((pair.first()?.as_bytes()?, pair.get(1)?.as_bytes()?))
    }

    pub(crate) fn headers_edit(
        &mut self,
        code: u32,
        op: u32,
        index: usize,
        name: &[u8],
        value: &[u8],
    ) -> Result<usize, String> {
        if op == abi::HEADERS_REMOVE
            && self.fields_list(code).is_some_and(|fields| {
                !fields.iter().any(|f| {
                    f.as_list()
                        .and_then(|p| p.first())
                        .and_then(Value::as_bytes)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            })
        {
            return Ok(0); // nothing to remove: not a change
        }
        if let Some(of) = Self::trailers_of(code) {
            // Trailers are edited as a message's headers would be, on a
            // stand-in message holding them.
            let msg = self.msg_mut(of)?;
            let list = msg
                .get("trailers")
                .and_then(Value::as_list)
                .map(<[Value]>::to_vec)
                .unwrap_or_default();
            let mut stand_in = Dict::new();
            stand_in.push("headers", Value::list(list));
            let edited = edit_fields(&mut stand_in, op, index, name, value)?;
            let list = stand_in.remove("headers").unwrap_or(Value::Null);
            msg.insert("trailers", list);
            return Ok(edited);
        }
        edit_fields(self.msg_mut(code)?, op, index, name, value)
    }
}

/// A header edit (`abi::HEADERS_*`) on `msg`'s fields; how many went.
fn edit_fields(
    msg: &mut Dict,
    op: u32,
    index: usize,
    name: &[u8],
    value: &[u8],
) -> Result<usize, String> {
    Ok(match op {
        abi::HEADERS_SET => {
            http::set_header(msg, name, value);
            0
        }
        abi::HEADERS_APPEND => {
            http::append_header(msg, name, value);
            0
        }
        abi::HEADERS_INSERT => {
            http::insert_header(msg, index, name, value);
            0
        }
        abi::HEADERS_REMOVE => http::remove_header(msg, name),
        abi::HEADERS_REMOVE_AT => usize::from(http::remove_header_at(msg, index)),
        _ => return Err("unknown header edit".into()),
    })
}

impl FlowCell<'_> {
    fn ws_message(&self, index: usize) -> Option<Message<'_>> {
        Message::new(self.stream_value(Stream::WebSocket, index)?)
    }

    pub(crate) fn ws_msg_bytes(&self, index: usize, field: u32) -> Option<&[u8]> {
        match field {
            abi::WSMSG_CONTENT => self.ws_message(index)?.content(),
            _ => None,
        }
    }

    pub(crate) fn set_ws_msg_bytes(
        &mut self,
        index: usize,
        field: u32,
        value: &[u8],
    ) -> Result<(), String> {
        if field != abi::WSMSG_CONTENT {
            return Err("that WebSocket message field cannot be set".into());
        }
        self.edit_stream_message(Stream::WebSocket, index, |m| {
            websocket::set_content(m, value);
        })
    }

    pub(crate) fn ws_msg_int(&self, index: usize, field: u32) -> Option<i64> {
        let message = self.ws_message(index)?;
        match field {
            abi::WSMSG_TYPE => message.kind(),
            abi::WSMSG_FROM_CLIENT => Some(i64::from(message.from_client())),
            abi::WSMSG_DROPPED => Some(i64::from(message.dropped())),
            abi::WSMSG_INJECTED => Some(i64::from(message.injected())),
            _ => None,
        }
    }

    pub(crate) fn set_ws_msg_int(
        &mut self,
        index: usize,
        field: u32,
        value: i64,
    ) -> Result<(), String> {
        if field != abi::WSMSG_DROPPED {
            return Err("that WebSocket message field cannot be set".into());
        }
        self.edit_stream_message(Stream::WebSocket, index, |m| {
            websocket::set_dropped(m, value != 0);
        })
    }

    pub(crate) fn ws_msg_float(&self, index: usize, field: u32) -> Option<f64> {
        match field {
            abi::WSMSG_TIMESTAMP => self.ws_message(index)?.timestamp(),
            _ => None,
        }
    }

    /// mitmproxy's `inject.websocket`: appends the message, marked
    /// injected, for the live proxy to send once the event is over.
    pub(crate) fn ws_inject(
        &mut self,
        to_client: bool,
        is_text: bool,
        content: &[u8],
    ) -> Result<(), String> {
        let id = self.flow.id();
        if !self.live {
            return Err(format!(
                "cannot inject a WebSocket message into flow {id}: it was read from a file, not live \
                 traffic (mitmproxy: \"Cannot inject WebSocket messages into non-live flows.\")"
            ));
        }
        if self.flow.websocket().is_none() {
            return Err(format!(
                "cannot inject a WebSocket message into flow {id}: it has no WebSocket"
            ));
        }
        if self.flow.websocket_closed() {
            return Err(format!(
                "cannot inject a WebSocket message into flow {id}: its WebSocket is closed"
            ));
        }
        let len = self
            .flow
            .websocket_messages()
            .map(<[Value]>::len)
            .ok_or_else(|| {
                format!(
                    "cannot inject a WebSocket message into flow {id}: its messages are malformed"
                )
            })?;
        if !self.undo.iter().any(|u| matches!(u, Undo::WsLen(_))) {
            self.undo.push(Undo::WsLen(len));
        }
        let message = websocket::message(
            is_text,
            !to_client,
            Bytes::copy_from_slice(content),
            now(),
            true,
        );
        self.flow
            .websocket_messages_mut()
            .expect("read above")
            .push(message);
        Ok(())
    }

    /// The client or server connection dict, as a value the connection
    /// functions can point at for the rest of the event.
    pub(crate) fn conn(&self, side: u32) -> Option<&Value> {
        let (slot, key) = match side {
            abi::CONN_CLIENT => (&self.conns[0], "client_conn"),
            abi::CONN_SERVER => (&self.conns[1], "server_conn"),
            _ => return None,
        };
        slot.get_or_init(|| {
            self.flow
                .dict()
                .get(key)
                .filter(|v| v.as_dict().is_some())
                .cloned()
        })
        .as_ref()
    }
}

fn bytes_key(code: u32, field: u32) -> Option<&'static str> {
    Some(match (code, field) {
        (abi::MSG_REQUEST, abi::FIELD_METHOD) => "method",
        (abi::MSG_REQUEST, abi::FIELD_SCHEME) => "scheme",
        (abi::MSG_REQUEST, abi::FIELD_HOST) => "host",
        (abi::MSG_REQUEST, abi::FIELD_AUTHORITY) => "authority",
        (abi::MSG_REQUEST, abi::FIELD_PATH) => "path",
        (abi::MSG_RESPONSE, abi::FIELD_REASON) => "reason",
        (_, abi::FIELD_HTTP_VERSION) => "http_version",
        (_, abi::FIELD_CONTENT) => "content",
        _ => return None,
    })
}

fn int_key(code: u32, field: u32) -> Option<&'static str> {
    match (code, field) {
        (abi::MSG_REQUEST, abi::FIELD_PORT) => Some("port"),
        (abi::MSG_RESPONSE, abi::FIELD_STATUS_CODE) => Some("status_code"),
        _ => None,
    }
}

fn addr_part<'a>(conn: &'a Dict, key: &str, part: usize) -> Option<&'a Value> {
    conn.get(key)?.as_list()?.get(part)
}

/// A text field of a connection dict.
pub(crate) fn conn_bytes(conn: &Value, field: u32, index: usize) -> Option<&[u8]> {
    let conn = conn.as_dict()?;
    let value = match field {
        abi::CONN_ID => conn.get("id"),
        abi::CONN_PEER_HOST => addr_part(conn, "peername", 0),
        abi::CONN_SOCK_HOST => addr_part(conn, "sockname", 0),
        abi::CONN_ADDRESS_HOST => addr_part(conn, "address", 0),
        abi::CONN_SNI => conn.get("sni"),
        abi::CONN_ALPN => conn.get("alpn"),
        abi::CONN_TLS_VERSION => conn.get("tls_version"),
        abi::CONN_CIPHER => conn.get("cipher"),
        abi::CONN_ERROR => conn.get("error"),
        abi::CONN_PROXY_MODE => conn.get("proxy_mode"),
        abi::CONN_CERTIFICATE => conn.get("certificate_list")?.as_list()?.get(index),
        abi::CONN_ALPN_OFFER => conn.get("alpn_offers")?.as_list()?.get(index),
        _ => None,
    };
    value?.as_bytes()
}

/// An integer field of a connection dict.
pub(crate) fn conn_int(conn: &Value, field: u32) -> Option<i64> {
    let conn = conn.as_dict()?;
    match field {
        abi::CONN_PEER_PORT => addr_part(conn, "peername", 1)?.as_int(),
        abi::CONN_SOCK_PORT => addr_part(conn, "sockname", 1)?.as_int(),
        abi::CONN_ADDRESS_PORT => addr_part(conn, "address", 1)?.as_int(),
        abi::CONN_TLS => Some(i64::from(matches!(
            conn.get("tls"),
            Some(Value::Bool(true))
        ))),
        abi::CONN_CERTIFICATE_COUNT => Some(conn.get("certificate_list")?.as_list()?.len() as i64),
        abi::CONN_ALPN_OFFER_COUNT => Some(conn.get("alpn_offers")?.as_list()?.len() as i64),
        _ => None,
    }
}

/// A float field of a connection dict.
pub(crate) fn conn_float(conn: &Value, field: u32) -> Option<f64> {
    let conn = conn.as_dict()?;
    let key = match field {
        abi::CONN_TIMESTAMP_START => "timestamp_start",
        abi::CONN_TIMESTAMP_END => "timestamp_end",
        abi::CONN_TIMESTAMP_TLS_SETUP => "timestamp_tls_setup",
        _ => return None,
    };
    conn.get(key)?.as_float()
}
