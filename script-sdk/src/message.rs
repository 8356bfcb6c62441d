//! [`Message`], [`Request`] and [`Response`]: the two halves of an HTTP flow.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use crate::abi;
use crate::boundary::host::FlowHandle;
use crate::{Error, Headers, SetCookie};

mod body;
mod views;

/// What requests and responses share: version, headers, body, timestamps.
/// [`Request`] and [`Response`] dereference to it.
///
/// ```
/// # use waylay_sdk::Flow;
/// fn size(flow: &Flow) -> usize {
///     flow.request().raw_content().map_or(0, <[u8]>::len)
/// }
/// ```
#[derive(Debug)]
pub struct Message {
    handle: FlowHandle,
    which: u32,
    headers: Headers,
    trailers: Headers,
}

impl Message {
    fn new(handle: FlowHandle, which: u32) -> Message {
        let trailers = match which {
            abi::MSG_REQUEST => abi::MSG_REQUEST_TRAILERS,
            _ => abi::MSG_RESPONSE_TRAILERS,
        };
        Message {
            handle,
            which,
            headers: Headers::new(handle, which),
            trailers: Headers::new(handle, trailers),
        }
    }

    fn field_text(&self, field: u32) -> &str {
        self.handle
            .msg_bytes(self.which, field)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    fn lossy(&self, field: u32) -> Cow<'_, str> {
        String::from_utf8_lossy(self.handle.msg_bytes(self.which, field).unwrap_or_default())
    }

    fn set(&mut self, field: u32, value: &[u8]) -> Result<(), Error> {
        self.handle
            .msg_set_bytes(self.which, field, value)
            .map_err(Error::from_host)
    }

    fn view(&self, view: u32) -> Result<Option<Vec<u8>>, Error> {
        self.handle
            .msg_view(self.which, view)
            .map_err(Error::from_host)
    }

    fn view_text(&self, view: u32) -> Option<String> {
        self.view(view)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn set_view(&mut self, view: u32, value: &[u8]) -> Result<(), Error> {
        self.handle
            .msg_set_view(self.which, view, value)
            .map_err(Error::from_host)
    }

    fn op(&mut self, op: u32) {
        // The ops apply to the message kind each method is on.
        let _ = self.handle.msg_op(self.which, op);
    }

    /// The HTTP version, e.g. `"HTTP/1.1"` or `"HTTP/2.0"`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let h2 = flow.request().http_version() == "HTTP/2.0";
    /// # }
    /// ```
    pub fn http_version(&self) -> &str {
        self.field_text(abi::FIELD_HTTP_VERSION)
    }

    /// Sets the HTTP version.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_http_version("HTTP/1.0");
    /// # }
    /// ```
    pub fn set_http_version(&mut self, version: &str) {
        let _ = self.set(abi::FIELD_HTTP_VERSION, version.as_bytes());
    }

    /// The header fields.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let agent = flow.request().headers().get("user-agent");
    /// # }
    /// ```
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The header fields, to change.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().headers_mut().set("dnt", "1");
    /// # }
    /// ```
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The body as sent, still content-encoded (gzip etc.), without chunked
    /// framing. `None` when the body was streamed and not kept, or has not
    /// been read yet (live, in the `*_headers` hooks).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(body) = flow.request().raw_content() {
    ///     println!("{} bytes on the wire", body.len());
    /// }
    /// # }
    /// ```
    pub fn raw_content(&self) -> Option<&[u8]> {
        self.handle.msg_bytes(self.which, abi::FIELD_CONTENT)
    }

    /// Replaces the body as sent, leaving the headers alone: the bytes must
    /// already be encoded as Content-Encoding says.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_raw_content(b"{}");
    /// # }
    /// ```
    pub fn set_raw_content(&mut self, body: impl AsRef<[u8]>) {
        let _ = self.set(abi::FIELD_CONTENT, body.as_ref());
    }

    /// The body decoded per Content-Encoding (gzip, deflate, br, zstd,
    /// identity; several in order). `Ok(None)` when there is no body kept;
    /// an error when the encoding is unknown or the data corrupt.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response() {
    ///     if let Some(body) = response.content()? {
    ///         println!("{}", String::from_utf8_lossy(body));
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn content(&self) -> Result<Option<&[u8]>, Error> {
        self.handle
            .msg_decoded(self.which)
            .map_err(Error::from_host)
    }

    /// Sets the body from decoded bytes: encodes them per Content-Encoding
    /// and updates Content-Length when the message has one.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.set_content(b"replaced")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn set_content(&mut self, body: impl AsRef<[u8]>) -> Result<(), Error> {
        self.handle
            .msg_set_decoded(self.which, body.as_ref())
            .map_err(Error::from_host)
    }

    /// Whether the body will be streamed: passed on as it arrives and not
    /// kept, so the `request`/`response` hook sees no body. Live only.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let streamed = flow.response().is_some_and(|r| r.stream());
    /// # }
    /// ```
    pub fn stream(&self) -> bool {
        self.handle.msg_int(self.which, abi::FIELD_STREAM) == Some(1)
    }

    /// Chooses streaming for this message's body; takes effect when set
    /// in `request_headers` (for the request) or `response_headers` (for
    /// the response), mitmproxy's `flow.response.stream = True`. Offline it
    /// changes nothing.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow};
    /// fn response_headers(_ctx: &Context, flow: &mut Flow) {
    ///     if let Some(response) = flow.response_mut() {
    ///         if response.headers().get("content-type") == Some("video/mp4") {
    ///             response.set_stream(true);
    ///         }
    ///     }
    /// }
    /// ```
    pub fn set_stream(&mut self, stream: bool) {
        let _ = self
            .handle
            .msg_set_int(self.which, abi::FIELD_STREAM, i64::from(stream));
    }

    /// When the first byte of the message was read, in seconds since the
    /// Unix epoch.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let t = flow.request().timestamp_start();
    /// # }
    /// ```
    pub fn timestamp_start(&self) -> Option<f64> {
        self.handle
            .msg_float(self.which, abi::FIELD_TIMESTAMP_START)
    }

    /// When the last byte of the message was read.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let t = flow.request().timestamp_end();
    /// # }
    /// ```
    pub fn timestamp_end(&self) -> Option<f64> {
        self.handle.msg_float(self.which, abi::FIELD_TIMESTAMP_END)
    }
}

/// An HTTP request. Dereferences to [`Message`] for headers and body.
///
/// ```
/// # fn f(flow: &mut waylay_sdk::Flow) {
/// let request = flow.request_mut();
/// if request.host() == "example.com" {
///     request.set_host("127.0.0.1");
///     request.set_port(8000);
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Request {
    message: Message,
}

impl Request {
    pub(crate) fn new(handle: FlowHandle) -> Request {
        Request {
            message: Message::new(handle, abi::MSG_REQUEST),
        }
    }

    /// The method, e.g. `"GET"`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let is_post = flow.request().method() == "POST";
    /// # }
    /// ```
    pub fn method(&self) -> &str {
        self.field_text(abi::FIELD_METHOD)
    }

    /// Sets the method.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_method("HEAD");
    /// # }
    /// ```
    pub fn set_method(&mut self, method: &str) {
        let _ = self.message.set(abi::FIELD_METHOD, method.as_bytes());
    }

    /// The scheme: `"http"` or `"https"`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let secure = flow.request().scheme() == "https";
    /// # }
    /// ```
    pub fn scheme(&self) -> &str {
        self.field_text(abi::FIELD_SCHEME)
    }

    /// Sets the scheme.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_scheme("https");
    /// # }
    /// ```
    pub fn set_scheme(&mut self, scheme: &str) {
        let _ = self.message.set(abi::FIELD_SCHEME, scheme.as_bytes());
    }

    /// The target host the proxy connects to.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let local = flow.request().host() == "127.0.0.1";
    /// # }
    /// ```
    pub fn host(&self) -> &str {
        self.field_text(abi::FIELD_HOST)
    }

    /// Sets the target host. A Host header (and an HTTP/2 authority)
    /// follows: `host[:port]`, as mitmproxy's `request.host = ...` does.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_host("127.0.0.1");
    /// # }
    /// ```
    pub fn set_host(&mut self, host: &str) {
        let _ = self.message.set(abi::FIELD_HOST, host.as_bytes());
    }

    /// The target port.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let port: u16 = flow.request().port();
    /// # }
    /// ```
    pub fn port(&self) -> u16 {
        let port = self
            .handle
            .msg_int(abi::MSG_REQUEST, abi::FIELD_PORT)
            .unwrap_or(0);
        u16::try_from(port).unwrap_or(0)
    }

    /// Sets the target port. A Host header (and an HTTP/2 authority)
    /// follows, as mitmproxy's `request.port = ...` does.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_port(8443);
    /// # }
    /// ```
    pub fn set_port(&mut self, port: u16) {
        let _ = self
            .message
            .handle
            .msg_set_int(abi::MSG_REQUEST, abi::FIELD_PORT, i64::from(port));
    }

    /// The authority of an authority-form request (`CONNECT host:port`),
    /// else empty.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let tunnel = !flow.request().authority().is_empty();
    /// # }
    /// ```
    pub fn authority(&self) -> &str {
        self.field_text(abi::FIELD_AUTHORITY)
    }

    /// The path with the query, e.g. `"/hello?x=1"`, read as UTF-8 (bytes
    /// that are not become U+FFFD; see [`path_bytes`](Request::path_bytes)).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let api = flow.request().path().starts_with("/api/");
    /// # }
    /// ```
    pub fn path(&self) -> Cow<'_, str> {
        self.lossy(abi::FIELD_PATH)
    }

    /// The path with the query, as sent.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let raw: &[u8] = flow.request().path_bytes();
    /// # }
    /// ```
    pub fn path_bytes(&self) -> &[u8] {
        self.handle
            .msg_bytes(abi::MSG_REQUEST, abi::FIELD_PATH)
            .unwrap_or_default()
    }

    /// Sets the path (with the query).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_path("/v2/items?page=1");
    /// # }
    /// ```
    pub fn set_path(&mut self, path: impl AsRef<[u8]>) {
        let _ = self.message.set(abi::FIELD_PATH, path.as_ref());
    }

    /// The URL: scheme, host, port unless it is the scheme's default, and
    /// path, as mitmproxy's `request.url` gives it.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// println!("{}", flow.request().url());
    /// # }
    /// ```
    pub fn url(&self) -> String {
        self.message.view_text(abi::VIEW_URL).unwrap_or_default()
    }

    /// Sets scheme, host, port and path at once from a URL, as mitmproxy's
    /// `request.url = ...` does (the Host header follows the new host
    /// where mitmproxy's setter changes it). `Err` for what is not an
    /// absolute http(s) URL.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// // mitmproxy's http-redirect-requests example:
    /// if flow.request().pretty_host() == "example.org" {
    ///     flow.request_mut().set_url("https://mitmproxy.org/")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn set_url(&mut self, url: &str) -> Result<(), Error> {
        self.message.set_view(abi::VIEW_URL, url.as_bytes())
    }

    /// The host the client meant: the Host header's (`:authority`'s) host
    /// when there is one, else the host connected to (mitmproxy's
    /// `request.pretty_host`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let blocked = flow.request().pretty_host().ends_with(".ads.example");
    /// # }
    /// ```
    pub fn pretty_host(&self) -> String {
        self.message
            .view_text(abi::VIEW_PRETTY_HOST)
            .unwrap_or_default()
    }

    /// The URL with [`pretty_host`](Request::pretty_host) (mitmproxy's
    /// `request.pretty_url`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// println!("{}", flow.request().pretty_url());
    /// # }
    /// ```
    pub fn pretty_url(&self) -> String {
        self.message
            .view_text(abi::VIEW_PRETTY_URL)
            .unwrap_or_default()
    }

    /// The Host header (`:authority` for HTTP/2), if any (mitmproxy's
    /// `request.host_header`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let sent_host = flow.request().host_header().is_some();
    /// # }
    /// ```
    pub fn host_header(&self) -> Option<String> {
        self.message.view_text(abi::VIEW_HOST_HEADER)
    }
}

/// An HTTP response. Dereferences to [`Message`] for headers and body.
///
/// ```
/// # fn f(flow: &mut waylay_sdk::Flow) {
/// if let Some(response) = flow.response_mut() {
///     if response.status_code() == 404 {
///         response.set_status_code(200);
///         response.set_reason("OK");
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Response {
    message: Message,
}

impl Response {
    pub(crate) fn new(handle: FlowHandle) -> Response {
        Response {
            message: Message::new(handle, abi::MSG_RESPONSE),
        }
    }

    /// The status code.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let ok = flow.response().is_some_and(|r| r.status_code() < 400);
    /// # }
    /// ```
    pub fn status_code(&self) -> u16 {
        let code = self
            .handle
            .msg_int(abi::MSG_RESPONSE, abi::FIELD_STATUS_CODE)
            .unwrap_or(0);
        u16::try_from(code).unwrap_or(0)
    }

    /// Sets the status code; the reason phrase is left as it is.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(r) = flow.response_mut() { r.set_status_code(503); }
    /// # }
    /// ```
    pub fn set_status_code(&mut self, code: u16) {
        let _ = self.message.handle.msg_set_int(
            abi::MSG_RESPONSE,
            abi::FIELD_STATUS_CODE,
            i64::from(code),
        );
    }

    /// The reason phrase, e.g. `"OK"`, read as UTF-8.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(r) = flow.response() { println!("{}", r.reason()); }
    /// # }
    /// ```
    pub fn reason(&self) -> Cow<'_, str> {
        self.lossy(abi::FIELD_REASON)
    }

    /// Sets the reason phrase.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(r) = flow.response_mut() { r.set_reason("Teapot"); }
    /// # }
    /// ```
    pub fn set_reason(&mut self, reason: &str) {
        let _ = self.message.set(abi::FIELD_REASON, reason.as_bytes());
    }

    /// The cookies the response sets: every `Set-Cookie` field's, in
    /// order, duplicates kept (mitmproxy's `response.cookies`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// if let Some(r) = flow.response() {
    ///     let names: Vec<String> = r.cookies().into_iter().map(|c| c.name).collect();
    /// }
    /// # }
    /// ```
    pub fn cookies(&self) -> Vec<SetCookie> {
        self.message
            .view(abi::VIEW_SET_COOKIES)
            .ok()
            .flatten()
            .map(|b| SetCookie::decode_all(&b))
            .unwrap_or_default()
    }

    /// Replaces the `Set-Cookie` fields with `cookies`, one field each, as
    /// mitmproxy's setter writes them.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(r) = flow.response_mut() {
    ///     let mut cookies = r.cookies();
    ///     for c in &mut cookies {
    ///         c.attrs.retain(|(name, _)| !name.eq_ignore_ascii_case("secure"));
    ///     }
    ///     r.set_cookies(&cookies)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn set_cookies(&mut self, cookies: &[SetCookie]) -> Result<(), Error> {
        self.message
            .set_view(abi::VIEW_SET_COOKIES, &SetCookie::encode_all(cookies))
    }

    /// Moves the response's dates to now, as mitmproxy does for a replayed
    /// response (`response.refresh()`): `Date`, `Expires` and
    /// `Last-Modified` shift by the time since the response was received,
    /// and so do the Set-Cookie expiry dates.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(r) = flow.response_mut() { r.refresh(); }
    /// # }
    /// ```
    pub fn refresh(&mut self) {
        self.message.op(abi::OP_REFRESH);
    }
}

impl Deref for Request {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.message
    }
}

impl DerefMut for Request {
    fn deref_mut(&mut self) -> &mut Message {
        &mut self.message
    }
}

impl Deref for Response {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.message
    }
}

impl DerefMut for Response {
    fn deref_mut(&mut self) -> &mut Message {
        &mut self.message
    }
}
