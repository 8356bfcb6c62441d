//! The `websocket` field of an HTTP flow in mitmproxy's layout (its
//! `WebSocketData`): the messages, each `[type, from_client, content,
//! timestamp, dropped, injected]`, and how the connection closed.

use bytes::Bytes;

use super::Flow;
use crate::tnetstring::{Dict, Value};

/// A text message (RFC 6455 opcode 1), as a message's `type`.
pub const TEXT: i64 = 1;
/// A binary message (opcode 2).
pub const BINARY: i64 = 2;
/// The close code of a connection that ended without a close frame
/// (wsproto's `ABNORMAL_CLOSURE`, which mitmproxy records).
pub const ABNORMAL_CLOSURE: u16 = 1006;

// Places in a message list.
const TYPE: usize = 0;
const FROM_CLIENT: usize = 1;
const CONTENT: usize = 2;
const TIMESTAMP: usize = 3;
const DROPPED: usize = 4;
const INJECTED: usize = 5;
const FIELDS: usize = 6;

/// A message as mitmproxy stores it.
pub fn message(
    text: bool,
    from_client: bool,
    content: Bytes,
    timestamp: f64,
    injected: bool,
) -> Value {
    Value::list(vec![
        Value::Int(if text { TEXT } else { BINARY }),
        Value::Bool(from_client),
        Value::Bytes(content),
        Value::Float(timestamp),
        Value::Bool(false),
        Value::Bool(injected),
    ])
}

/// A stored message, read.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a>(&'a [Value]);

impl<'a> Message<'a> {
    /// Reads a message value; `None` unless it is a list of six.
    pub fn new(value: &'a Value) -> Option<Message<'a>> {
        value.as_list().filter(|m| m.len() >= FIELDS).map(Message)
    }

    /// The type: [`TEXT`] or [`BINARY`].
    pub fn kind(&self) -> Option<i64> {
        self.0[TYPE].as_int()
    }

    /// Whether it is a text message.
    pub fn is_text(&self) -> bool {
        self.kind() == Some(TEXT)
    }

    /// Whether the client sent it (or it is injected towards the server).
    pub fn from_client(&self) -> bool {
        matches!(self.0[FROM_CLIENT], Value::Bool(true))
    }

    /// The content.
    pub fn content(&self) -> Option<&'a [u8]> {
        self.0[CONTENT].as_bytes()
    }

    /// When it was received or injected.
    pub fn timestamp(&self) -> Option<f64> {
        self.0[TIMESTAMP].as_float()
    }

    /// Whether it is not to be passed on.
    pub fn dropped(&self) -> bool {
        matches!(self.0[DROPPED], Value::Bool(true))
    }

    /// Whether a script injected it.
    pub fn injected(&self) -> bool {
        matches!(self.0[INJECTED], Value::Bool(true))
    }
}

/// Sets a message's content; `false` if the value is no message.
pub(crate) fn set_content(message: &mut Value, content: &[u8]) -> bool {
    set(message, CONTENT, Value::bytes(content))
}

/// Sets a message's `dropped` flag; `false` if the value is no message.
pub(crate) fn set_dropped(message: &mut Value, dropped: bool) -> bool {
    set(message, DROPPED, Value::Bool(dropped))
}

fn set(message: &mut Value, at: usize, value: Value) -> bool {
    match message.as_list_mut() {
        Some(list) if list.len() >= FIELDS => {
            list[at] = value;
            true
        }
        _ => false,
    }
}

impl Flow {
    /// The `websocket` dict, when the flow has one (not null).
    pub fn websocket(&self) -> Option<&Dict> {
        self.dict().get("websocket").and_then(Value::as_dict)
    }

    /// The WebSocket's messages, oldest first.
    pub fn websocket_messages(&self) -> Option<&[Value]> {
        self.websocket()?.get("messages")?.as_list()
    }

    /// The WebSocket message at `index`.
    pub fn websocket_message(&self, index: usize) -> Option<Message<'_>> {
        Message::new(self.websocket_messages()?.get(index)?)
    }

    /// The WebSocket's messages, to change.
    pub fn websocket_messages_mut(&mut self) -> Option<&mut Vec<Value>> {
        self.websocket()?.get("messages")?.as_list()?;
        self.dict_mut()
            .get_mut("websocket")?
            .as_dict_mut()?
            .get_mut("messages")?
            .as_list_mut()
    }

    /// Whether the WebSocket has closed (its close is recorded).
    pub fn websocket_closed(&self) -> bool {
        self.websocket().is_some_and(|ws| {
            ["close_code", "timestamp_end"]
                .iter()
                .any(|k| ws.get(k).is_some_and(|v| !v.is_null()))
        })
    }

    /// Gives the flow an open WebSocket with no messages, as mitmproxy does
    /// before the `response` hook of a 101 that upgrades to one.
    pub fn start_websocket(&mut self) {
        let mut ws = Dict::new();
        // mitmproxy's key order: its dataclass fields, written reversed.
        ws.push("timestamp_end", Value::Null);
        ws.push("close_reason", Value::Null);
        ws.push("close_code", Value::Null);
        ws.push("closed_by_client", Value::Null);
        ws.push("messages", Value::list(Vec::new()));
        self.dict_mut().insert("websocket", Value::Dict(ws.into()));
    }

    /// Appends a message a side sent (not dropped, not injected) and
    /// returns its index in the list in memory (the flow's index less
    /// [`spilled_count`](Flow::spilled_count)), or `None` if the flow has
    /// no WebSocket.
    pub fn push_websocket_message(
        &mut self,
        text: bool,
        from_client: bool,
        content: impl Into<Bytes>,
        timestamp: f64,
    ) -> Option<usize> {
        let messages = self.websocket_messages_mut()?;
        messages.push(message(text, from_client, content.into(), timestamp, false));
        Some(messages.len() - 1)
    }

    /// Records how the WebSocket closed, before `websocket_end`: which side
    /// closed it, the code and reason of its close frame, or
    /// [`ABNORMAL_CLOSURE`] and no reason when a side's connection ended
    /// without one. mitmproxy 11 records no flow error for that.
    pub fn close_websocket(
        &mut self,
        closed_by_client: bool,
        code: u16,
        reason: Option<&str>,
        timestamp: f64,
    ) {
        let Some(ws) = self
            .dict_mut()
            .get_mut("websocket")
            .and_then(Value::as_dict_mut)
        else {
            return;
        };
        ws.insert("timestamp_end", Value::Float(timestamp));
        ws.insert("close_reason", reason.map_or(Value::Null, Value::text));
        ws.insert("close_code", Value::Int(i64::from(code)));
        ws.insert("closed_by_client", Value::Bool(closed_by_client));
    }
}
