//! A WebSocket or TCP flow's messages by the flow's index, wherever they
//! are: in the dict's list, or in the spill of a long-lived stream (read
//! back and kept for the event; a change is kept beside the file). The
//! undo log keeps what a change replaced.

use elsa::FrozenMap;

use super::{FlowCell, Undo};
use crate::flow::{tcp, websocket};
use crate::tnetstring::Value;

/// Spilled messages read back during one event, by index: they stay put
/// while the hook borrows their bytes, and a change drops its entry.
#[derive(Default)]
pub(super) struct ReadBack(pub(super) FrozenMap<usize, Box<Value>>);

impl std::fmt::Debug for ReadBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReadBack({} messages)", self.0.len())
    }
}

/// Which stream's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stream {
    WebSocket,
    Tcp,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::WebSocket => "WebSocket",
            Stream::Tcp => "TCP",
        }
    }

    fn is_message(self, value: &Value) -> bool {
        match self {
            Stream::WebSocket => websocket::Message::new(value).is_some(),
            Stream::Tcp => tcp::Message::new(value).is_some(),
        }
    }
}

impl FlowCell<'_> {
    /// The messages in the dict's list: those after the spilled ones.
    fn in_memory(&self, stream: Stream) -> Option<&[Value]> {
        match stream {
            Stream::WebSocket => self.flow.websocket_messages(),
            Stream::Tcp => self.flow.tcp_messages(),
        }
    }

    fn in_memory_mut(&mut self, stream: Stream) -> Option<&mut Vec<Value>> {
        match stream {
            Stream::WebSocket => self.flow.websocket_messages_mut(),
            Stream::Tcp => self.flow.tcp_messages_mut(),
        }
    }

    /// Message `index` of the stream, read back from the spill if it was
    /// moved there.
    pub(super) fn stream_value(&self, stream: Stream, index: usize) -> Option<&Value> {
        let spilled = self.flow.spilled_count();
        let list = self.in_memory(stream)?;
        if index >= spilled {
            return list.get(index - spilled);
        }
        if let Some(value) = self.read_back.0.get(&index) {
            return Some(value);
        }
        match self.flow.spill()?.get(index) {
            Ok(value) => Some(self.read_back.0.insert(index, Box::new(value))),
            Err(e) => {
                self.set_last_error(&format!(
                    "cannot read {} message {index} of flow {} back: {e}",
                    stream.name(),
                    self.flow.id()
                ));
                None
            }
        }
    }

    /// Changes message `index` with `edit`; the undo log keeps it as it
    /// was unless the hook appended it.
    pub(super) fn edit_stream_message(
        &mut self,
        stream: Stream,
        index: usize,
        edit: impl FnOnce(&mut Value),
    ) -> Result<(), String> {
        let name = stream.name();
        let before = self
            .stream_value(stream, index)
            .ok_or_else(|| format!("the flow has no {name} message {index}"))?;
        if !stream.is_message(before) {
            return Err(format!("{name} message {index} is malformed"));
        }
        let spilled = self.flow.spilled_count();
        if index < spilled {
            let mut value = before.clone();
            edit(&mut value);
            self.read_back.0.as_mut().remove(&index);
            let spill = self.flow.spill_mut().expect("read above");
            let before = spill
                .set(index, value)
                .map_err(|e| format!("cannot change {name} message {index}: {e}"))?;
            if !self
                .undo
                .iter()
                .any(|u| matches!(u, Undo::Spilled(i, _) if *i == index))
            {
                self.undo.push(Undo::Spilled(index, before));
            }
            return Ok(());
        }
        let local = index - spilled;
        let kept = self.undo.iter().any(|u| match (stream, u) {
            (Stream::WebSocket, Undo::WsMessage(i, _)) | (Stream::Tcp, Undo::TcpMessage(i, _)) => {
                *i == local
            }
            (Stream::WebSocket, Undo::WsLen(len)) | (Stream::Tcp, Undo::TcpLen(len)) => {
                local >= *len
            }
            _ => false,
        });
        if !kept {
            let before = before.clone();
            self.undo.push(match stream {
                Stream::WebSocket => Undo::WsMessage(local, before),
                Stream::Tcp => Undo::TcpMessage(local, before),
            });
        }
        let list = self.in_memory_mut(stream).expect("read above");
        edit(&mut list[local]);
        Ok(())
    }
}
