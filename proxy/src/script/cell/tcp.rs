//! A TCP flow's messages as hooks read, change and inject them, with the
//! undo log's entries per message (a long connection's messages are not
//! copied whole for a change to the newest).

use bytes::Bytes;

use super::stream::Stream;
use super::{FlowCell, Undo, now};
use crate::flow::tcp::{self, Message};
use crate::tnetstring::Value;

impl FlowCell<'_> {
    /// The TCP message at `index`: who sent it, its content, when.
    pub(crate) fn tcp_msg(&self, index: usize) -> Option<(bool, &[u8], Option<f64>)> {
        let message = Message::new(self.stream_value(Stream::Tcp, index)?)?;
        Some((
            message.from_client(),
            message.content().unwrap_or_default(),
            message.timestamp(),
        ))
    }

    /// Replaces a TCP message's content; emptying it is a drop.
    pub(crate) fn set_tcp_msg_content(
        &mut self,
        index: usize,
        content: &[u8],
    ) -> Result<(), String> {
        self.edit_stream_message(Stream::Tcp, index, |m| {
            tcp::set_content(m, content);
        })
    }

    /// mitmproxy's `inject.tcp`: appends the message for the live proxy
    /// to send once the event is over (it runs `tcp_message` for it first).
    pub(crate) fn tcp_inject(&mut self, to_client: bool, content: &[u8]) -> Result<(), String> {
        let id = self.flow.id();
        if !self.live {
            return Err(format!(
                "cannot inject a TCP message into flow {id}: it was read from a file, not live \
                 traffic (mitmproxy: \"Flow is not from a live connection.\")"
            ));
        }
        let Some(len) = self.flow.tcp_messages().map(<[Value]>::len) else {
            return Err(format!(
                "cannot inject a TCP message into flow {id}: it is a {} flow, not a TCP flow",
                self.flow.kind_name()
            ));
        };
        if self.ended {
            return Err(format!(
                "cannot inject a TCP message into flow {id}: its connection has ended"
            ));
        }
        if !self.undo.iter().any(|u| matches!(u, Undo::TcpLen(_))) {
            self.undo.push(Undo::TcpLen(len));
        }
        let message = tcp::message(!to_client, Bytes::copy_from_slice(content), now());
        self.flow.push_tcp_value(message);
        Ok(())
    }
}
