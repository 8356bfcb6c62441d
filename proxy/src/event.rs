//! The events scripts and the built-in addons are driven through, in
//! mitmproxy's terms, and where their log lines go. Shared by `script`,
//! `addons` and the drivers (offline, live), and depending on none of them.

pub use waylay_sdk::Level;
use waylay_sdk::abi;

/// Where script log lines and hook failures go.
pub trait LogSink: Sync + Send {
    /// One line from `script` at `level`.
    fn log(&self, script: &str, level: Level, msg: &str);
}

/// The script events, in mitmproxy's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Once, first.
    Start,
    /// A client connected.
    ClientConnect,
    /// The proxy connected upstream.
    ServerConnect,
    /// Request head read.
    RequestHeaders,
    /// Whole request read.
    Request,
    /// Response head read.
    ResponseHeaders,
    /// Whole response read.
    Response,
    /// The flow failed.
    Error,
    /// A client disconnected.
    ClientDisconnect,
    /// Once, last.
    Done,
    /// A flow's WebSocket opened: after the `response` hook of its 101,
    /// with the flow's `websocket` set and no messages yet.
    WebsocketStart,
    /// A WebSocket message arrived; it is the last of the flow's messages.
    /// Hooks may change or drop it and may append injected messages after
    /// it (`injected` true), for the caller to send once the event is over.
    WebsocketMessage,
    /// A flow's WebSocket closed, from either side; the close fields are
    /// set (code 1006 when a connection dropped without a close frame).
    WebsocketEnd,
    /// A TCP flow began (`Flow::new_tcp`, no messages yet), before any
    /// bytes are relayed. Hooks may inject messages: every message past
    /// the ones there before the event is one, for the caller to run
    /// through `TcpMessage` and send (see `flow::tcp`).
    TcpStart,
    /// A side sent a chunk, appended last (`Flow::push_tcp_message`).
    /// Hooks may change it, empty it (a drop: nothing is sent for an
    /// empty message) and append injections after it, as for `TcpStart`.
    TcpMessage,
    /// A TCP flow ended: both sides closed (or broke off, as in
    /// mitmproxy), with no error on the flow. Each TCP flow gets this or `TcpError`,
    /// once, last; injection is refused.
    TcpEnd,
    /// A TCP flow ended abnormally (an unreachable server, a killed flow,
    /// a panicking hook), instead of `TcpEnd`; the caller sets the flow's
    /// error first (`Flow::set_error`), and fires this whenever the flow
    /// has one, as offline replay does. Injection is refused.
    TcpError,
}

impl Event {
    pub(crate) fn code(self) -> u32 {
        match self {
            Event::Start => abi::EVENT_START,
            Event::ClientConnect => abi::EVENT_CLIENT_CONNECT,
            Event::ServerConnect => abi::EVENT_SERVER_CONNECT,
            Event::RequestHeaders => abi::EVENT_REQUEST_HEADERS,
            Event::Request => abi::EVENT_REQUEST,
            Event::ResponseHeaders => abi::EVENT_RESPONSE_HEADERS,
            Event::Response => abi::EVENT_RESPONSE,
            Event::Error => abi::EVENT_ERROR,
            Event::ClientDisconnect => abi::EVENT_CLIENT_DISCONNECT,
            Event::Done => abi::EVENT_DONE,
            Event::WebsocketStart => abi::EVENT_WEBSOCKET_START,
            Event::WebsocketMessage => abi::EVENT_WEBSOCKET_MESSAGE,
            Event::WebsocketEnd => abi::EVENT_WEBSOCKET_END,
            Event::TcpStart => abi::EVENT_TCP_START,
            Event::TcpMessage => abi::EVENT_TCP_MESSAGE,
            Event::TcpEnd => abi::EVENT_TCP_END,
            Event::TcpError => abi::EVENT_TCP_ERROR,
        }
    }

    /// The hook's name in the SDK.
    pub fn hook_name(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::ClientConnect => "client_connect",
            Event::ServerConnect => "server_connect",
            Event::RequestHeaders => "request_headers",
            Event::Request => "request",
            Event::ResponseHeaders => "response_headers",
            Event::Response => "response",
            Event::Error => "error",
            Event::ClientDisconnect => "client_disconnect",
            Event::Done => "done",
            Event::WebsocketStart => "websocket_start",
            Event::WebsocketMessage => "websocket_message",
            Event::WebsocketEnd => "websocket_end",
            Event::TcpStart => "tcp_start",
            Event::TcpMessage => "tcp_message",
            Event::TcpEnd => "tcp_end",
            Event::TcpError => "tcp_error",
        }
    }
}
