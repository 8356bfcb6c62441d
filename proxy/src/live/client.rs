//! One client connection: requests in, one flow each, through the scripts,
//! upstream (or not), and back.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::upstream::{self, H2Upstream, Key, Link, Pool, TlsTo, Upstream};

mod streaming;
use super::wire::{BoxRead, BoxWrite, Reader, WireError};
use super::{Live, auth, record, send};
use crate::flow::Flow;
use crate::h1::{self, BodyKind, Head, HeadError};
use crate::http::Which;
use crate::script::Event;
use crate::tnetstring::Value;

/// What a hook call left the flow fit for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hooked {
    Go,
    Killed,
    /// A hook panicked: the flow fails.
    Panicked(Event),
}

impl Hooked {
    pub(super) fn from(event: Event, outcome: crate::script::Outcome) -> Hooked {
        if outcome.killed {
            Hooked::Killed
        } else if outcome.panics > 0 {
            Hooked::Panicked(event)
        } else {
            Hooked::Go
        }
    }
}

pub(super) fn panicked(event: Event) -> String {
    format!("a script's `{}` hook panicked", event.hook_name())
}

/// How forwarding a request ended, short of an error.
enum Forwarded {
    Answered,
    Killed,
    /// The response head is in; its body is to be streamed to the client.
    Streaming(Upstream, BodyKind, Key, bool),
}

/// What happens to the client connection after a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
    /// A CONNECT was accepted: the connection becomes a tunnel.
    Tunnel,
}

/// Where requests in a CONNECT tunnel go, unless they say otherwise.
#[derive(Clone, Debug)]
pub(super) struct Tunnel {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Tunnel {
    pub(super) fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

/// An HTTP/1 client connection, plain or inside a tunnel.
pub(super) struct Client {
    pub live: Arc<Live>,
    /// The proxy's own address on this connection.
    pub sock: SocketAddr,
    pub reader: Reader<BoxRead>,
    pub writer: BoxWrite,
    pub conn: Value,
    pub pool: Pool,
    pub tunnel: Option<Tunnel>,
    /// The CONNECT request this connection turned into a tunnel with, and
    /// its target.
    pub connect: Option<(Head, String, u16)>,
}

/// Serves one client connection to its end.
pub async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    sock: SocketAddr,
    live: Arc<Live>,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let conn = record::client_conn(peer, sock, record::now());
    live.conn_event(Event::ClientConnect, &conn).await;
    let (read, writer) = stream.into_split();
    let mut client = Client::new(live.clone(), sock, Box::new(read), Box::new(writer), conn);
    client.serve(&mut closing).await;
    let conn = match client.connect.take() {
        // Boxed: an idle plain connection's task stays small; a tunnel's
        // TLS and HTTP/2 state is only allocated once there is a tunnel.
        Some(connect) => Box::pin(super::tunnel::run(client, connect, &mut closing)).await,
        None => {
            let _ = client.writer.shutdown().await;
            client.conn
        }
    };
    let conn = record::with(&conn, "timestamp_end", Value::Float(record::now()));
    live.conn_event(Event::ClientDisconnect, &conn).await;
}

pub(super) fn wants_close(head: &Head) -> bool {
    let tokens = h1::connection_tokens(
        head.headers_named("connection")
            .chain(head.headers_named("proxy-connection")),
    );
    let has = |t: &[u8]| tokens.iter().any(|x| x.eq_ignore_ascii_case(t));
    has(b"close") || (&head.third[..] == b"HTTP/1.0" && !has(b"keep-alive"))
}

impl Client {
    pub(super) fn new(
        live: Arc<Live>,
        sock: SocketAddr,
        read: BoxRead,
        writer: BoxWrite,
        conn: Value,
    ) -> Client {
        // A client that stops sending mid-body fails its flow.
        let mut reader = Reader::new(read);
        reader.set_idle(live.options.header_timeout);
        Client {
            live,
            sock,
            reader,
            writer,
            conn,
            pool: Pool::default(),
            tunnel: None,
            connect: None,
        }
    }

    /// Serves requests until the connection ends, closes, shuts down or
    /// becomes a tunnel (then `connect` is set).
    pub(super) async fn serve(&mut self, closing: &mut watch::Receiver<bool>) {
        loop {
            // Between requests, a shutdown ends the connection.
            let limit = self.live.options.header_timeout;
            let head = if self.reader.has_buffered() {
                self.reader.head_within(h1::parse_request, limit).await
            } else {
                tokio::select! {
                    head = self.reader.head_within(h1::parse_request, limit) => head,
                    _ = closing.wait_for(|c| *c) => break,
                }
            };
            let next = match head {
                Ok(None) => break,
                // Boxed: what a request needs is allocated while it runs;
                // an idle connection's task holds only the head reader.
                Ok(Some(head)) => Box::pin(self.request(head)).await,
                Err(e) => {
                    self.refuse_head(&e).await;
                    Next::Close
                }
            };
            if next != Next::KeepAlive || *closing.borrow() {
                break;
            }
        }
    }

    /// Answers a request the proxy will not serve; the connection closes.
    async fn refuse(&mut self, status: u16, what: &str) -> Next {
        let _ = self
            .reply(&send::simple(status, &[], &format!("waylay: {what}\n")))
            .await;
        Next::Close
    }

    async fn reply(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).await.is_ok()
    }

    /// A request the proxy cannot even turn into a flow.
    async fn refuse_head(&mut self, e: &WireError) {
        let (status, what) = match e {
            WireError::Head(HeadError::TooLarge) => {
                (431, "request header fields too large".to_owned())
            }
            WireError::Head(HeadError::TooManyHeaders) => (431, e.to_string()),
            WireError::HeadTimeout(_) => (408, e.to_string()),
            WireError::Head(_) => (400, e.to_string()),
            // The client went away or broke the connection: nobody to tell.
            _ => return,
        };
        let peer = self.peer();
        self.live.scripts().log().log(
            "proxy",
            crate::script::Level::Warn,
            &format!("{peer}: {what}; answered {status}"),
        );
        let _ = self
            .reply(&send::simple(status, &[], &format!("waylay: {what}\n")))
            .await;
    }

    fn peer(&self) -> String {
        self.conn
            .as_dict()
            .and_then(|c| crate::summary::addr(Some(c), "peername"))
            .unwrap_or_else(|| "-".into())
    }

    /// One request, start to finish.
    async fn request(&mut self, head: Head) -> Next {
        let start = record::now();
        // Inside a tunnel the CONNECT was the request that authenticated.
        if let Some(expected) = &self.live.expected_auth
            && self.tunnel.is_none()
            && !auth::matches(expected, head.header("proxy-authorization"))
        {
            let header = [("proxy-authenticate", "Basic realm=\"waylay\"")];
            let _ = self
                .reply(&send::simple(
                    407,
                    &header,
                    "waylay: proxy authentication required\n",
                ))
                .await;
            return Next::Close;
        }
        if head.first.eq_ignore_ascii_case(b"CONNECT") {
            return self.accept_connect(head).await;
        }
        let parsed = match (&self.tunnel, head.second.first()) {
            // Origin form inside a tunnel: the tunnel says where.
            (Some(t), Some(b'/')) => Ok(record::Target {
                scheme: t.scheme().to_owned(),
                host: t.host.clone(),
                port: t.port,
                path: head.second.clone(),
            }),
            _ => record::parse_target(&head.second),
        };
        let target = match parsed {
            Ok(target) => target,
            Err(e) => {
                return self.refuse(400, &e).await;
            }
        };
        if record::is_self(&target, self.sock) {
            return self.refuse_loop(&target.host, target.port).await;
        }
        let body_kind = match h1::request_body(&head) {
            Ok(kind) => kind,
            Err(e) => {
                return self.refuse(400, &e).await;
            }
        };
        let close_after = wants_close(&head);
        let mut flow = record::flow(
            self.conn.clone(),
            record::request(&head, &target, start),
            start,
        );
        match self.hook(Event::RequestHeaders, &mut flow).await {
            Hooked::Go => {}
            Hooked::Killed => return self.killed(&flow),
            Hooked::Panicked(e) => return self.fail(flow, &panicked(e), Next::Close, true).await,
        }
        self.live.track(&flow);
        let expect_continue = head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
        let large = matches!(body_kind, BodyKind::Length(n) if self.live.options.stream_large_bodies.is_some_and(|t| n > t));
        if body_kind != BodyKind::None && (flow.streaming(Which::Request) || large) {
            let next = if close_after {
                Next::Close
            } else {
                Next::KeepAlive
            };
            return self
                .stream_request(flow, body_kind, expect_continue, next)
                .await;
        }
        if expect_continue && body_kind != BodyKind::None {
            let _ = self.reply(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        }
        match self
            .reader
            .body(body_kind, self.live.options.body_size_limit)
            .await
        {
            Ok((body, trailers)) => {
                let req = flow.message_mut(Which::Request).expect("just built");
                record::finish_message(req, Some(body), &trailers, record::now());
            }
            Err(e) => {
                let status = if matches!(e, WireError::TooLarge(_)) {
                    413
                } else {
                    400
                };
                let what = format!("reading the request body failed: {e}");
                let _ = self
                    .reply(&send::simple(status, &[], &format!("waylay: {what}\n")))
                    .await;
                return self.fail(flow, &what, Next::Close, false).await;
            }
        }
        match self.hook(Event::Request, &mut flow).await {
            Hooked::Go => {}
            Hooked::Killed => return self.killed(&flow),
            Hooked::Panicked(e) => return self.fail(flow, &panicked(e), Next::Close, true).await,
        }
        let next = if close_after {
            Next::Close
        } else {
            Next::KeepAlive
        };
        if flow.response().is_some() {
            // Answered by a script: no server. mitmproxy fires both
            // response hooks here too.
            return self.respond(flow, next, true).await;
        }
        self.live.track(&flow);
        let forwarded = self.forward(&mut flow).await;
        self.after_forward(flow, forwarded, next).await
    }

    /// A request whose target is the proxy itself: 508, not a loop.
    async fn refuse_loop(&mut self, host: &str, port: u16) -> Next {
        let what = format!("{host}:{port} is this proxy; forwarding the request would loop");
        self.live.scripts().log().log(
            "proxy",
            crate::script::Level::Warn,
            &format!("{}: {what}; answered 508", self.peer()),
        );
        let _ = self
            .reply(&send::simple(508, &[], &format!("waylay: {what}\n")))
            .await;
        Next::Close
    }

    /// CONNECT: checked here, answered by the tunnel.
    async fn accept_connect(&mut self, head: Head) -> Next {
        if self.tunnel.is_some() {
            return self
                .refuse(400, "CONNECT inside a CONNECT tunnel is not supported")
                .await;
        }
        let (host, port) = match record::parse_authority(&head.second) {
            Ok(target) => target,
            Err(e) => {
                return self.refuse(400, &e).await;
            }
        };
        let target = record::Target {
            scheme: "https".into(),
            host,
            port,
            path: bytes::Bytes::new(),
        };
        if record::is_self(&target, self.sock) {
            return self.refuse_loop(&target.host, target.port).await;
        }
        self.connect = Some((head, target.host, target.port));
        Next::Tunnel
    }

    /// Sends the flow's request upstream and reads the response into it,
    /// firing `server_connect` and `response_headers` on the way.
    async fn forward(&mut self, flow: &mut Flow) -> Result<Forwarded, String> {
        let key = key_of(flow);
        if let Some(h2) = self.pool.h2(&key) {
            return Box::pin(self.forward_h2(flow, h2)).await;
        }
        let bytes = send::request(flow);
        let options = self.live.options.clone();
        // A pooled connection the server has since closed fails at once;
        // then one fresh connection is tried.
        if let Some(mut pooled) = self.pool.take(&key)
            && let Ok((head, status)) = Self::exchange(&mut pooled, &bytes, &options).await
        {
            return self.receive(flow, pooled, head, status, key).await;
        }
        match dial(&self.live, flow, &key, true).await? {
            Link::H1(mut fresh) => {
                let (head, status) = Self::exchange(&mut fresh, &bytes, &options).await?;
                self.receive(flow, fresh, head, status, key).await
            }
            Link::H2(h2) => {
                self.pool.put_h2(key, h2.clone());
                Box::pin(self.forward_h2(flow, h2)).await
            }
        }
    }

    /// The flow over an HTTP/2 server connection: translated, and kept
    /// whole (HTTP/2 bodies are not streamed).
    async fn forward_h2(&mut self, flow: &mut Flow, h2: H2Upstream) -> Result<Forwarded, String> {
        match super::h2::exchange(&self.live, h2, flow).await? {
            Hooked::Go => Ok(Forwarded::Answered),
            Hooked::Killed => Ok(Forwarded::Killed),
            Hooked::Panicked(e) => Err(panicked(e)),
        }
    }

    /// The response half: its head into the flow, `response_headers`, then
    /// the body kept (or, when streaming, left for the caller to pass on).
    async fn receive(
        &mut self,
        flow: &mut Flow,
        mut upstream: Upstream,
        head: Head,
        status: u16,
        key: Key,
    ) -> Result<Forwarded, String> {
        let options = self.live.options.clone();
        let method = flow
            .request()
            .and_then(|r| r.get("method"))
            .and_then(Value::as_bytes)
            .unwrap_or_default()
            .to_vec();
        flow.dict_mut().insert("server_conn", upstream.conn.clone());
        let kind = h1::response_body(&method, status, &head)
            .map_err(|e| format!("invalid response from the server: {e}"))?;
        flow.dict_mut().insert(
            "response",
            Value::Dict(record::response(&head, status, record::now()).into()),
        );
        match self.hook(Event::ResponseHeaders, flow).await {
            Hooked::Go => {}
            Hooked::Killed => return Ok(Forwarded::Killed),
            Hooked::Panicked(e) => return Err(panicked(e)),
        }
        let large = |n: Option<u64>| {
            options
                .stream_large_bodies
                .is_some_and(|t| n.is_none_or(|n| n > t))
        };
        let stream = flow.streaming(Which::Response)
            || match kind {
                BodyKind::Length(n) => large(Some(n)),
                BodyKind::Close => large(None),
                BodyKind::None | BodyKind::Chunked => false,
            };
        let reusable = kind != BodyKind::Close && !wants_close(&head);
        if stream && kind != BodyKind::None {
            return Ok(Forwarded::Streaming(upstream, kind, key, reusable));
        }
        let (body, trailers) = upstream
            .reader
            .body(kind, options.body_size_limit)
            .await
            .map_err(|e| match e {
                WireError::TooLarge(_) => format!("the response {e}"),
                e => format!("reading the response body failed: {e}"),
            })?;
        let resp = flow.message_mut(Which::Response).expect("set above");
        record::finish_message(resp, Some(body), &trailers, record::now());
        if reusable {
            self.pool.put(key, upstream);
        }
        Ok(Forwarded::Answered)
    }

    async fn after_forward(
        &mut self,
        flow: Flow,
        forwarded: Result<Forwarded, String>,
        next: Next,
    ) -> Next {
        match forwarded {
            Ok(Forwarded::Answered) => self.respond(flow, next, false).await,
            Ok(Forwarded::Killed) => self.killed(&flow),
            Ok(Forwarded::Streaming(upstream, kind, key, reusable)) => {
                self.stream_response(flow, upstream, kind, key, reusable, next)
                    .await
            }
            Err(e) => self.fail(flow, &e, next, true).await,
        }
    }

    /// Writes the request and reads the final response head.
    async fn exchange(
        upstream: &mut Upstream,
        bytes: &[u8],
        options: &super::Options,
    ) -> Result<(Head, u16), String> {
        upstream
            .send(bytes)
            .await
            .map_err(|e| format!("sending the request failed: {e}"))?;
        upstream.response_head(options.response_timeout).await
    }

    /// The flow has its response: `response` hooks, then the client.
    async fn respond(&mut self, mut flow: Flow, next: Next, emulate_headers: bool) -> Next {
        let events: &[Event] = if emulate_headers {
            &[Event::ResponseHeaders, Event::Response]
        } else {
            &[Event::Response]
        };
        for &event in events {
            match self.hook(event, &mut flow).await {
                Hooked::Go => {}
                Hooked::Killed => return self.killed(&flow),
                Hooked::Panicked(e) => {
                    return self.fail(flow, &panicked(e), Next::Close, true).await;
                }
            }
        }
        let bytes = send::response(&flow, next == Next::Close);
        let sent = self.reply(&bytes).await;
        if !sent {
            flow.set_error(
                "the client went away before the response was sent",
                record::now(),
            );
            self.live.flow_event(Event::Error, &mut flow).await;
        }
        self.live.finish(&flow);
        if sent { next } else { Next::Close }
    }

    /// The flow failed: record the error, fire `error`, tell the client
    /// with a 502 if it is still waiting.
    async fn fail(&mut self, mut flow: Flow, what: &str, next: Next, answer: bool) -> Next {
        flow.set_error(what, record::now());
        let outcome = self.live.flow_event(Event::Error, &mut flow).await;
        self.live.finish(&flow);
        if answer && !outcome.killed {
            // The proxy's own responses close the connection.
            let _ = self
                .reply(&send::simple(502, &[], &format!("waylay: {what}\n")))
                .await;
            return Next::Close;
        }
        if outcome.killed { Next::Close } else { next }
    }

    async fn hook(&self, event: Event, flow: &mut Flow) -> Hooked {
        hook(&self.live, event, flow).await
    }

    /// A script killed the flow: no answer, the connection closes.
    fn killed(&self, flow: &Flow) -> Next {
        self.live.finish(flow);
        Next::Close
    }
}

/// Where a flow's request goes.
pub(super) fn key_of(flow: &Flow) -> Key {
    let req = flow.request().expect("an HTTP flow has a request");
    let tls = req
        .get("scheme")
        .and_then(Value::as_bytes)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"https"));
    let host = req
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let port = req
        .get("port")
        .and_then(Value::as_int)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(if tls { 443 } else { 80 });
    Key { tls, host, port }
}

/// Opens a connection to `key` for `flow`, TLS with the proxy's trust
/// settings where the key says so (offering h2 only when `allow_h2`),
/// records it as the flow's `server_conn` and fires `server_connect`.
pub(super) async fn dial(
    live: &Arc<Live>,
    flow: &mut Flow,
    key: &Key,
    allow_h2: bool,
) -> Result<Link, String> {
    let tls = if key.tls {
        let Some(interceptor) = live.options.tls.as_deref() else {
            return Err(format!(
                "cannot reach https://{}:{}: this proxy has no TLS set up",
                key.host, key.port
            ));
        };
        Some(TlsTo {
            interceptor,
            sni: upstream::sni_for(&key.host),
            alpn: upstream::offers(allow_h2),
        })
    } else {
        None
    };
    // Boxed: a TLS handshake's state is large, and would otherwise be
    // reserved in every client connection's task, idle or not.
    let link = Box::pin(upstream::connect(key, tls, &live.options)).await?;
    flow.dict_mut().insert("server_conn", link.conn().clone());
    live.conn_event(Event::ServerConnect, link.conn()).await;
    Ok(link)
}

/// Runs a flow event on every script and says what it left the flow fit
/// for.
pub(super) async fn hook(live: &Arc<Live>, event: Event, flow: &mut Flow) -> Hooked {
    Hooked::from(event, live.flow_event(event, flow).await)
}
