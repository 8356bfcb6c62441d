//! [`Flow`]: one HTTP transaction (the seed's HTTPFlow), maybe upgraded to a
//! WebSocket, and [`FlowError`].

use std::cell::OnceCell;

use crate::abi;
use crate::boundary::host::FlowHandle;
use crate::{Connection, Error, Request, Response, WebSocket};

/// One HTTP transaction: a request, maybe a response, maybe an error, the
/// connections it used, and the user's annotations.
///
/// Hooks get `&mut Flow`; what they change is what the server or client
/// sees live, and what `-w` saves.
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
            client: OnceCell::new(),
            server: OnceCell::new(),
        }
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

    /// The request; every HTTP flow has one.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// println!("{} {}", flow.request().method(), flow.request().url());
    /// # }
    /// ```
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The request, to change.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().headers_mut().remove("cookie");
    /// # }
    /// ```
    pub fn request_mut(&mut self) -> &mut Request {
        &mut self.request
    }

    /// The response, once there is one.
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
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.respond(200, "{\"ok\":true}")
    ///     .headers_mut()
    ///     .set("content-type", "application/json");
    /// # }
    /// ```
    pub fn respond(&mut self, status: u16, body: impl AsRef<[u8]>) -> &mut Response {
        if self.handle.response_new(status).is_ok() {
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

    /// The error, if the flow failed (refused connection, invalid response,
    /// killed, …).
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
    /// flow gets the error "Connection killed.". Refused with an error for
    /// flows that are not live, such as those read from a file.
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
