//! [`WebSocket`] and its messages: an HTTP flow upgraded to a WebSocket
//! (mitmproxy's `flow.websocket`, `WebSocketData` and `WebSocketMessage`).

use crate::Error;
use crate::abi;
use crate::boundary::host::FlowHandle;

/// The WebSocket connection of a flow whose request was upgraded (a 101
/// response): every message either side sent, and how the connection
/// closed. [`Flow::websocket`](crate::Flow::websocket) gives it.
///
/// Messages are in the order they were sent; in `websocket_message` the
/// one the event is about is the last. A message is a view into the flow:
/// what a hook changes is what the other side gets (live) and what `-w`
/// saves.
///
/// ```
/// # use waylay_sdk::{Context, Flow, Script};
/// # #[derive(Default)] struct S;
/// impl Script for S {
///     fn websocket_end(&mut self, ctx: &Context, flow: &mut Flow) {
///         if let Some(ws) = flow.websocket() {
///             ctx.info(&format!("{} messages, close code {:?}", ws.messages_len(), ws.close_code()));
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct WebSocket {
    handle: FlowHandle,
}

impl WebSocket {
    pub(crate) fn new(handle: FlowHandle) -> WebSocket {
        WebSocket { handle }
    }

    /// How many messages there are so far.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let first = ws.messages_len() == 1;
    /// # }
    /// ```
    pub fn messages_len(&self) -> usize {
        self.handle
            .flow_int(abi::FLOW_WS_MESSAGES)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    /// The message at `index` (0 is the first sent), if there is one.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// if let Some(first) = ws.message(0) {
    ///     println!("opened by the {}", if first.from_client() { "client" } else { "server" });
    /// }
    /// # }
    /// ```
    pub fn message(&self, index: usize) -> Option<WebSocketMessage<'_>> {
        (index < self.messages_len()).then_some(WebSocketMessage {
            handle: &self.handle,
            index,
        })
    }

    /// The newest message: in `websocket_message`, the one the event is
    /// about (unless a hook before injected one after it).
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// if let Some(text) = ws.last_message().and_then(|m| m.text()) {
    ///     println!("{text}");
    /// }
    /// # }
    /// ```
    pub fn last_message(&self) -> Option<WebSocketMessage<'_>> {
        self.messages_len()
            .checked_sub(1)
            .and_then(|i| self.message(i))
    }

    /// Every message, oldest first.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let from_server = ws.messages().filter(|m| !m.from_client()).count();
    /// # }
    /// ```
    pub fn messages(&self) -> impl Iterator<Item = WebSocketMessage<'_>> {
        (0..self.messages_len()).map(move |index| WebSocketMessage {
            handle: &self.handle,
            index,
        })
    }

    /// The message at `index`, to change.
    ///
    /// ```
    /// # fn f(ws: &mut waylay_sdk::WebSocket) {
    /// if let Some(mut first) = ws.message_mut(0) {
    ///     first.set_content(b"rewritten");
    /// }
    /// # }
    /// ```
    pub fn message_mut(&mut self, index: usize) -> Option<WebSocketMessageMut<'_>> {
        (index < self.messages_len()).then_some(WebSocketMessageMut {
            handle: &mut self.handle,
            index,
        })
    }

    /// The newest message, to change; in `websocket_message`, the one the
    /// event is about (unless a hook before injected one after it).
    ///
    /// ```
    /// # fn f(ws: &mut waylay_sdk::WebSocket) {
    /// if let Some(mut message) = ws.last_message_mut() {
    ///     message.drop();
    /// }
    /// # }
    /// ```
    pub fn last_message_mut(&mut self) -> Option<WebSocketMessageMut<'_>> {
        let last = self.messages_len().checked_sub(1)?;
        self.message_mut(last)
    }

    /// Who closed the connection: `Some(true)` the client, `Some(false)`
    /// the server, `None` while it is open.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let by_client = ws.closed_by_client() == Some(true);
    /// # }
    /// ```
    pub fn closed_by_client(&self) -> Option<bool> {
        self.handle
            .flow_int(abi::FLOW_WS_CLOSED_BY_CLIENT)
            .map(|b| b != 0)
    }

    /// The close code (RFC 6455 7.1.5): 1000 for a normal close, 1006 when
    /// a side's connection dropped without a close frame; `None` while the
    /// connection is open.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let abnormal = ws.close_code() == Some(1006);
    /// # }
    /// ```
    pub fn close_code(&self) -> Option<u16> {
        self.handle
            .flow_int(abi::FLOW_WS_CLOSE_CODE)
            .and_then(|c| u16::try_from(c).ok())
    }

    /// The close reason the closing side sent, if any.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let reason = ws.close_reason().unwrap_or("");
    /// # }
    /// ```
    pub fn close_reason(&self) -> Option<&str> {
        self.handle
            .flow_text(abi::FLOW_WS_CLOSE_REASON)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// When the connection closed, in seconds since the Unix epoch; `None`
    /// while it is open.
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let open = ws.timestamp_end().is_none();
    /// # }
    /// ```
    pub fn timestamp_end(&self) -> Option<f64> {
        self.handle.flow_float(abi::FLOW_WS_TIMESTAMP_END)
    }

    /// Sends a message to the client, as mitmproxy's
    /// `inject.websocket(flow, True, content, is_text)`: appends it to the
    /// messages (from the server, injected, now) and the proxy sends it
    /// once the hook returns. Refused with an error for flows that are not
    /// live, such as those read from a file, and once the connection is
    /// closed.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn websocket_start(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if let Some(ws) = flow.websocket_mut() {
    ///             if let Err(e) = ws.inject_to_client("welcome", true) {
    ///                 ctx.warn(&e.to_string());
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub fn inject_to_client(&mut self, content: impl AsRef<[u8]>, text: bool) -> Result<(), Error> {
        self.handle
            .ws_inject(true, text, content.as_ref())
            .map_err(Error::from_host)
    }

    /// Sends a message to the server; otherwise as
    /// [`inject_to_client`](WebSocket::inject_to_client).
    ///
    /// ```
    /// # fn f(ws: &mut waylay_sdk::WebSocket) -> Result<(), waylay_sdk::Error> {
    /// ws.inject_to_server([0x01, 0x02], false)?;
    /// # Ok(()) }
    /// ```
    pub fn inject_to_server(&mut self, content: impl AsRef<[u8]>, text: bool) -> Result<(), Error> {
        self.handle
            .ws_inject(false, text, content.as_ref())
            .map_err(Error::from_host)
    }
}

/// One WebSocket message, read-only: text or binary, which side sent it,
/// its content, and whether it was dropped or injected. Fragmented frames
/// arrive as one message; pings and pongs are not messages.
/// [`WebSocket::message`] gives it; [`WebSocketMessageMut`] changes it.
///
/// ```
/// # fn f(ws: &waylay_sdk::WebSocket) {
/// for message in ws.messages() {
///     let arrow = if message.from_client() { "->" } else { "<-" };
///     println!("{arrow} {} bytes", message.content().len());
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct WebSocketMessage<'a> {
    handle: &'a FlowHandle,
    index: usize,
}

impl<'a> WebSocketMessage<'a> {
    /// Its place among the flow's messages (0 is the first sent).
    ///
    /// ```
    /// # fn f(ws: &waylay_sdk::WebSocket) {
    /// let newest = ws.last_message().map(|m| m.index());
    /// # }
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether it is a text message (RFC 6455 TEXT frames) rather than a
    /// binary one.
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let kind = if m.is_text() { "text" } else { "binary" };
    /// # }
    /// ```
    pub fn is_text(&self) -> bool {
        self.handle.ws_msg_int(self.index, abi::WSMSG_TYPE) == Some(abi::WS_TEXT)
    }

    /// Whether the client sent it (or it is injected towards the server).
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let upstream = m.from_client();
    /// # }
    /// ```
    pub fn from_client(&self) -> bool {
        self.handle.ws_msg_int(self.index, abi::WSMSG_FROM_CLIENT) == Some(1)
    }

    /// The content, as bytes; a text message's is UTF-8.
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let empty = m.content().is_empty();
    /// # }
    /// ```
    pub fn content(&self) -> &'a [u8] {
        self.handle
            .ws_msg_bytes(self.index, abi::WSMSG_CONTENT)
            .unwrap_or_default()
    }

    /// The content as text: `None` for a binary message, or when the
    /// content is not UTF-8 (mitmproxy's `message.text` raises for both).
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let spam = m.text().is_some_and(|t| t.contains("spam"));
    /// # }
    /// ```
    pub fn text(&self) -> Option<&'a str> {
        if !self.is_text() {
            return None;
        }
        std::str::from_utf8(self.content()).ok()
    }

    /// When it was received or injected, in seconds since the Unix epoch.
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let t = m.timestamp();
    /// # }
    /// ```
    pub fn timestamp(&self) -> Option<f64> {
        self.handle.ws_msg_float(self.index, abi::WSMSG_TIMESTAMP)
    }

    /// Whether it was dropped: not passed on to the other side.
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let passed_on = !m.is_dropped();
    /// # }
    /// ```
    pub fn is_dropped(&self) -> bool {
        self.handle.ws_msg_int(self.index, abi::WSMSG_DROPPED) == Some(1)
    }

    /// Whether a script injected it, rather than a side sending it.
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessage) {
    /// let genuine = !m.is_injected();
    /// # }
    /// ```
    pub fn is_injected(&self) -> bool {
        self.handle.ws_msg_int(self.index, abi::WSMSG_INJECTED) == Some(1)
    }
}

/// One WebSocket message, to change: its content, or whether it is passed
/// on. [`WebSocket::message_mut`] and [`WebSocket::last_message_mut`] give
/// it. It reads like [`WebSocketMessage`], but what it returns borrows the
/// view, so it cannot be held across a change.
///
/// ```
/// # fn f(flow: &mut waylay_sdk::Flow) {
/// if let Some(mut message) = flow.websocket_mut().and_then(|ws| ws.last_message_mut()) {
///     if message.text() == Some("ping") {
///         let _ = message.set_text("pong");
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct WebSocketMessageMut<'a> {
    handle: &'a mut FlowHandle,
    index: usize,
}

impl WebSocketMessageMut<'_> {
    /// The message as a read-only [`WebSocketMessage`], e.g. to pass to a
    /// function that takes one.
    ///
    /// ```
    /// # use waylay_sdk::WebSocketMessage;
    /// fn describe(m: WebSocketMessage<'_>) -> String {
    ///     format!("{} bytes", m.content().len())
    /// }
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// println!("{}", describe(m.get()));
    /// # }
    /// ```
    pub fn get(&self) -> WebSocketMessage<'_> {
        WebSocketMessage {
            handle: &*self.handle,
            index: self.index,
        }
    }

    /// [`WebSocketMessage::index`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// let i = m.index();
    /// # }
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// [`WebSocketMessage::is_text`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// let text = m.is_text();
    /// # }
    /// ```
    pub fn is_text(&self) -> bool {
        self.get().is_text()
    }

    /// [`WebSocketMessage::from_client`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// let upstream = m.from_client();
    /// # }
    /// ```
    pub fn from_client(&self) -> bool {
        self.get().from_client()
    }

    /// [`WebSocketMessage::content`]; the bytes cannot be held across a
    /// change.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::WebSocketMessageMut) {
    /// let doubled = m.content().repeat(2);
    /// m.set_content(doubled);
    /// # }
    /// ```
    pub fn content(&self) -> &[u8] {
        self.get().content()
    }

    /// [`WebSocketMessage::text`]; the text cannot be held across a change.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::WebSocketMessageMut) {
    /// if let Some(shout) = m.text().map(str::to_uppercase) {
    ///     let _ = m.set_text(&shout);
    /// }
    /// # }
    /// ```
    pub fn text(&self) -> Option<&str> {
        self.get().text()
    }

    /// [`WebSocketMessage::timestamp`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// let t = m.timestamp();
    /// # }
    /// ```
    pub fn timestamp(&self) -> Option<f64> {
        self.get().timestamp()
    }

    /// [`WebSocketMessage::is_dropped`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// let dropped = m.is_dropped();
    /// # }
    /// ```
    pub fn is_dropped(&self) -> bool {
        self.get().is_dropped()
    }

    /// [`WebSocketMessage::is_injected`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::WebSocketMessageMut) {
    /// let injected = m.is_injected();
    /// # }
    /// ```
    pub fn is_injected(&self) -> bool {
        self.get().is_injected()
    }

    /// Replaces the content; the type (text or binary) stays as it is.
    /// mitmproxy's `message.content = ...`.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::WebSocketMessageMut) {
    /// m.set_content([0u8, 1, 2]);
    /// # }
    /// ```
    pub fn set_content(&mut self, content: impl AsRef<[u8]>) {
        let _ = self
            .handle
            .ws_msg_set_bytes(self.index, abi::WSMSG_CONTENT, content.as_ref());
    }

    /// Replaces a text message's content with `text` (as UTF-8), as
    /// mitmproxy's `message.text = ...`; refused for a binary message,
    /// whose content [`set_content`](WebSocketMessageMut::set_content) sets.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::WebSocketMessageMut) {
    /// if m.set_text("hello").is_err() {
    ///     m.set_content(b"hello");
    /// }
    /// # }
    /// ```
    pub fn set_text(&mut self, text: &str) -> Result<(), Error> {
        if !self.is_text() {
            return Err(Error::new(format!(
                "WebSocket message {} is binary and has no text; use set_content",
                self.index
            )));
        }
        self.set_content(text);
        Ok(())
    }

    /// Drops the message: the other side does not get it (live), and it
    /// is saved with `dropped` set. mitmproxy's `message.drop()`.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::WebSocketMessageMut) {
    /// if m.content().starts_with(b"spam") {
    ///     m.drop();
    /// }
    /// # }
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn drop(&mut self) {
        let _ = self
            .handle
            .ws_msg_set_int(self.index, abi::WSMSG_DROPPED, 1);
    }
}
