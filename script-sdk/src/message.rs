//! [`Message`], [`Request`] and [`Response`]: the two halves of an HTTP flow.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use crate::abi;
use crate::boundary::host::FlowHandle;
use crate::pairs::items;
use crate::{Error, Headers, Pairs, PairsMut, SetCookie};

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

    /// The trailers: header fields sent after the body (HTTP/2, or chunked
    /// HTTP/1.1), empty when there are none (mitmproxy's
    /// `message.trailers`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// // mitmproxy's http-trailers example:
    /// if !flow.request().trailers().is_empty() {
    ///     println!("trailers: {}", flow.request().trailers().len());
    /// }
    /// # }
    /// ```
    pub fn trailers(&self) -> &Headers {
        &self.trailers
    }

    /// The trailers, to change; the first change makes the message have
    /// some. Over HTTP/1.1 they are sent only with a chunked body (set
    /// `Transfer-Encoding: chunked` and announce them in `Trailer`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(response) = flow.response_mut() {
    ///     response.headers_mut().set("trailer", "x-checked");
    ///     response.trailers_mut().set("x-checked", "yes");
    /// }
    /// # }
    /// ```
    pub fn trailers_mut(&mut self) -> &mut Headers {
        &mut self.trailers
    }

    /// Decodes the body in place: Content-Encoding undone and the header
    /// removed (mitmproxy's `message.decode()`). `Err` when it does not
    /// decode; the message is then as it was.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.decode()?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn decode(&mut self) -> Result<(), Error> {
        self.handle
            .msg_op(self.which, abi::OP_DECODE)
            .map_err(Error::from_host)
    }

    /// Encodes the body with `coding` (`gzip`, `deflate`, `br`, `zstd`,
    /// `identity`) and sets Content-Encoding, as mitmproxy's
    /// `message.encode(coding)`: the body as it is now is taken as the
    /// decoded one. `Err` for an unknown coding (nothing changes).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.encode("gzip")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn encode(&mut self, coding: &str) -> Result<(), Error> {
        self.set_view(abi::VIEW_CONTENT_ENCODING, coding.as_bytes())
    }

    /// Replaces every match of `pattern` (a `regex` crate expression) with
    /// `replacement` (`$1`, `${name}` for groups) in the decoded body and
    /// in each header field as `name: value`, as the seed's
    /// `message.replace` did; how many replacements were made.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     let n = response.replace("(?i)colou?r", "hue")?;
    ///     println!("{n} replaced");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn replace(&mut self, pattern: &str, replacement: &str) -> Result<usize, Error> {
        self.handle
            .msg_replace(self.which, pattern, replacement.as_bytes(), 0)
            .map_err(Error::from_host)
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

    /// The body as text (mitmproxy's `message.text`): Content-Encoding
    /// undone, then decoded in the charset of the Content-Type, else the
    /// document's own declaration (`<meta charset>` for HTML, `@charset`
    /// for CSS), else UTF-8 for JSON and Latin-1 for the rest. `Ok(None)`
    /// when the body was not kept (streamed); `Err` when it does not
    /// decode, or its charset is not one Waylay knows (UTF-8, Latin-1,
    /// ASCII, cp1252).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(text) = flow.response().map(|r| r.text()).transpose()?.flatten() {
    ///     println!("{} characters", text.chars().count());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn text(&self) -> Result<Option<String>, Error> {
        Ok(self
            .view(abi::VIEW_TEXT)?
            .map(|b| String::from_utf8(b).unwrap_or_default()))
    }

    /// Sets the body from text (mitmproxy's `message.text = ...`): encoded
    /// in the message's charset (as [`text`](Message::text) finds it) and
    /// Content-Encoding applied again; when that charset lacks a character
    /// of `text`, the Content-Type gets `charset=utf-8` and the body is
    /// UTF-8.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.set_text("Bonjour, café")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn set_text(&mut self, text: &str) -> Result<(), Error> {
        self.set_view(abi::VIEW_TEXT, text.as_bytes())
    }

    /// The body as JSON text, ready for the script's own parser (the SDK
    /// has no JSON crate), decoded as mitmproxy's `message.json()` decodes
    /// it before parsing (Python's `json.loads` of the bytes): the
    /// Content-Encoding undone, then UTF-8 (a BOM dropped), or UTF-16 or
    /// UTF-32 when a BOM or the zero bytes of the first characters say so;
    /// the Content-Type's charset plays no part. `Err` when the body does
    /// not decode.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(json) = flow.request().json()? {
    ///     // serde_json::from_str::<MyType>(&json), in the script's crate
    ///     assert!(!json.is_empty());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn json(&self) -> Result<Option<String>, Error> {
        let Some(body) = self.content()? else {
            return Ok(None);
        };
        json_text(body)
            .map(Some)
            .ok_or_else(|| Error::new("the body is not UTF-8, UTF-16 or UTF-32 text".to_owned()))
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

    fn pairs(&self, view: u32) -> Pairs {
        self.message
            .view(view)
            .ok()
            .flatten()
            .map(|b| Pairs::decode(&b))
            .unwrap_or_default()
    }

    /// The query string's pairs, `+` and `%xx` decoded, order and
    /// duplicates kept (mitmproxy's `request.query`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let ids = flow.request().query().get_all("id").len();
    /// # }
    /// ```
    pub fn query(&self) -> Pairs {
        self.pairs(abi::VIEW_QUERY)
    }

    /// Replaces the query string with `pairs`, encoded as mitmproxy does;
    /// the path and fragment stay.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// let pairs = waylay_sdk::Pairs::from_iter([("q", "waylay proxy")]);
    /// flow.request_mut().set_query(&pairs); // ?q=waylay+proxy
    /// # }
    /// ```
    pub fn set_query(&mut self, pairs: &Pairs) {
        let _ = self.message.set_view(abi::VIEW_QUERY, &pairs.encode());
    }

    /// The query, changed in place (mitmproxy's
    /// `request.query["x"] = ...`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// // mitmproxy's http-modify-query-string example:
    /// flow.request_mut().query_mut().insert("mitmproxy", "rocks");
    /// # }
    /// ```
    pub fn query_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(&mut self.message.handle, abi::MSG_REQUEST, abi::VIEW_QUERY)
    }

    /// The path's segments, `%xx` decoded, empty ones left out (mitmproxy's
    /// `request.path_components`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let first = flow.request().path_components().first().cloned();
    /// # }
    /// ```
    pub fn path_components(&self) -> Vec<String> {
        let bytes = self
            .message
            .view(abi::VIEW_PATH_COMPONENTS)
            .ok()
            .flatten()
            .unwrap_or_default();
        items(&bytes)
            .into_iter()
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .collect()
    }

    /// Sets the path from segments, each quoted (`/` too); the query stays.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_path_components(["api", "v2", "items"]);
    /// # }
    /// ```
    pub fn set_path_components<S: AsRef<str>>(&mut self, components: impl IntoIterator<Item = S>) {
        let mut encoded = Vec::new();
        for c in components {
            let c = c.as_ref().as_bytes();
            encoded.extend_from_slice(&(c.len() as u32).to_le_bytes());
            encoded.extend_from_slice(c);
        }
        let _ = self.message.set_view(abi::VIEW_PATH_COMPONENTS, &encoded);
    }

    /// The cookies the request sends: every `Cookie` field's pairs, in
    /// order (mitmproxy's `request.cookies`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let session = flow.request().cookies().get("session").map(|s| s.into_owned());
    /// # }
    /// ```
    pub fn cookies(&self) -> Pairs {
        self.pairs(abi::VIEW_COOKIES)
    }

    /// Replaces the `Cookie` field with `pairs`. `Err` for a name or value
    /// that is not UTF-8.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// flow.request_mut().set_cookies(&waylay_sdk::Pairs::from_iter([("theme", "dark")]))
    /// # }
    /// ```
    pub fn set_cookies(&mut self, pairs: &Pairs) -> Result<(), Error> {
        self.message.set_view(abi::VIEW_COOKIES, &pairs.encode())
    }

    /// The cookies, changed in place.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().cookies_mut().remove("tracking");
    /// # }
    /// ```
    pub fn cookies_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(
            &mut self.message.handle,
            abi::MSG_REQUEST,
            abi::VIEW_COOKIES,
        )
    }

    /// The body's `application/x-www-form-urlencoded` pairs (none for
    /// another Content-Type), as mitmproxy's `request.urlencoded_form`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let user = flow.request().urlencoded_form().get("user").map(|u| u.into_owned());
    /// # }
    /// ```
    pub fn urlencoded_form(&self) -> Pairs {
        self.pairs(abi::VIEW_URLENCODED_FORM)
    }

    /// Replaces the body with `pairs`, urlencoded, and sets the
    /// Content-Type, as mitmproxy's setter does.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().set_urlencoded_form(&waylay_sdk::Pairs::from_iter([("a", "1")]));
    /// # }
    /// ```
    pub fn set_urlencoded_form(&mut self, pairs: &Pairs) {
        let _ = self
            .message
            .set_view(abi::VIEW_URLENCODED_FORM, &pairs.encode());
    }

    /// The urlencoded form, changed in place.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// // mitmproxy's http-modify-form example:
    /// flow.request_mut().urlencoded_form_mut().insert("mitmproxy", "rocks");
    /// # }
    /// ```
    pub fn urlencoded_form_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(
            &mut self.message.handle,
            abi::MSG_REQUEST,
            abi::VIEW_URLENCODED_FORM,
        )
    }

    /// The body's `multipart/form-data` parts as name/content pairs (none
    /// for another Content-Type), as mitmproxy's `request.multipart_form`.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// let upload = flow.request().multipart_form().get_bytes(b"file").map(<[u8]>::len);
    /// # }
    /// ```
    pub fn multipart_form(&self) -> Pairs {
        self.pairs(abi::VIEW_MULTIPART_FORM)
    }

    /// Replaces the body with `pairs` as `multipart/form-data` (the
    /// Content-Type's boundary kept, or a new one), as mitmproxy's setter
    /// does. `Err` when a part holds the boundary.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// let parts = waylay_sdk::Pairs::from_iter([("field", "value")]);
    /// flow.request_mut().set_multipart_form(&parts)
    /// # }
    /// ```
    pub fn set_multipart_form(&mut self, pairs: &Pairs) -> Result<(), Error> {
        self.message
            .set_view(abi::VIEW_MULTIPART_FORM, &pairs.encode())
    }

    /// The multipart form, changed in place.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().multipart_form_mut().remove("debug");
    /// # }
    /// ```
    pub fn multipart_form_mut(&mut self) -> PairsMut<'_> {
        PairsMut::new(
            &mut self.message.handle,
            abi::MSG_REQUEST,
            abi::VIEW_MULTIPART_FORM,
        )
    }

    /// Removes `If-Modified-Since` and `If-None-Match`, so the server
    /// answers in full (mitmproxy's `request.anticache()`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().anticache();
    /// # }
    /// ```
    pub fn anticache(&mut self) {
        self.message.op(abi::OP_ANTICACHE);
    }

    /// Asks for an uncompressed response: `Accept-Encoding: identity`
    /// (mitmproxy's `request.anticomp()`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().anticomp();
    /// # }
    /// ```
    pub fn anticomp(&mut self) {
        self.message.op(abi::OP_ANTICOMP);
    }

    /// Keeps only the encodings Waylay can undo in `Accept-Encoding`
    /// (mitmproxy's `request.constrain_encoding()`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().constrain_encoding();
    /// # }
    /// ```
    pub fn constrain_encoding(&mut self) {
        self.message.op(abi::OP_CONSTRAIN_ENCODING);
    }
}

/// JSON bytes as text, in the encoding Python's `json.detect_encoding`
/// finds; `None` when they do not decode.
fn json_text(b: &[u8]) -> Option<String> {
    let units = |size: usize, big: bool, skip: usize| -> Option<String> {
        let b = &b[skip..];
        if !b.len().is_multiple_of(size) {
            return None;
        }
        let chunks = b.chunks_exact(size);
        if size == 2 {
            let units = chunks.map(|c| {
                let c = [c[0], c[1]];
                if big {
                    u16::from_be_bytes(c)
                } else {
                    u16::from_le_bytes(c)
                }
            });
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        } else {
            chunks
                .map(|c| {
                    let c = [c[0], c[1], c[2], c[3]];
                    char::from_u32(if big {
                        u32::from_be_bytes(c)
                    } else {
                        u32::from_le_bytes(c)
                    })
                })
                .collect()
        }
    };
    match b {
        [0, 0, 0xfe, 0xff, ..] => units(4, true, 4),
        [0xff, 0xfe, 0, 0, ..] => units(4, false, 4),
        [0xfe, 0xff, ..] => units(2, true, 2),
        [0xff, 0xfe, ..] => units(2, false, 2),
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        [0, x, _, _, ..] => units(if *x == 0 { 4 } else { 2 }, true, 0),
        [_, 0, x, y, ..] => units(if *x == 0 && *y == 0 { 4 } else { 2 }, false, 0),
        [0, _] => units(2, true, 0),
        [_, 0] => units(2, false, 0),
        _ => String::from_utf8(b.to_vec()).ok(),
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
