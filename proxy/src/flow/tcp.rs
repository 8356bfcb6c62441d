//! TCP flows in mitmproxy's layout (its `TCPFlow`): the top-level dict of
//! `type: "tcp"` and its `messages`, each `[from_client, content,
//! timestamp]`; built for the live proxy and read by everyone.
//!
//! A dropped message: mitmproxy's file format has no `dropped` flag for
//! TCP, and in mitmproxy a script drops a TCP message by emptying it
//! (`message.content = b""`), after which nothing is written to the other
//! side. Waylay keeps that convention, with nothing outside the file:
//! the SDK's `TcpMessageMut::drop` empties the content, the message stays
//! in the list and is saved empty, and the live relay sends nothing for a
//! message that is empty after its `tcp_message` hook ([`Message::dropped`]).
//! A read never yields an empty chunk (that is the end of the stream), so
//! an empty message is always one a script emptied or an empty injection.
//!
//! Injected messages: a script's `inject_to_client`/`inject_to_server`
//! appends a message during the hook (mitmproxy writes no `injected` flag
//! for TCP either). The live relay knows how many messages there were when
//! it fired the event; every message past that is an injection, which it
//! takes out with [`Flow::take_tcp_messages_from`] and puts back one at a
//! time, each with its own `tcp_message`, before sending it.

use bytes::Bytes;

use super::{FORMAT_VERSION, Flow};
use crate::tnetstring::{Dict, Value};

// Places in a message list.
const FROM_CLIENT: usize = 0;
const CONTENT: usize = 1;
const TIMESTAMP: usize = 2;
const FIELDS: usize = 3;

/// A message as mitmproxy stores it: `[from_client, content, timestamp]`.
pub fn message(from_client: bool, content: Bytes, timestamp: f64) -> Value {
    Value::list(vec![
        Value::Bool(from_client),
        Value::Bytes(content),
        Value::Float(timestamp),
    ])
}

/// A stored TCP message, read.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a>(&'a [Value]);

impl<'a> Message<'a> {
    /// Reads a message value; `None` unless it is a list of three.
    pub fn new(value: &'a Value) -> Option<Message<'a>> {
        value.as_list().filter(|m| m.len() >= FIELDS).map(Message)
    }

    /// Whether the client sent it (or it is injected towards the server):
    /// it goes to the server.
    pub fn from_client(&self) -> bool {
        matches!(self.0[FROM_CLIENT], Value::Bool(true))
    }

    /// The content.
    pub fn content(&self) -> Option<&'a [u8]> {
        self.0[CONTENT].as_bytes()
    }

    /// Whether a script dropped it: its content is empty (the SDK's
    /// `TcpMessageMut::drop` empties it, as mitmproxy scripts do with
    /// `message.content = b""`; an empty injection reads the same). The
    /// live relay sends nothing for it.
    pub fn dropped(&self) -> bool {
        self.content().is_none_or(<[u8]>::is_empty)
    }

    /// When it was read or injected.
    pub fn timestamp(&self) -> Option<f64> {
        self.0[TIMESTAMP].as_float()
    }
}

/// Sets a message's content; `false` if the value is no message.
pub(crate) fn set_content(message: &mut Value, content: &[u8]) -> bool {
    match message.as_list_mut() {
        Some(list) if list.len() >= FIELDS => {
            list[CONTENT] = Value::bytes(content);
            true
        }
        _ => false,
    }
}

/// A new TCP flow with a fresh id ([`new_id`](super::new_id)), as the live proxy
/// starts one: [`Flow::new_tcp`].
#[cfg(feature = "live")]
pub fn new_flow(client_conn: Value, server_conn: Value, created: f64) -> Flow {
    Flow::new_tcp(&super::new_id(), client_conn, server_conn, created)
}

impl Flow {
    /// A new TCP flow, live, with no messages and no error yet: the dict
    /// mitmproxy writes for a `TCPFlow`, keys in its order. `client_conn`
    /// and `server_conn` are connection dicts (the live proxy's
    /// `record::client_conn` and `record::server_conn`), `id` a fresh
    /// UUID ([`new_id`](super::new_id); [`new_flow`] makes one), `created` when the
    /// flow began.
    pub fn new_tcp(id: &str, client_conn: Value, server_conn: Value, created: f64) -> Flow {
        let mut d = Dict::new();
        d.push("messages", Value::list(Vec::new()));
        d.push("backup", Value::Null);
        d.push("timestamp_created", Value::Float(created));
        d.push("comment", Value::text(""));
        d.push("metadata", Value::Dict(Dict::new().into()));
        d.push("marked", Value::text(""));
        d.push("is_replay", Value::Null);
        d.push("intercepted", Value::Bool(false));
        d.push("server_conn", server_conn);
        d.push("client_conn", client_conn);
        d.push("error", Value::Null);
        d.push("id", Value::text(id));
        d.push("type", Value::text("tcp"));
        d.push("version", Value::Int(FORMAT_VERSION));
        Flow::from_value(Value::Dict(d.into())).expect("a dict")
    }

    /// A TCP flow's messages, oldest first; `None` for other flows.
    pub fn tcp_messages(&self) -> Option<&[Value]> {
        if self.kind() != super::FlowKind::Tcp {
            return None;
        }
        self.dict().get("messages")?.as_list()
    }

    /// The TCP message at `index`.
    pub fn tcp_message(&self, index: usize) -> Option<Message<'_>> {
        Message::new(self.tcp_messages()?.get(index)?)
    }

    /// A TCP flow's messages, to change.
    pub fn tcp_messages_mut(&mut self) -> Option<&mut Vec<Value>> {
        self.tcp_messages()?;
        self.dict_mut().get_mut("messages")?.as_list_mut()
    }

    /// Appends a message a side sent and returns its index in the list in
    /// memory (the flow's index less [`spilled_count`](Flow::spilled_count)),
    /// or `None` if this is no TCP flow. Then fire `tcp_message`.
    pub fn push_tcp_message(
        &mut self,
        from_client: bool,
        content: impl Into<Bytes>,
        timestamp: f64,
    ) -> Option<usize> {
        let messages = self.tcp_messages_mut()?;
        messages.push(message(from_client, content.into(), timestamp));
        Some(messages.len() - 1)
    }

    /// Takes out the messages from `index` on: after an event fired with
    /// `index` messages in the flow, the ones hooks injected. Put each
    /// back with [`push_tcp_value`](Flow::push_tcp_value) before its own
    /// `tcp_message`.
    pub fn take_tcp_messages_from(&mut self, index: usize) -> Vec<Value> {
        match self.tcp_messages_mut() {
            Some(list) if list.len() > index => list.split_off(index),
            _ => Vec::new(),
        }
    }

    /// Appends a stored message (one taken out by
    /// [`take_tcp_messages_from`](Flow::take_tcp_messages_from)) and
    /// returns its index in the list in memory, or `None` if this is no
    /// TCP flow.
    pub fn push_tcp_value(&mut self, message: Value) -> Option<usize> {
        let messages = self.tcp_messages_mut()?;
        messages.push(message);
        Some(messages.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::golden;
    use crate::tnetstring;

    fn golden_flow() -> Flow {
        let value = tnetstring::parse(&golden("tcp.mitm").into()).unwrap();
        Flow::from_value(value).unwrap()
    }

    #[test]
    fn a_new_flow_has_mitmproxys_keys_in_mitmproxys_order() {
        let read = golden_flow();
        let conn = |k: &str| read.dict().get(k).unwrap().clone();
        let built = Flow::new_tcp(
            read.id(),
            conn("client_conn"),
            conn("server_conn"),
            1795477242.8047674,
        );
        let keys = |f: &Flow| {
            f.dict()
                .iter()
                .map(|(k, _)| k.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&built), keys(&read));
        // With the golden flow's messages it is the golden flow, byte for byte.
        let mut built = built;
        for i in 0..4 {
            let m = read.tcp_message(i).unwrap();
            let content = Bytes::copy_from_slice(m.content().unwrap());
            let at = built.push_tcp_message(m.from_client(), content, m.timestamp().unwrap());
            assert_eq!(at, Some(i));
        }
        let mut out = Vec::new();
        tnetstring::write(built.as_value(), &mut out);
        assert!(out == golden("tcp.mitm"), "not byte for byte");
    }

    #[test]
    fn messages_read_and_injections_are_taken_out() {
        let mut flow = golden_flow();
        let m = flow.tcp_message(1).unwrap();
        assert!(!m.from_client());
        assert_eq!(m.content(), Some(&b"ECHO ping-1\n"[..]));
        assert_eq!(m.timestamp(), Some(1795477242.8111022));
        assert!(!m.dropped());
        assert_eq!(flow.push_tcp_message(false, "hi", 1.0), Some(4));
        assert_eq!(flow.push_tcp_message(true, "", 2.0), Some(5));
        assert!(flow.tcp_message(5).unwrap().dropped());
        let taken = flow.take_tcp_messages_from(4);
        assert_eq!(taken.len(), 2);
        assert_eq!(flow.tcp_messages().unwrap().len(), 4);
        assert_eq!(flow.push_tcp_value(taken[0].clone()), Some(4));
        assert!(flow.take_tcp_messages_from(9).is_empty());
    }

    #[test]
    fn an_http_flow_has_no_tcp_messages() {
        let value = tnetstring::parse(&golden("get.mitm").into()).unwrap();
        let mut flow = Flow::from_value(value).unwrap();
        assert!(flow.tcp_messages().is_none());
        assert_eq!(flow.push_tcp_message(true, "x", 1.0), None);
    }
}
