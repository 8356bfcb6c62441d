//! [`Flow`]: one HTTP transaction (the seed's HTTPFlow), maybe upgraded to a
//! WebSocket, or one TCP connection (mitmproxy's TCPFlow); [`FlowKind`] and
//! [`FlowError`].

use std::cell::OnceCell;

use crate::abi;
use crate::boundary::host::FlowHandle;
use crate::{Connection, Error, Request, Response, Tcp, WebSocket};

/// One flow: an HTTP transaction (a request, maybe a response, maybe a
/// WebSocket) or a TCP connection (its messages), maybe an error, the
/// connections it used, and the user's annotations.
///
/// Hooks get `&mut Flow`; what they change is what the server or client
/// sees live, and what `-w` saves. The HTTP hooks (`request`, `response`,
/// `error`, the WebSocket ones, ...) only ever get HTTP flows, and the TCP
/// hooks (`tcp_start`, ...) only TCP flows; [`kind`](Flow::kind) tells
/// them apart where a helper takes either. A TCP flow has no request:
/// [`request`](Flow::request) panics on one, [`response`](Flow::response)
/// is `None`, and its bytes are in [`tcp`](Flow::tcp).
///
/// ```
/// # use waylay_sdk::{Context, Flow, Script};
/// # #[derive(Default)] struct S;
/// impl Script for S {
///     fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
///         if flow.response().is_some_and(|r| r.status_code() >= 500) {
///             flow.set_marked(":warning:");
///             flow.set_comment("server error");
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Flow {
    handle: FlowHandle,
    request: Request,
    response: Response,
    websocket: WebSocket,
    tcp: Tcp,
    kind: OnceCell<FlowKind>,
    client: OnceCell<Option<Connection>>,
    server: OnceCell<Option<Connection>>,
}

impl Flow {
    pub(crate) fn new(handle: FlowHandle) -> Flow {
        Flow {
            handle,
            request: Request::new(handle),
            response: Response::new(handle),
            websocket: WebSocket::new(handle),
            tcp: Tcp::new(handle),
            kind: OnceCell::new(),
            client: OnceCell::new(),
            server: OnceCell::new(),
        }
    }

    /// The host's flow, for [`Filter::matches`](crate::Filter::matches).
    pub(crate) fn handle(&self) -> &FlowHandle {
        &self.handle
    }

    /// The flow's id (a UUID), stable across saving and loading.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// println!("{}", flow.id());
    /// # }
    /// ```
    pub fn id(&self) -> &str {
        self.text(abi::FLOW_ID).unwrap_or("")
    }

    /// What kind of flow this is: HTTP (maybe with a WebSocket) or TCP.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, FlowKind};
    /// fn describe(flow: &Flow) -> String {
    ///     match flow.kind() {
    ///         FlowKind::Http => flow.request().url(),
    ///         FlowKind::Tcp => format!("TCP, {} messages", flow.tcp().map_or(0, |t| t.messages_len())),
    ///         _ => "something else".to_owned(),
    ///     }
    /// }
    /// ```
    pub fn kind(&self) -> FlowKind {
        *self
            .kind
            .get_or_init(|| match self.handle.flow_text(abi::FLOW_TYPE) {
                Some(b"http") => FlowKind::Http,
                Some(b"tcp") => FlowKind::Tcp,
                Some(b"udp") => FlowKind::Udp,
                Some(b"dns") => FlowKind::Dns,
                _ => FlowKind::Other,
            })
    }

    /// Whether this is an HTTP flow, which has a [`request`](Flow::request).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if flow.is_http() {
    ///     println!("{}", flow.request().url());
    /// }
    /// # }
    /// ```
    pub fn is_http(&self) -> bool {
        self.kind() == FlowKind::Http
    }

    /// Whether this is a TCP flow, whose bytes are in [`tcp`](Flow::tcp).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let raw = flow.is_tcp();
    /// # }
    /// ```
    pub fn is_tcp(&self) -> bool {
        self.kind() == FlowKind::Tcp
    }

    /// Panics, saying so, unless this is an HTTP flow.
    #[track_caller]
    fn expect_http(&self, what: &str) {
        let name = match self.kind() {
            FlowKind::Http => return,
            FlowKind::Tcp => panic!("this is a TCP flow: it has no {what}; check flow.tcp()"),
            FlowKind::Udp => "UDP",
            FlowKind::Dns => "DNS",
            FlowKind::Other => "non-HTTP",
        };
        panic!("this is a {name} flow: it has no {what}; check flow.kind()")
    }

    /// The request; every HTTP flow has one.
    ///
    /// # Panics
    /// On a TCP flow, which has no request, with the message "this is a
    /// TCP flow: it has no request; check flow.tcp()". Only the TCP hooks
    /// get TCP flows, so this matters only in code shared between HTTP and
    /// TCP hooks: check [`is_http`](Flow::is_http) there. A panic fails the
    /// hook alone: the runner reports it and undoes the hook's changes.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// println!("{} {}", flow.request().method(), flow.request().url());
    /// # }
    /// ```
    #[track_caller]
    pub fn request(&self) -> &Request {
        self.expect_http("request");
        &self.request
    }

    /// The request, to change.
    ///
    /// # Panics
    /// On a TCP flow, as [`request`](Flow::request) does.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().headers_mut().remove("cookie");
    /// # }
    /// ```
    #[track_caller]
    pub fn request_mut(&mut self) -> &mut Request {
        self.expect_http("request");
        &mut self.request
    }

    /// The response, once there is one; always `None` for a TCP flow.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(response) = flow.response() {
    ///     println!("{}", response.status_code());
    /// }
    /// # }
    /// ```
    pub fn response(&self) -> Option<&Response> {
        self.handle
            .msg_exists(abi::MSG_RESPONSE)
            .then_some(&self.response)
    }

    /// The response, to change.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(response) = flow.response_mut() {
    ///     response.headers_mut().set("newheader", "foo");
    /// }
    /// # }
    /// ```
    pub fn response_mut(&mut self) -> Option<&mut Response> {
        self.handle
            .msg_exists(abi::MSG_RESPONSE)
            .then_some(&mut self.response)
    }

    /// Replaces any response with a new one: `status` with its standard
    /// reason, HTTP/1.1, `body`, and a Content-Length header. Set in
    /// `request_headers` or `request`, it answers the client without
    /// contacting a server.
    ///
    /// # Panics
    /// On a TCP flow, which has no request to answer ("this is a TCP
    /// flow: it has no response; check flow.tcp()").
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.respond(200, "{\"ok\":true}")
    ///     .headers_mut()
    ///     .set("content-type", "application/json");
    /// # }
    /// ```
    #[track_caller]
    pub fn respond(&mut self, status: u16, body: impl AsRef<[u8]>) -> &mut Response {
        self.respond_with(status, &[], body)
    }

    /// Answers with a response made as mitmproxy's `Response.make(status,
    /// body, headers)` makes it: the reason phrase for `status`, exactly
    /// these header fields, then the body (which sets Content-Length).
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         // mitmproxy's http-reply-from-proxy example:
    ///         if flow.request().pretty_url() == "http://example.com/path" {
    ///             flow.respond_with(200, &[("Content-Type", "text/html")], "Hello World");
    ///         }
    ///     }
    /// }
    /// ```
    pub fn respond_with(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: impl AsRef<[u8]>,
    ) -> &mut Response {
        self.expect_http("response");
        if self.handle.response_new(status).is_ok() {
            for (name, value) in headers {
                self.response.headers_mut().append(name, value);
            }
            let _ = self.response.set_content(body);
        }
        &mut self.response
    }

    /// The WebSocket, when the request was upgraded to one (a 101
    /// response). Live it is there from the `response` hook of the 101
    /// on, so that hook can tell a WebSocket follows.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(ws) = flow.websocket() {
    ///     println!("{} WebSocket messages", ws.messages_len());
    /// }
    /// # }
    /// ```
    pub fn websocket(&self) -> Option<&WebSocket> {
        (self.handle.flow_int(abi::FLOW_WEBSOCKET) == Some(1)).then_some(&self.websocket)
    }

    /// The WebSocket, to change its messages or inject new ones.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(mut message) = flow.websocket_mut().and_then(|ws| ws.last_message_mut()) {
    ///     message.drop();
    /// }
    /// # }
    /// ```
    pub fn websocket_mut(&mut self) -> Option<&mut WebSocket> {
        (self.handle.flow_int(abi::FLOW_WEBSOCKET) == Some(1)).then_some(&mut self.websocket)
    }

    /// The TCP connection's messages, when this is a TCP flow (`None` for
    /// an HTTP flow).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(tcp) = flow.tcp() {
    ///     println!("{} TCP messages", tcp.messages_len());
    /// }
    /// # }
    /// ```
    pub fn tcp(&self) -> Option<&Tcp> {
        self.is_tcp().then_some(&self.tcp)
    }

    /// The TCP connection's messages, to change them or inject new ones.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(mut message) = flow.tcp_mut().and_then(|tcp| tcp.last_message_mut()) {
    ///     let content = message.content().to_vec();
    ///     message.set_content(content.to_ascii_uppercase());
    /// }
    /// # }
    /// ```
    pub fn tcp_mut(&mut self) -> Option<&mut Tcp> {
        self.is_tcp().then_some(&mut self.tcp)
    }

    /// The error, if the flow failed (refused connection, invalid response,
    /// killed, a TCP connection that ended abnormally, …).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(error) = flow.error() {
    ///     eprintln!("{}", error.msg());
    /// }
    /// # }
    /// ```
    pub fn error(&self) -> Option<FlowError<'_>> {
        let msg = self.text(abi::FLOW_ERROR_MSG)?;
        Some(FlowError {
            msg,
            timestamp: self.handle.flow_float(abi::FLOW_ERROR_TIMESTAMP),
        })
    }

    /// Kills the flow: live, the proxy drops it and answers nothing; the
    /// flow gets the error "Connection killed.". A killed TCP flow's
    /// connection is closed and the flow ends with `tcp_error`. Refused
    /// with an error for flows that are not live, such as those read from
    /// a file.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow};
    /// fn block(ctx: &Context, flow: &mut Flow) {
    ///     if let Err(e) = flow.kill() {
    ///         ctx.warn(&e.to_string());
    ///     }
    /// }
    /// ```
    pub fn kill(&mut self) -> Result<(), Error> {
        self.handle.kill().map_err(Error::from_host)
    }

    /// Whether [`kill`](Flow::kill) would succeed.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if flow.killable() { let _ = flow.kill(); }
    /// # }
    /// ```
    pub fn killable(&self) -> bool {
        self.handle.flow_int(abi::FLOW_KILLABLE) == Some(1)
    }

    /// Whether the flow is a replay, and of what (mitmproxy's
    /// `flow.is_replay`): `Some("request")` for a request sent again
    /// (client replay, `-C`, or [`Context::replay`](crate::Context::replay)),
    /// `Some("response")` for a response served from a recording (server
    /// replay, `-S`), `None` otherwise.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn request(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         // Don't replay what is itself a replay: that would never end.
    ///         if flow.is_replay() == Some("request") {
    ///             return;
    ///         }
    ///         let _ = ctx.replay(flow);
    ///     }
    /// }
    /// ```
    pub fn is_replay(&self) -> Option<&str> {
        self.handle
            .flow_text(abi::FLOW_IS_REPLAY)
            .and_then(|t| std::str::from_utf8(t).ok())
    }

    /// Whether the flow is live traffic, as opposed to read from a file.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let offline = !flow.is_live();
    /// # }
    /// ```
    pub fn is_live(&self) -> bool {
        self.handle.flow_int(abi::FLOW_LIVE) == Some(1)
    }

    /// The user's comment on the flow (empty if none).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let note = flow.comment();
    /// # }
    /// ```
    pub fn comment(&self) -> &str {
        self.text(abi::FLOW_COMMENT).unwrap_or("")
    }

    /// Sets the comment.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.set_comment("checked by waylay");
    /// # }
    /// ```
    pub fn set_comment(&mut self, comment: &str) {
        let _ = self
            .handle
            .flow_set_text(abi::FLOW_COMMENT, comment.as_bytes());
    }

    /// The mark: empty when unmarked, else a marker such as `":default:"`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let marked = !flow.marked().is_empty();
    /// # }
    /// ```
    pub fn marked(&self) -> &str {
        self.text(abi::FLOW_MARKED).unwrap_or("")
    }

    /// Sets the mark (`""` to unmark, `":default:"` for the plain mark).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.set_marked(":default:");
    /// # }
    /// ```
    pub fn set_marked(&mut self, marker: &str) {
        let _ = self
            .handle
            .flow_set_text(abi::FLOW_MARKED, marker.as_bytes());
    }

    /// A metadata entry stored as text. Entries of other types (set by
    /// mitmproxy addons) read as `None` and are kept as they are.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let seen = flow.metadata("seen-by") == Some("waylay");
    /// # }
    /// ```
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.handle
            .metadata_get(key)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Stores a text metadata entry, replacing any of that key.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.set_metadata("seen-by", "waylay");
    /// # }
    /// ```
    pub fn set_metadata(&mut self, key: &str, value: &str) {
        let _ = self.handle.metadata_set(key, Some(value));
    }

    /// Removes a metadata entry of any type.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.remove_metadata("seen-by");
    /// # }
    /// ```
    pub fn remove_metadata(&mut self, key: &str) {
        let _ = self.handle.metadata_set(key, None);
    }

    /// When the flow was created, in seconds since the Unix epoch.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let t = flow.timestamp_created();
    /// # }
    /// ```
    pub fn timestamp_created(&self) -> Option<f64> {
        self.handle.flow_float(abi::FLOW_TIMESTAMP_CREATED)
    }

    /// The client connection the flow came in on.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let client = flow.client().and_then(|c| c.peer());
    /// # }
    /// ```
    pub fn client(&self) -> Option<&Connection> {
        self.client
            .get_or_init(|| self.handle.conn(abi::CONN_CLIENT).map(Connection::new))
            .as_ref()
    }

    /// The server connection, once there is one.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let sni = flow.server().and_then(|s| s.sni());
    /// # }
    /// ```
    pub fn server(&self) -> Option<&Connection> {
        self.server
            .get_or_init(|| self.handle.conn(abi::CONN_SERVER).map(Connection::new))
            .as_ref()
    }

    fn text(&self, field: u32) -> Option<&str> {
        self.handle
            .flow_text(field)
            .and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// What kind of flow a [`Flow`] is (mitmproxy's flow `type`).
///
/// ```
/// # use waylay_sdk::{Flow, FlowKind};
/// fn is_raw(flow: &Flow) -> bool {
///     flow.kind() == FlowKind::Tcp
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowKind {
    /// An HTTP flow, maybe upgraded to a WebSocket: it has a
    /// [`request`](Flow::request).
    Http,
    /// A raw TCP connection: its bytes are in [`Flow::tcp`].
    Tcp,
    /// A UDP flow (no hook gets these yet).
    Udp,
    /// A DNS flow (no hook gets these yet).
    Dns,
    /// A type this SDK does not know.
    Other,
}

/// Why a flow failed (the seed's Error).
///
/// ```
/// # fn f(flow: &waylay_sdk::Flow) {
/// if let Some(e) = flow.error() {
///     println!("{} at {:?}", e.msg(), e.timestamp());
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FlowError<'a> {
    msg: &'a str,
    timestamp: Option<f64>,
}

impl<'a> FlowError<'a> {
    /// The message, e.g. `"[Errno 111] Connect call failed ('127.0.0.1', 1)"`.
    ///
    /// ```
    /// # fn f(e: waylay_sdk::FlowError) {
    /// let refused = e.msg().contains("Connect call failed");
    /// # }
    /// ```
    pub fn msg(&self) -> &'a str {
        self.msg
    }

    /// When the error happened, in seconds since the Unix epoch.
    ///
    /// ```
    /// # fn f(e: waylay_sdk::FlowError) {
    /// let t = e.timestamp();
    /// # }
    /// ```
    pub fn timestamp(&self) -> Option<f64> {
        self.timestamp
    }
}
