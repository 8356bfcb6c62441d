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
    /// A CONNECT arrived (its flow's request); a response set here answers
    /// it. Live only.
    HttpConnect,
    /// A CONNECT is about to go to the upstream proxy; its headers may
    /// change. Live only.
    HttpConnectUpstream,
    /// A CONNECT's tunnel is open. Live only.
    HttpConnected,
    /// A CONNECT failed or was refused. Live only.
    HttpConnectError,
    /// A server connection is open. Live only.
    ServerConnected,
    /// A server connection closed. Live only.
    ServerDisconnected,
    /// A server could not be reached (the connection's `error`). Live only.
    ServerConnectError,
    /// A client's TLS ClientHello; the hook may pass the connection
    /// through. Live only.
    TlsClienthello,
    /// TLS with the client begins. Live only.
    TlsStartClient,
    /// TLS with the server begins. Live only.
    TlsStartServer,
    /// TLS with the client is up. Live only.
    TlsEstablishedClient,
    /// TLS with the server is up. Live only.
    TlsEstablishedServer,
    /// TLS with the client failed. Live only.
    TlsFailedClient,
    /// TLS with the server failed. Live only.
    TlsFailedServer,
    /// Once, after `Configure`: serving (or reading) begins.
    Running,
    /// After `Start`: the options are set; with the names that changed.
    Configure,
    /// After each flow event, once every hook of it has run.
    Update,
}

impl Event {
    /// Whether the event is about a flow (and is followed by `Update`).
    pub fn is_flow_event(self) -> bool {
        matches!(
            self,
            Event::RequestHeaders
                | Event::Request
                | Event::ResponseHeaders
                | Event::Response
                | Event::Error
                | Event::WebsocketStart
                | Event::WebsocketMessage
                | Event::WebsocketEnd
                | Event::TcpStart
                | Event::TcpMessage
                | Event::TcpEnd
                | Event::TcpError
                | Event::HttpConnect
                | Event::HttpConnectUpstream
                | Event::HttpConnected
                | Event::HttpConnectError
        )
    }

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
            Event::HttpConnect => abi::EVENT_HTTP_CONNECT,
            Event::HttpConnectUpstream => abi::EVENT_HTTP_CONNECT_UPSTREAM,
            Event::HttpConnected => abi::EVENT_HTTP_CONNECTED,
            Event::HttpConnectError => abi::EVENT_HTTP_CONNECT_ERROR,
            Event::ServerConnected => abi::EVENT_SERVER_CONNECTED,
            Event::ServerDisconnected => abi::EVENT_SERVER_DISCONNECTED,
            Event::ServerConnectError => abi::EVENT_SERVER_CONNECT_ERROR,
            Event::TlsClienthello => abi::EVENT_TLS_CLIENTHELLO,
            Event::TlsStartClient => abi::EVENT_TLS_START_CLIENT,
            Event::TlsStartServer => abi::EVENT_TLS_START_SERVER,
            Event::TlsEstablishedClient => abi::EVENT_TLS_ESTABLISHED_CLIENT,
            Event::TlsEstablishedServer => abi::EVENT_TLS_ESTABLISHED_SERVER,
            Event::TlsFailedClient => abi::EVENT_TLS_FAILED_CLIENT,
            Event::TlsFailedServer => abi::EVENT_TLS_FAILED_SERVER,
            Event::Running => abi::EVENT_RUNNING,
            Event::Configure => abi::EVENT_CONFIGURE,
            Event::Update => abi::EVENT_UPDATE,
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
            Event::HttpConnect => "http_connect",
            Event::HttpConnectUpstream => "http_connect_upstream",
            Event::HttpConnected => "http_connected",
            Event::HttpConnectError => "http_connect_error",
            Event::ServerConnected => "server_connected",
            Event::ServerDisconnected => "server_disconnected",
            Event::ServerConnectError => "server_connect_error",
            Event::TlsClienthello => "tls_clienthello",
            Event::TlsStartClient => "tls_start_client",
            Event::TlsStartServer => "tls_start_server",
            Event::TlsEstablishedClient => "tls_established_client",
            Event::TlsEstablishedServer => "tls_established_server",
            Event::TlsFailedClient => "tls_failed_client",
            Event::TlsFailedServer => "tls_failed_server",
            Event::Running => "running",
            Event::Configure => "configure",
            Event::Update => "update",
        }
    }
}
