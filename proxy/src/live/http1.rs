//! HTTP/1 from the client: requests read off the connection (plain, or in
//! a tunnel), each run through the exchange; CONNECT and protocol
//! switches handed back to the driver.

use std::sync::Mutex;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::body::{Sink, Source};
use super::exchange::{self, Downstream, Ending};
use super::failure::{Failure, RequestError};
use super::handoff::{Handoff, Tunnel};
use super::state::Session;
use super::upstream::{Pool, Upstream};
use super::wire::{BoxIo, Reader};
use super::{auth, record, send};
use crate::flow::Flow;
use crate::h1::{self, BodyKind, Head};
use crate::script::Level;

/// The client's side of one HTTP/1 exchange.
struct H1Down<'a> {
    client: &'a mut Reader<BoxIo>,
    /// The request body's framing, until it is read.
    kind: BodyKind,
    /// The response went out close-delimited, or said the connection
    /// ends: it must.
    must_close: bool,
    /// An HTTP/1.0 client, which cannot read chunks.
    http10: bool,
}

impl Downstream for H1Down<'_> {
    fn body_length(&self) -> Option<u64> {
        match self.kind {
            BodyKind::None => Some(0),
            BodyKind::Length(n) => Some(n),
            BodyKind::Chunked | BodyKind::Close => None,
        }
    }

    fn body(&mut self) -> Source<'_> {
        let kind = std::mem::replace(&mut self.kind, BodyKind::None);
        Source::h1(self.client, kind)
    }

    async fn go_ahead(&mut self) {
        let _ = self
            .client
            .io()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await;
    }

    async fn respond(&mut self, flow: &Flow) -> bool {
        let (bytes, close) = send::response(flow, self.http10);
        self.must_close |= close;
        self.client.io().write_all(&bytes).await.is_ok()
    }

    async fn respond_head(&mut self, flow: &Flow, length: Option<u64>) -> Option<Sink<'_>> {
        let (kind, closes) = send::stream_framing(flow, length, self.http10);
        self.must_close |= closes;
        let head = send::response_head(flow, kind);
        self.client.io().write_all(&head).await.ok()?;
        Some(Sink::H1 {
            io: self.client.io(),
            kind,
        })
    }

    async fn refuse(&mut self, failure: &Failure) {
        refuse_quietly(self.client, failure).await;
    }

    fn kill(&mut self) {}
}

/// What a request left the connection to do.
enum Next {
    KeepAlive,
    Close,
    /// A CONNECT to `host:port` was accepted.
    Connect {
        head: Head,
        host: String,
        port: u16,
    },
    /// The server switched protocols.
    Upgrade {
        flow: Box<Flow>,
        server: Upstream,
    },
}

/// Serves requests until the connection ends, closes, shuts down, or
/// becomes something else.
pub async fn serve(
    s: &Session,
    mut client: Reader<BoxIo>,
    tunnel: Option<Tunnel>,
    pool: Pool,
    closing: &mut watch::Receiver<bool>,
) -> Handoff {
    let pool = Mutex::new(pool);
    loop {
        // Between requests, a shutdown ends the connection.
        let limit = s.live.options.header_timeout;
        let head = if client.has_buffered() {
            client.head_within(h1::parse_request, limit).await
        } else {
            tokio::select! {
                head = client.head_within(h1::parse_request, limit) => head,
                _ = closing.wait_for(|c| *c) => break,
            }
        };
        let next = match head {
            Ok(None) => break,
            // Boxed: what a request needs is allocated while it runs; an
            // idle connection's task holds only the head reader.
            Ok(Some(head)) => Box::pin(request(s, &mut client, tunnel.as_ref(), &pool, head)).await,
            Err(e) => {
                refuse(s, &mut client, &Failure::Head(e)).await;
                Next::Close
            }
        };
        match next {
            Next::KeepAlive if !*closing.borrow() => client.release_idle(),
            Next::KeepAlive | Next::Close => break,
            Next::Connect { head, host, port } => {
                return Handoff::Connect {
                    client,
                    head,
                    host,
                    port,
                };
            }
            Next::Upgrade { flow, server } => {
                return Handoff::Upgrade {
                    flow,
                    client,
                    server,
                };
            }
        }
    }
    Handoff::Close(client)
}

/// Answers a request the proxy will not serve, with the failure's status,
/// and logs why.
async fn refuse(s: &Session, client: &mut Reader<BoxIo>, failure: &Failure) {
    let Some(status) = failure.status() else {
        // The client went away or broke the connection: nobody to tell.
        return;
    };
    s.log(Level::Warn, &format!("{failure}; answered {status}"));
    refuse_quietly(client, failure).await;
}

/// One request, start to finish.
async fn request(
    s: &Session,
    client: &mut Reader<BoxIo>,
    tunnel: Option<&Tunnel>,
    pool: &Mutex<Pool>,
    head: Head,
) -> Next {
    let start = record::now();
    let reverse = tunnel.filter(|t| t.reverse);
    // Inside a tunnel the CONNECT was the request that authenticated; a
    // reverse proxy asks with Authorization, as a server does (mitmproxy).
    let mut consumed = None;
    if let Some(expected) = &s.live.expected_auth
        && (tunnel.is_none() || reverse.is_some())
    {
        let (field, status, ask) = if reverse.is_some() {
            ("authorization", 401, "www-authenticate")
        } else {
            ("proxy-authorization", 407, "proxy-authenticate")
        };
        if !auth::matches(expected, head.header(field)) {
            let header = [(ask, "Basic realm=\"waylay\"")];
            let text = "waylay: proxy authentication required\n";
            let _ = client
                .io()
                .write_all(&send::simple(status, &header, text))
                .await;
            return Next::Close;
        }
        // The credentials were for the proxy: not recorded, not sent on
        // (mitmproxy's proxyauth removes them too).
        consumed = Some(field);
    }
    if head.first.eq_ignore_ascii_case(b"CONNECT") {
        return connect(s, client, tunnel, head).await;
    }
    let parsed = match (tunnel, head.second.first()) {
        // Origin form inside a tunnel: the tunnel says where.
        (Some(t), Some(b'/')) => Ok(record::Target {
            scheme: t.scheme().to_owned(),
            host: t.host.clone(),
            port: t.port,
            path: head.second.clone(),
        }),
        // A reverse proxy sends everything to its server.
        (Some(t), _) if t.reverse => {
            record::parse_target(&head.second).map(|asked| record::Target {
                scheme: t.scheme().to_owned(),
                host: t.host.clone(),
                port: t.port,
                path: asked.path,
            })
        }
        _ => record::parse_target(&head.second),
    };
    let target = match parsed {
        Ok(target) => target,
        Err(e) => {
            refuse_quietly(client, &Failure::BadTarget(e)).await;
            return Next::Close;
        }
    };
    if record::is_self(&target, s.mode.bound.unwrap_or(s.sock)) {
        let looped = Failure::Loop {
            host: target.host,
            port: target.port,
        };
        refuse(s, client, &looped).await;
        return Next::Close;
    }
    let kind = match h1::request_body(&head) {
        Ok(kind) => kind,
        Err(e) => {
            refuse_quietly(client, &Failure::BadRequest(RequestError::Framing(e))).await;
            return Next::Close;
        }
    };
    let expect_continue = head
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let close = send::wants_close(&head);
    let mut request = record::request(&head, &target, start);
    if let Some(field) = consumed {
        crate::http::remove_header(&mut request, field.as_bytes());
    }
    // The proxy answers `100-continue` itself; as in mitmproxy, the field
    // leaves the request.
    if expect_continue {
        crate::http::remove_header(&mut request, b"expect");
    }
    if reverse.is_some() && !s.live.options.keep_host_header {
        record::set_host_header(&mut request, &target);
    }
    let flow = record::flow(s.conn.clone(), s.unconnected(), request, start);
    let mut down = H1Down {
        client,
        kind,
        must_close: false,
        http10: &head.third[..] == b"HTTP/1.0",
    };
    match exchange::run(s, pool, &mut down, flow, expect_continue).await {
        Ending::Done if close || down.must_close => Next::Close,
        Ending::Done => Next::KeepAlive,
        Ending::Close => Next::Close,
        Ending::Upgrade(flow, server) => Next::Upgrade { flow, server },
    }
}

/// Answers without logging: the client's own mistake.
async fn refuse_quietly(client: &mut Reader<BoxIo>, failure: &Failure) {
    if let Some((status, text)) = failure.page() {
        let _ = client
            .io()
            .write_all(&send::simple(status, &[], &text))
            .await;
    }
}

/// CONNECT: checked here, opened by the tunnel layer.
async fn connect(
    s: &Session,
    client: &mut Reader<BoxIo>,
    tunnel: Option<&Tunnel>,
    head: Head,
) -> Next {
    if tunnel.is_some() {
        let nested = Failure::BadRequest(RequestError::NestedConnect);
        refuse_quietly(client, &nested).await;
        return Next::Close;
    }
    let (host, port) = match record::parse_authority(&head.second) {
        Ok(target) => target,
        Err(e) => {
            refuse_quietly(client, &Failure::BadTarget(e)).await;
            return Next::Close;
        }
    };
    let target = record::Target {
        scheme: "https".into(),
        host,
        port,
        path: bytes::Bytes::new(),
    };
    if record::is_self(&target, s.mode.bound.unwrap_or(s.sock)) {
        let looped = Failure::Loop {
            host: target.host,
            port: target.port,
        };
        refuse(s, client, &looped).await;
        return Next::Close;
    }
    Next::Connect {
        head,
        host: target.host,
        port: target.port,
    }
}
