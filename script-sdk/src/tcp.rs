//! [`Tcp`] and its messages: a raw TCP connection the proxy relays
//! (mitmproxy's `TCPFlow.messages` and `TCPMessage`).

use crate::Error;
use crate::abi;
use crate::boundary::host::FlowHandle;

/// The messages of a TCP flow: the chunks of bytes each side sent, in the
/// order the proxy read them. [`Flow::tcp`](crate::Flow::tcp) gives it.
///
/// TCP is a stream, not a sequence of messages: a message is whatever one
/// read returned, so where one ends and the next begins is arbitrary and
/// should not be relied on (mitmproxy says the same). In `tcp_message` the
/// message the event is about is the last. A message is a view into the
/// flow: what a hook changes is what the other side gets (live) and what
/// `-w` saves.
///
/// ```
/// # use waylay_sdk::{Context, Flow, Script};
/// # #[derive(Default)] struct S;
/// impl Script for S {
///     fn tcp_end(&mut self, ctx: &Context, flow: &mut Flow) {
///         if let Some(tcp) = flow.tcp() {
///             let sent: usize = tcp.messages().filter(|m| m.from_client()).map(|m| m.content().len()).sum();
///             ctx.info(&format!("{} messages, {sent} bytes from the client", tcp.messages_len()));
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Tcp {
    handle: FlowHandle,
}

impl Tcp {
    pub(crate) fn new(handle: FlowHandle) -> Tcp {
        Tcp { handle }
    }

    /// How many messages there are so far.
    ///
    /// ```
    /// # fn f(tcp: &waylay_sdk::Tcp) {
    /// let first = tcp.messages_len() == 1;
    /// # }
    /// ```
    pub fn messages_len(&self) -> usize {
        self.handle
            .flow_int(abi::FLOW_TCP_MESSAGES)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }

    /// The message at `index` (0 is the first read), if there is one.
    ///
    /// ```
    /// # fn f(tcp: &waylay_sdk::Tcp) {
    /// if let Some(first) = tcp.message(0) {
    ///     println!("the {} spoke first", if first.from_client() { "client" } else { "server" });
    /// }
    /// # }
    /// ```
    pub fn message(&self, index: usize) -> Option<TcpMessage<'_>> {
        (index < self.messages_len()).then_some(TcpMessage {
            handle: &self.handle,
            index,
        })
    }

    /// The newest message: in `tcp_message`, the one the event is about
    /// (mitmproxy's `flow.messages[-1]`).
    ///
    /// ```
    /// # fn f(tcp: &waylay_sdk::Tcp) {
    /// if let Some(m) = tcp.last_message() {
    ///     println!("{}", String::from_utf8_lossy(m.content()));
    /// }
    /// # }
    /// ```
    pub fn last_message(&self) -> Option<TcpMessage<'_>> {
        self.messages_len()
            .checked_sub(1)
            .and_then(|i| self.message(i))
    }

    /// Every message, oldest first.
    ///
    /// ```
    /// # fn f(tcp: &waylay_sdk::Tcp) {
    /// let from_server = tcp.messages().filter(|m| !m.from_client()).count();
    /// # }
    /// ```
    pub fn messages(&self) -> impl Iterator<Item = TcpMessage<'_>> {
        (0..self.messages_len()).map(move |index| TcpMessage {
            handle: &self.handle,
            index,
        })
    }

    /// The message at `index`, to change.
    ///
    /// ```
    /// # fn f(tcp: &mut waylay_sdk::Tcp) {
    /// if let Some(mut first) = tcp.message_mut(0) {
    ///     first.set_content(b"HELO\r\n");
    /// }
    /// # }
    /// ```
    pub fn message_mut(&mut self, index: usize) -> Option<TcpMessageMut<'_>> {
        (index < self.messages_len()).then_some(TcpMessageMut {
            handle: &mut self.handle,
            index,
        })
    }

    /// The newest message, to change; in `tcp_message`, the one the event
    /// is about.
    ///
    /// ```
    /// # fn f(tcp: &mut waylay_sdk::Tcp) {
    /// if let Some(mut message) = tcp.last_message_mut() {
    ///     let shouted = message.content().to_ascii_uppercase();
    ///     message.set_content(shouted);
    /// }
    /// # }
    /// ```
    pub fn last_message_mut(&mut self) -> Option<TcpMessageMut<'_>> {
        let last = self.messages_len().checked_sub(1)?;
        self.message_mut(last)
    }

    /// Sends bytes to the client, as mitmproxy's `inject.tcp(flow, True,
    /// content)`: appends them to the messages (from the server, now) and
    /// the proxy sends them once the hook returns, after the message the
    /// event is about; `tcp_message` then runs for the injected message
    /// too, as mitmproxy runs it. Refused with an error for flows that are
    /// not live, such as those read from a file, and in `tcp_end` and
    /// `tcp_error`, once the connection is over.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tcp_start(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if let Some(tcp) = flow.tcp_mut() {
    ///             if let Err(e) = tcp.inject_to_client("220 waylay says hello\r\n") {
    ///                 ctx.warn(&e.to_string());
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    pub fn inject_to_client(&mut self, content: impl AsRef<[u8]>) -> Result<(), Error> {
        self.handle
            .tcp_inject(true, content.as_ref())
            .map_err(Error::from_host)
    }

    /// Sends bytes to the server; otherwise as
    /// [`inject_to_client`](Tcp::inject_to_client).
    ///
    /// ```
    /// # fn f(tcp: &mut waylay_sdk::Tcp) -> Result<(), waylay_sdk::Error> {
    /// tcp.inject_to_server(b"PING\r\n")?;
    /// # Ok(()) }
    /// ```
    pub fn inject_to_server(&mut self, content: impl AsRef<[u8]>) -> Result<(), Error> {
        self.handle
            .tcp_inject(false, content.as_ref())
            .map_err(Error::from_host)
    }
}

/// One TCP message, read-only: which side sent it, its bytes, and when.
/// [`Tcp::message`] gives it; [`TcpMessageMut`] changes it.
///
/// ```
/// # fn f(tcp: &waylay_sdk::Tcp) {
/// for message in tcp.messages() {
///     let arrow = if message.from_client() { "->" } else { "<-" };
///     println!("{arrow} {} bytes", message.content().len());
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TcpMessage<'a> {
    handle: &'a FlowHandle,
    index: usize,
}

impl<'a> TcpMessage<'a> {
    /// Its place among the flow's messages (0 is the first read).
    ///
    /// ```
    /// # fn f(tcp: &waylay_sdk::Tcp) {
    /// let newest = tcp.last_message().map(|m| m.index());
    /// # }
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether the client sent it (or it is injected towards the server).
    ///
    /// ```
    /// # fn f(m: waylay_sdk::TcpMessage) {
    /// let upstream = m.from_client();
    /// # }
    /// ```
    pub fn from_client(&self) -> bool {
        self.handle.tcp_msg(self.index).is_some_and(|(c, _, _)| c)
    }

    /// The bytes. Empty for a message a script dropped
    /// ([`TcpMessageMut::drop`]).
    ///
    /// ```
    /// # fn f(m: waylay_sdk::TcpMessage) {
    /// let greeting = m.content().starts_with(b"220 ");
    /// # }
    /// ```
    pub fn content(&self) -> &'a [u8] {
        self.handle
            .tcp_msg(self.index)
            .map(|(_, content, _)| content)
            .unwrap_or_default()
    }

    /// When it was read or injected, in seconds since the Unix epoch.
    ///
    /// ```
    /// # fn f(m: waylay_sdk::TcpMessage) {
    /// let t = m.timestamp();
    /// # }
    /// ```
    pub fn timestamp(&self) -> Option<f64> {
        self.handle.tcp_msg(self.index).and_then(|(_, _, t)| t)
    }
}

/// One TCP message, to change: [`Tcp::message_mut`] and
/// [`Tcp::last_message_mut`] give it. It reads like [`TcpMessage`], but
/// what it returns borrows the view, so it cannot be held across a change.
///
/// ```
/// # fn f(flow: &mut waylay_sdk::Flow) {
/// if let Some(mut message) = flow.tcp_mut().and_then(|tcp| tcp.last_message_mut()) {
///     if message.content() == b"PING\r\n" {
///         message.set_content(b"PONG\r\n");
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct TcpMessageMut<'a> {
    handle: &'a mut FlowHandle,
    index: usize,
}

impl TcpMessageMut<'_> {
    /// The message as a read-only [`TcpMessage`], e.g. to pass to a
    /// function that takes one.
    ///
    /// ```
    /// # use waylay_sdk::TcpMessage;
    /// fn describe(m: TcpMessage<'_>) -> String {
    ///     format!("{} bytes", m.content().len())
    /// }
    /// # fn f(m: waylay_sdk::TcpMessageMut) {
    /// println!("{}", describe(m.get()));
    /// # }
    /// ```
    pub fn get(&self) -> TcpMessage<'_> {
        TcpMessage {
            handle: &*self.handle,
            index: self.index,
        }
    }

    /// [`TcpMessage::index`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::TcpMessageMut) {
    /// let i = m.index();
    /// # }
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// [`TcpMessage::from_client`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::TcpMessageMut) {
    /// let upstream = m.from_client();
    /// # }
    /// ```
    pub fn from_client(&self) -> bool {
        self.get().from_client()
    }

    /// [`TcpMessage::content`]; the bytes cannot be held across a change.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::TcpMessageMut) {
    /// let doubled = m.content().repeat(2);
    /// m.set_content(doubled);
    /// # }
    /// ```
    pub fn content(&self) -> &[u8] {
        self.get().content()
    }

    /// [`TcpMessage::timestamp`].
    ///
    /// ```
    /// # fn f(m: waylay_sdk::TcpMessageMut) {
    /// let t = m.timestamp();
    /// # }
    /// ```
    pub fn timestamp(&self) -> Option<f64> {
        self.get().timestamp()
    }

    /// Replaces the bytes: live, the other side gets these instead, and
    /// `-w` saves them. mitmproxy's `message.content = ...`.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::TcpMessageMut) {
    /// let shouted = m.content().to_ascii_uppercase();
    /// m.set_content(shouted);
    /// # }
    /// ```
    pub fn set_content(&mut self, content: impl AsRef<[u8]>) {
        let _ = self
            .handle
            .tcp_msg_set_content(self.index, content.as_ref());
    }

    /// Drops the message: the other side gets nothing for it. As in
    /// mitmproxy, where a script drops a TCP message with `message.content
    /// = b""`, this empties its content: the message stays in the list and
    /// is saved with no bytes (mitmproxy's file format has no `dropped`
    /// flag for TCP), and the proxy sends nothing for an empty message.
    ///
    /// ```
    /// # fn f(mut m: waylay_sdk::TcpMessageMut) {
    /// if m.content().starts_with(b"DEBUG ") {
    ///     m.drop();
    /// }
    /// # }
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn drop(&mut self) {
        self.set_content([]);
    }
}
