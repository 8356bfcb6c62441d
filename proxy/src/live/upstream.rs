//! Connections to origin servers, plain or TLS, HTTP/1.1 or HTTP/2, kept
//! per client connection and reused for later requests to the same
//! `Origin`; and one way to send a request and read its response head,
//! whichever protocol the link speaks.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::body::{ChannelBody, OutBody, PumpError, Sink, Source, pump, whole};
use super::failure::{Failure, Gone, RequestError, ResponseError, Unreachable};
use super::notify::Notifier;
use super::options::Options;
use super::wire::{BoxIo, Reader, WireError};
use super::{convert, record, send};
use crate::event::Event;
use crate::flow::Flow;
use crate::h1::{self, BodyKind, Head};
use crate::http as fields;
use crate::tls::{self, Interceptor, Negotiated, TlsError};
use crate::tnetstring::{Dict, Value};

/// Where a connection goes: scheme (TLS or not), host and port.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Origin {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Origin {
    /// Where a flow's request goes.
    pub fn of(flow: &Flow) -> Origin {
        let req = flow.request().expect("an HTTP flow has a request");
        let tls = fields::raw(req, "scheme").eq_ignore_ascii_case(b"https");
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
        Origin { tls, host, port }
    }
}

/// One open HTTP/1 connection to an origin.
#[derive(Debug)]
pub struct Upstream {
    pub wire: Reader<BoxIo>,
    /// Its `server_conn` dict.
    pub conn: Value,
    /// Set when this is a connection to an upstream proxy that takes
    /// absolute-form requests (upstream mode, plain HTTP): the
    /// `Proxy-Authorization` value it wants, if any.
    pub proxied: Option<Option<String>>,
}

/// An HTTP/2 connection to an origin: streams are opened on it by any
/// number of flows at once.
#[derive(Clone, Debug)]
pub struct H2Upstream {
    pub sender: SendRequest<OutBody>,
    /// Its `server_conn` dict.
    pub conn: Value,
}

/// A connection to an origin, by the protocol the server chose.
#[derive(Debug)]
pub enum Link {
    H1(Upstream),
    H2(H2Upstream),
}

impl Link {
    /// Its `server_conn` dict.
    pub fn conn(&self) -> &Value {
        match self {
            Link::H1(up) => &up.conn,
            Link::H2(up) => &up.conn,
        }
    }
}

/// A client connection's idle upstream connections.
#[derive(Debug, Default)]
pub struct Pool {
    idle: HashMap<Origin, Upstream>,
    h2: HashMap<Origin, H2Upstream>,
    /// Origins whose connection failed for good (its TLS), and why.
    failed: HashMap<Origin, String>,
}

impl Pool {
    /// A pooled link to `origin`: the shared HTTP/2 one, or an idle
    /// HTTP/1 one taken out.
    pub fn take(&mut self, origin: &Origin) -> Option<Link> {
        match self.h2.get(origin) {
            Some(up) if up.sender.is_closed() => {
                self.h2.remove(origin);
            }
            Some(up) => return Some(Link::H2(up.clone())),
            None => {}
        }
        self.idle.remove(origin).map(Link::H1)
    }

    /// Says that `origin` failed for good: flows to it fail with `why`
    /// instead of reaching for it again.
    pub fn fail(&mut self, origin: Origin, why: String) {
        self.failed.insert(origin, why);
    }

    /// Why `origin` failed for good, if it did.
    pub fn failure(&self, origin: &Origin) -> Option<Failure> {
        self.failed
            .get(origin)
            .map(|why| Failure::unreachable(why.clone()))
    }

    /// Keeps a link for later flows to `origin`.
    pub fn put(&mut self, origin: Origin, link: Link) {
        match link {
            Link::H1(up) => {
                self.idle.insert(origin, up);
            }
            Link::H2(up) => {
                self.h2.insert(origin, up);
            }
        }
    }
}

/// How to speak TLS to the server.
#[derive(Debug)]
pub struct TlsTo<'a> {
    pub interceptor: &'a Interceptor,
    /// The name to send as SNI and check the certificate against.
    pub sni: Option<String>,
    pub alpn: Vec<Vec<u8>>,
}

/// Opens a connection to `origin`.
pub async fn connect(
    origin: &Origin,
    tls: Option<TlsTo<'_>>,
    options: &Options,
    notify: &Notifier,
) -> Result<Link, Failure> {
    let (stream, conn) = transport(origin, options, notify).await?;
    secure(stream, conn, origin, tls, options, notify).await
}

/// The transport half of `connect`: the stream and its `server_conn` dict.
pub async fn transport(
    origin: &Origin,
    options: &Options,
    notify: &Notifier,
) -> Result<(BoxIo, Value), Failure> {
    let (host, port) = (origin.host.as_str(), origin.port);
    let timeout = options.connect_timeout;
    let start = record::now();
    // The record `server_connect` sees, before there is a connection; its
    // id stays the connection's. Made only when a script will see it.
    let pending = [Event::ServerConnect, Event::ServerConnectError]
        .into_iter()
        .any(|e| notify.wants(e))
        .then(|| {
            let address = Value::list(vec![Value::text(host), Value::Int(i64::from(port))]);
            record::with(&record::unconnected_server(), "address", address)
        });
    if let Some(pending) = &pending {
        notify.fire(Event::ServerConnect, pending).await;
    }
    let dialed = async {
        match options.dialer.custom() {
            Some(dial) => dial.dial(host, port).await,
            None if !options.guarded.is_empty() => {
                let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
                    .await?
                    .filter(|a| !guarded(*a, &options.guarded))
                    .collect();
                if addrs.is_empty() {
                    return Err(std::io::Error::other(
                        "that is Waylay's web view, which the proxy does not forward to",
                    ));
                }
                let stream = TcpStream::connect(&addrs[..]).await?;
                let _ = stream.set_nodelay(true);
                let (peer, sock) = (stream.peer_addr()?, stream.local_addr()?);
                Ok((Box::new(stream) as BoxIo, peer, sock))
            }
            None => {
                let stream = TcpStream::connect((host, port)).await?;
                let _ = stream.set_nodelay(true);
                let (peer, sock) = (stream.peer_addr()?, stream.local_addr()?);
                Ok((Box::new(stream) as BoxIo, peer, sock))
            }
        }
    };
    let failed = match tokio::time::timeout(timeout, dialed).await {
        Ok(Ok((stream, peer, sock))) => {
            let id = pending
                .as_ref()
                .and_then(|p| p.as_dict()?.get("id"))
                .cloned();
            let conn = record::server_conn(host, port, (peer, sock), (start, record::now()), id);
            notify.fire(Event::ServerConnected, &conn).await;
            let stream = notify.watch(stream, &conn);
            return Ok((stream, conn));
        }
        Ok(Err(e)) => Unreachable {
            kind: e.kind(),
            text: format!("cannot connect to {host}:{port}: {e}"),
        },
        Err(_) => Unreachable {
            kind: std::io::ErrorKind::TimedOut,
            text: format!(
                "cannot connect to {host}:{port}: no answer in {}s",
                timeout.as_secs()
            ),
        },
    };
    if let Some(pending) = pending {
        let conn = record::with(&pending, "error", Value::text(&failed.text));
        notify.fire(Event::ServerConnectError, &conn).await;
    }
    Err(Failure::Connect(failed))
}

/// Whether `addr` reaches one of the `guarded` listeners.
fn guarded(addr: std::net::SocketAddr, guarded: &[std::net::SocketAddr]) -> bool {
    let target = record::Target {
        scheme: "http".into(),
        host: addr.ip().to_string(),
        port: addr.port(),
        path: bytes::Bytes::new(),
    };
    guarded.iter().any(|g| record::is_self(&target, *g))
}

/// An HTTP/1 connection whose bodies fail when the server stops sending
/// for the response timeout, instead of holding the flow forever.
pub fn h1(io: BoxIo, conn: Value, options: &Options) -> Link {
    let mut wire = Reader::new(io);
    wire.set_idle(options.response_timeout);
    Link::H1(Upstream {
        wire,
        conn,
        proxied: None,
    })
}

/// The rest of `connect`: TLS if asked for, then HTTP/2 if the server
/// chose it.
pub async fn secure(
    stream: BoxIo,
    mut conn: Value,
    origin: &Origin,
    tls: Option<TlsTo<'_>>,
    options: &Options,
    notify: &Notifier,
) -> Result<Link, Failure> {
    let (host, port) = (origin.host.as_str(), origin.port);
    let timeout = options.connect_timeout;
    let Some(tls) = tls else {
        return Ok(h1(stream, conn, options));
    };
    let name = tls.sni.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned()).map_err(|_| {
        Failure::Tls(TlsError::BadName {
            host: host.to_owned(),
            port,
            name: name.to_owned(),
        })
    })?;
    let connector =
        tokio_rustls::TlsConnector::from(tls.interceptor.client_config(tls.alpn.clone()));
    if let Some(d) = conn.as_dict_mut() {
        d.insert("sni", tls.sni.as_deref().map_or(Value::Null, Value::text));
        let offers = tls.alpn.iter().map(|a| Value::bytes(a)).collect();
        d.insert("alpn_offers", Value::list(offers));
    }
    notify.tls(Event::TlsStartServer, &conn).await;
    let failure = match tokio::time::timeout(timeout, connector.connect(server_name, stream)).await
    {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(TlsError::upstream(&e, host, port)),
        Err(_) => Err(TlsError::Timeout {
            host: host.to_owned(),
            port,
            secs: timeout.as_secs(),
        }),
    };
    let stream = match failure {
        Ok(stream) => stream,
        Err(e) => {
            let failed = record::with(&conn, "error", Value::text(&e.to_string()));
            notify.tls(Event::TlsFailedServer, &failed).await;
            return Err(Failure::Tls(e));
        }
    };
    let (_, state) = stream.get_ref();
    let negotiated = Negotiated::of(state, tls.sni.clone(), tls.alpn.clone());
    if let Some(d) = conn.as_dict_mut() {
        negotiated.record(d, record::now());
    }
    notify.tls(Event::TlsEstablishedServer, &conn).await;
    if negotiated.alpn.as_deref() == Some(tls::ALPN_H2) {
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .map_err(|e| {
                    Failure::unreachable(format!("HTTP/2 with {host}:{port} failed: {e}"))
                })?;
        tokio::spawn(connection);
        return Ok(Link::H2(H2Upstream { sender, conn }));
    }
    Ok(h1(Box::new(stream), conn, options))
}

/// TLS to a tunnel's server (`host:port`) for raw bytes (no ALPN): its
/// reader and its `server_conn` with the handshake recorded.
pub async fn tls_to(
    stream: BoxIo,
    conn: Value,
    (host, port): (&str, u16),
    options: &Options,
    notify: &Notifier,
) -> Result<(Reader<BoxIo>, Value), Failure> {
    let origin = Origin {
        tls: true,
        host: host.to_owned(),
        port,
    };
    let Some(interceptor) = options.tls.as_deref() else {
        return Err(Failure::Tls(TlsError::NotSetUp {
            host: origin.host,
            port: origin.port,
        }));
    };
    let to = TlsTo {
        interceptor,
        sni: sni_for(&origin.host),
        alpn: Vec::new(),
    };
    match secure(stream, conn, &origin, Some(to), options, notify).await? {
        Link::H1(up) => Ok((up.wire, up.conn)),
        Link::H2(_) => Err(Failure::unreachable(format!(
            "{}:{} chose HTTP/2 without being offered it",
            origin.host, origin.port
        ))),
    }
}

/// The SNI to send for a host: none for an IP address.
pub fn sni_for(host: &str) -> Option<String> {
    host.parse::<std::net::IpAddr>()
        .is_err()
        .then(|| host.to_owned())
}

/// ALPN offers for a connection a flow opens: h2 where allowed.
pub fn offers(allow_h2: bool) -> Vec<Vec<u8>> {
    if allow_h2 {
        vec![tls::ALPN_H2.to_vec(), tls::ALPN_H1.to_vec()]
    } else {
        vec![tls::ALPN_H1.to_vec()]
    }
}

/// A request on its way: the response head is still to come.
pub enum Sent {
    H1,
    H2(Pin<Box<dyn Future<Output = hyper::Result<http::Response<Incoming>>> + Send>>),
}

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sent::H1 => "Sent::H1",
            Sent::H2(_) => "Sent::H2",
        })
    }
}

/// A response head from either kind of link, its body still to read.
#[derive(Debug)]
pub struct Answer {
    /// The response dict, without a body yet.
    pub dict: Dict,
    pub status: u16,
    pub body: AnswerBody,
}

/// How an `Answer`'s body comes.
#[derive(Debug)]
pub enum AnswerBody {
    /// On the HTTP/1 link, framed as `kind`; `reusable` when the link can
    /// carry another request after it.
    H1 {
        kind: BodyKind,
        reusable: bool,
    },
    H2(Incoming),
}

impl Link {
    /// Sends the flow's request: its body whole from the flow, or passed
    /// through from `source` as it arrives (`length` announced when
    /// known).
    pub async fn send(
        &mut self,
        flow: &Flow,
        source: Option<&mut Source<'_>>,
    ) -> Result<Sent, Failure> {
        match self {
            Link::H1(up) => {
                let form = match &up.proxied {
                    None => send::Form::Origin,
                    Some(auth) => send::Form::Absolute {
                        auth: auth.as_deref(),
                    },
                };
                let Some(source) = source else {
                    up.wire
                        .io()
                        .write_all(&send::request(flow, form))
                        .await
                        .map_err(Failure::Send)?;
                    return Ok(Sent::H1);
                };
                let kind = match source.length() {
                    Some(n) => BodyKind::Length(n),
                    None => BodyKind::Chunked,
                };
                up.wire
                    .io()
                    .write_all(&send::request_head(flow, kind, form))
                    .await
                    .map_err(Failure::Send)?;
                pumped(
                    pump(
                        source,
                        Sink::H1 {
                            io: up.wire.io(),
                            kind,
                        },
                    )
                    .await,
                )?;
                Ok(Sent::H1)
            }
            Link::H2(up) => {
                let req = flow.request().expect("an HTTP flow has a request");
                let (body, length, sink) = match source {
                    None => {
                        let body = fields::raw_content(req).cloned().unwrap_or_default();
                        let has_body =
                            !body.is_empty() || fields::header(req, "content-length").is_some();
                        let length = has_body.then_some(body.len() as u64);
                        (whole(body), length, None)
                    }
                    Some(source) => {
                        let length = source.length();
                        let (body, sink) = ChannelBody::channel(length);
                        (body, length, Some((source, sink)))
                    }
                };
                let request = h2_request(req, body, length)?;
                up.sender.ready().await.map_err(|e| {
                    Failure::unreachable(format!("the HTTP/2 connection to the server failed: {e}"))
                })?;
                let response = up.sender.send_request(request);
                if let Some((source, sink)) = sink {
                    pumped(pump(source, sink).await)?;
                }
                Ok(Sent::H2(Box::pin(response)))
            }
        }
    }

    /// Reads the final response head to a request `send` sent.
    pub async fn answer(
        &mut self,
        sent: Sent,
        method: &[u8],
        timeout: Duration,
    ) -> Result<Answer, Failure> {
        match (self, sent) {
            (Link::H1(up), _) => {
                let (head, status) = up.response_head(timeout).await?;
                let kind = h1::response_body(method, status, &head)
                    .map_err(|e| Failure::BadResponse(ResponseError::Framing(e)))?;
                let reusable = kind != BodyKind::Close && !send::wants_close(&head);
                Ok(Answer {
                    dict: record::response(&head, status, record::now()),
                    status,
                    body: AnswerBody::H1 { kind, reusable },
                })
            }
            (Link::H2(_), Sent::H2(response)) => {
                match tokio::time::timeout(timeout, response).await {
                    Ok(Ok(response)) => {
                        let (parts, body) = response.into_parts();
                        Ok(Answer {
                            dict: convert::response_dict(&parts, record::now()),
                            status: parts.status.as_u16(),
                            body: AnswerBody::H2(body),
                        })
                    }
                    Ok(Err(e)) => Err(Failure::BadResponse(ResponseError::Stream(e))),
                    Err(_) => Err(Failure::Timeout(timeout)),
                }
            }
            (Link::H2(_), Sent::H1) => unreachable!("an HTTP/2 link sends over HTTP/2"),
        }
    }
}

fn pumped(result: Result<u64, PumpError>) -> Result<(), Failure> {
    match result {
        Ok(_) => Ok(()),
        Err(PumpError::Read(e)) => Err(Failure::ClientGone(Gone::DuringRequest(e))),
        Err(PumpError::Write(e)) => Err(Failure::Send(e)),
    }
}

/// The flow's request for an HTTP/2 server.
fn h2_request(
    req: &Dict,
    body: OutBody,
    length: Option<u64>,
) -> Result<http::Request<OutBody>, Failure> {
    let text = |key: &str| String::from_utf8_lossy(fields::raw(req, key)).into_owned();
    let authority = match fields::header(req, "host") {
        Some(host) if req.get("authority").and_then(Value::as_bytes) == Some(b"") => {
            String::from_utf8_lossy(host).into_owned()
        }
        _ => send::authority(req),
    };
    let uri = format!("{}://{authority}{}", text("scheme"), text("path"));
    let mut request = http::Request::builder()
        .method(fields::raw(req, "method"))
        .uri(&uri)
        .version(http::Version::HTTP_2)
        .body(body)
        .map_err(move |why| Failure::BadRequest(RequestError::NotHttp2 { uri, why }))?;
    *request.headers_mut() = convert::header_map(&send::end_to_end(req), length);
    Ok(request)
}

impl Upstream {
    /// Reads the final response head, skipping interim (1xx) ones other
    /// than 101.
    pub async fn response_head(&mut self, timeout: Duration) -> Result<(Head, u16), Failure> {
        loop {
            let head = match tokio::time::timeout(timeout, self.wire.head(h1::parse_response)).await
            {
                Err(_) => return Err(Failure::Timeout(timeout)),
                Ok(Err(WireError::Head(e))) => {
                    return Err(Failure::BadResponse(ResponseError::Head(e)));
                }
                Ok(Err(e)) => return Err(Failure::BadResponse(ResponseError::Read(e))),
                Ok(Ok(None)) => return Err(Failure::BadResponse(ResponseError::Closed)),
                Ok(Ok(Some(head))) => head,
            };
            let status = std::str::from_utf8(&head.second)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or(0);
            if !(100..200).contains(&status) || status == 101 {
                return Ok((head, status));
            }
        }
    }
}
