//! How an origin is reached: directly, or, in upstream mode, through the
//! upstream proxy: a CONNECT to it for tunnels and TLS origins (Waylay
//! still intercepts inside), absolute-form requests for plain HTTP, with
//! `upstream_auth` as Proxy-Authorization. The connection's `server_conn`
//! names the origin as its `address` and the proxy as its `via`, as
//! mitmproxy records it.

use tokio::io::AsyncWriteExt;

use super::auth;
use super::detect::Prefixed;
use super::failure::Failure;
use super::mode::{Kind, Server};
use super::notify::Notifier;
use super::options::Options;
use super::record;
use super::upstream::{self, Link, Origin, TlsTo};
use super::wire::{BoxIo, Reader, WireError};
use crate::event::Event;
use crate::h1;
use crate::tls;
use crate::tnetstring::Value;

/// The upstream proxy of a listener's mode, if it has one.
pub fn proxy_of(kind: &Kind) -> Option<&Server> {
    match kind {
        Kind::Upstream(server) => Some(server),
        _ => None,
    }
}

/// A connection for flows to `origin`, TLS where `tls` says.
pub async fn connect(
    origin: &Origin,
    tls: Option<TlsTo<'_>>,
    options: &Options,
    via: Option<&Server>,
    notify: &Notifier,
) -> Result<Link, Failure> {
    let Some(proxy) = via else {
        return upstream::connect(origin, tls, options, notify).await;
    };
    if origin.tls {
        let (stream, conn) = through(proxy, origin, options, notify).await?;
        return upstream::secure(stream, conn, origin, tls, options, notify).await;
    }
    let (stream, conn) = to_proxy(proxy, origin, options, notify).await?;
    let mut link = upstream::h1(stream, conn, options);
    if let Link::H1(up) = &mut link {
        up.proxied = Some(options.upstream_auth.as_deref().map(auth::expected));
    }
    Ok(link)
}

/// A tunnel's transport to `host:port`: a TCP connection, or one through
/// the upstream proxy's CONNECT.
pub async fn reach(
    host: &str,
    port: u16,
    options: &Options,
    via: Option<&Server>,
    notify: &Notifier,
) -> Result<(BoxIo, Value), Failure> {
    let origin = Origin {
        tls: false,
        host: host.to_owned(),
        port,
    };
    match via {
        Some(proxy) => through(proxy, &origin, options, notify).await,
        None => upstream::transport(&origin, options, notify).await,
    }
}

/// A connection to the upstream proxy itself (TLS to it for https://),
/// recorded as the connection to `origin` via the proxy.
async fn to_proxy(
    proxy: &Server,
    origin: &Origin,
    options: &Options,
    notify: &Notifier,
) -> Result<(BoxIo, Value), Failure> {
    let at = Origin {
        tls: proxy.scheme.tls(),
        host: proxy.host.clone(),
        port: proxy.port,
    };
    let (stream, mut conn) = upstream::transport(&at, options, notify).await?;
    if let Some(d) = conn.as_dict_mut() {
        let address = |host: &str, port: u16| {
            Value::list(vec![Value::text(host), Value::Int(i64::from(port))])
        };
        d.insert("address", address(&origin.host, origin.port));
        let scheme = if proxy.scheme.tls() { "https" } else { "http" };
        d.insert(
            "via",
            Value::list(vec![Value::text(scheme), address(&proxy.host, proxy.port)]),
        );
    }
    if !proxy.scheme.tls() {
        return Ok((stream, conn));
    }
    let Some(interceptor) = options.tls.as_deref() else {
        return Err(Failure::Tls(tls::TlsError::NotSetUp {
            host: proxy.host.clone(),
            port: proxy.port,
        }));
    };
    let to = TlsTo {
        interceptor,
        sni: upstream::sni_for(&proxy.host),
        alpn: vec![tls::ALPN_H1.to_vec()],
    };
    match upstream::secure(stream, conn, &at, Some(to), options, notify).await? {
        Link::H1(up) => {
            let (io, buffered) = up.wire.into_parts();
            Ok((
                Box::new(Prefixed {
                    prefix: buffered,
                    inner: io,
                }),
                up.conn,
            ))
        }
        Link::H2(_) => Err(Failure::unreachable(format!(
            "the upstream proxy {}:{} chose HTTP/2 without being offered it",
            proxy.host, proxy.port
        ))),
    }
}

/// A tunnel to `origin` through the upstream proxy's CONNECT; what the
/// proxy sends after its answer is kept for the tunnel.
async fn through(
    proxy: &Server,
    origin: &Origin,
    options: &Options,
    notify: &Notifier,
) -> Result<(BoxIo, Value), Failure> {
    let (stream, conn) = to_proxy(proxy, origin, options, notify).await?;
    let target = if origin.host.contains(':') {
        format!("[{}]:{}", origin.host, origin.port)
    } else {
        format!("{}:{}", origin.host, origin.port)
    };
    let mut headers = vec![(b"Host".to_vec(), target.clone().into_bytes())];
    if let Some(user_pass) = &options.upstream_auth {
        let auth = auth::expected(user_pass).into_bytes();
        headers.push((b"Proxy-Authorization".to_vec(), auth));
    }
    let headers = match notify.wants(Event::HttpConnectUpstream) {
        true => connect_upstream(notify, &conn, &target, origin, headers).await,
        false => headers,
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\n").into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(&name);
        request.extend_from_slice(b": ");
        request.extend_from_slice(&value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let mut wire = Reader::new(stream);
    let at = format!("the upstream proxy {}:{}", proxy.host, proxy.port);
    wire.io()
        .write_all(&request)
        .await
        .map_err(|e| Failure::unreachable(format!("cannot send CONNECT {target} to {at}: {e}")))?;
    let head = tokio::time::timeout(options.connect_timeout, wire.head(h1::parse_response))
        .await
        .map_err(|_| {
            Failure::unreachable(format!(
                "{at} did not answer CONNECT {target} in {}s",
                options.connect_timeout.as_secs()
            ))
        })?;
    let head = match head {
        Ok(Some(head)) => head,
        Ok(None) => {
            return Err(Failure::unreachable(format!(
                "{at} closed the connection instead of answering CONNECT {target}"
            )));
        }
        Err(WireError::Head(e)) => {
            return Err(Failure::unreachable(format!(
                "{at} answered CONNECT {target} with something that is not HTTP: {e}"
            )));
        }
        Err(e) => return Err(Failure::unreachable(format!("{at}: {e}"))),
    };
    if !head.second.starts_with(b"2") {
        return Err(Failure::unreachable(format!(
            "{at} refused CONNECT {target}: {} {}{}",
            String::from_utf8_lossy(&head.second),
            String::from_utf8_lossy(&head.third),
            if &head.second[..] == b"407" {
                "; set upstream_auth=USER:PASS"
            } else {
                ""
            }
        )));
    }
    let (io, buffered) = wire.into_parts();
    Ok((
        Box::new(Prefixed {
            prefix: buffered,
            inner: io,
        }),
        conn,
    ))
}

/// `http_connect_upstream`: the CONNECT about to go to the upstream proxy,
/// as a flow whose request header fields a script may change; the fields
/// to send.
async fn connect_upstream(
    notify: &Notifier,
    server_conn: &Value,
    target: &str,
    origin: &Origin,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let head = h1::Head {
        first: bytes::Bytes::from_static(b"CONNECT"),
        second: bytes::Bytes::from(target.to_owned()),
        third: bytes::Bytes::from_static(b"HTTP/1.1"),
        headers: headers
            .iter()
            .map(|(n, v)| (bytes::Bytes::from(n.clone()), bytes::Bytes::from(v.clone())))
            .collect(),
    };
    let client = notify.client().clone();
    let mut flow = record::connect_flow(client, &head, &origin.host, origin.port);
    flow.dict_mut().insert("server_conn", server_conn.clone());
    let flow = notify.flow(Event::HttpConnectUpstream, flow).await;
    match flow.request() {
        Some(request) => crate::http::fields(request)
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect(),
        None => headers,
    }
}
