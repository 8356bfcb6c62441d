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
use super::state::Options;
use super::upstream::{self, Link, Origin, TlsTo};
use super::wire::{BoxIo, Reader, WireError};
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
) -> Result<Link, Failure> {
    let Some(proxy) = via else {
        return upstream::connect(origin, tls, options).await;
    };
    if origin.tls {
        let (stream, conn) = through(proxy, origin, options).await?;
        return upstream::secure(stream, conn, origin, tls, options).await;
    }
    let (stream, conn) = to_proxy(proxy, origin, options).await?;
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
) -> Result<(BoxIo, Value), Failure> {
    let origin = Origin {
        tls: false,
        host: host.to_owned(),
        port,
    };
    match via {
        Some(proxy) => through(proxy, &origin, options).await,
        None => upstream::transport(&origin, options).await,
    }
}

/// A connection to the upstream proxy itself (TLS to it for https://),
/// recorded as the connection to `origin` via the proxy.
async fn to_proxy(
    proxy: &Server,
    origin: &Origin,
    options: &Options,
) -> Result<(BoxIo, Value), Failure> {
    let at = Origin {
        tls: proxy.scheme.tls(),
        host: proxy.host.clone(),
        port: proxy.port,
    };
    let (stream, mut conn) = upstream::transport(&at, options).await?;
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
    match upstream::secure(stream, conn, &at, Some(to), options).await? {
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
        Link::H2(_) => Err(Failure::Connect(format!(
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
) -> Result<(BoxIo, Value), Failure> {
    let (stream, conn) = to_proxy(proxy, origin, options).await?;
    let target = if origin.host.contains(':') {
        format!("[{}]:{}", origin.host, origin.port)
    } else {
        format!("{}:{}", origin.host, origin.port)
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(user_pass) = &options.upstream_auth {
        request += &format!("Proxy-Authorization: {}\r\n", auth::expected(user_pass));
    }
    request += "\r\n";
    let mut wire = Reader::new(stream);
    let at = format!("the upstream proxy {}:{}", proxy.host, proxy.port);
    wire.io()
        .write_all(request.as_bytes())
        .await
        .map_err(|e| Failure::Connect(format!("cannot send CONNECT {target} to {at}: {e}")))?;
    let head = tokio::time::timeout(options.connect_timeout, wire.head(h1::parse_response))
        .await
        .map_err(|_| {
            Failure::Connect(format!(
                "{at} did not answer CONNECT {target} in {}s",
                options.connect_timeout.as_secs()
            ))
        })?;
    let head = match head {
        Ok(Some(head)) => head,
        Ok(None) => {
            return Err(Failure::Connect(format!(
                "{at} closed the connection instead of answering CONNECT {target}"
            )));
        }
        Err(WireError::Head(e)) => {
            return Err(Failure::Connect(format!(
                "{at} answered CONNECT {target} with something that is not HTTP: {e}"
            )));
        }
        Err(e) => return Err(Failure::Connect(format!("{at}: {e}"))),
    };
    if !head.second.starts_with(b"2") {
        return Err(Failure::Connect(format!(
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
