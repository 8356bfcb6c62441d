//! TLS interception: the client's hello read, the server's TLS made with
//! the same name and ALPN offers (unless the server is plain, in reverse
//! mode), a leaf for the name, then the decrypted stream handed on: to
//! HTTP/2 when that was agreed, else to `tunnel::inside`, which tells
//! HTTP/1 from TCP.

use std::time::Duration;

use tokio_rustls::LazyConfigAcceptor;

use super::detect::Prefixed;
use super::handoff::{Handoff, Tunnel};
use super::mode::Kind;
use super::state::Session;
use super::upstream::{self, Link, Origin, Pool, TlsTo};
use super::wire::{BoxIo, Reader};
use crate::script::Level;
use crate::tls::{self, Negotiated};
use crate::tnetstring::Value;

/// How long a client gets to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Intercepts the tunnel; the session's connection dict gets the TLS
/// fields of the client's handshake.
pub async fn run(
    s: &mut Session,
    client: Reader<BoxIo>,
    server: BoxIo,
    server_conn: Value,
    tunnel: Tunnel,
) -> Handoff {
    let Some(interceptor) = s.live.options.tls.clone() else {
        return Handoff::Close(client);
    };
    let where_ = format!("{}:{}", tunnel.host, tunnel.port);
    let log = |s: &Session, what: &str| {
        s.live
            .scripts()
            .log()
            .log("proxy", Level::Warn, &format!("{where_}: {what}"))
    };
    let (io, prefix) = client.into_parts();
    let client = Prefixed { prefix, inner: io };
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), client);
    let start = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor).await {
        Ok(Ok(start)) => start,
        Ok(Err(e)) => {
            log(s, &format!("the client's TLS hello is invalid: {e}"));
            return Handoff::Done;
        }
        Err(_) => {
            log(s, "the client sent no TLS hello in time");
            return Handoff::Done;
        }
    };
    let hello = start.client_hello();
    let sni = hello.server_name().map(str::to_owned);
    let offers: Vec<Vec<u8>> = hello
        .alpn()
        .map(|it| it.map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let ours: Vec<Vec<u8>> = offers
        .iter()
        .filter(|a| a.as_slice() == tls::ALPN_H2 || a.as_slice() == tls::ALPN_H1)
        .cloned()
        .collect();
    let origin = Origin {
        tls: tunnel.tls,
        host: tunnel.host.clone(),
        port: tunnel.port,
    };
    let to = TlsTo {
        interceptor: &interceptor,
        // A reverse proxy's server is named by the mode, not by the name
        // the client asked the proxy for.
        sni: if tunnel.reverse {
            upstream::sni_for(&tunnel.host)
        } else {
            sni.clone().or_else(|| upstream::sni_for(&tunnel.host))
        },
        alpn: ours.clone(),
    };
    // A reverse proxy to a plain server decrypts the client's side only.
    let to = tunnel.tls.then_some(to);
    let link = upstream::secure(server, server_conn, &origin, to, &s.live.options).await;
    // ALPN follows a TLS server: the client gets what the server chose. With
    // no TLS server to follow (a plain one, or one that failed: its flows
    // get its error, or a server-replay answer), the client gets its own
    // first choice, as mitmproxy's `alpn_select_callback`: h2 and h1
    // translate into each other.
    let client_alpn = match &link {
        Ok(Link::H2(_)) => vec![tls::ALPN_H2.to_vec()],
        Ok(Link::H1(up)) if tunnel.tls => match up
            .conn
            .as_dict()
            .and_then(|d| d.get("alpn"))
            .and_then(Value::as_bytes)
        {
            Some(b"http/1.1") => vec![tls::ALPN_H1.to_vec()],
            _ => Vec::new(),
        },
        Ok(Link::H1(_)) | Err(_) => ours.clone(),
    };
    let name = sni.as_deref().unwrap_or(&tunnel.host);
    let leaf = match interceptor.leaves().get(name) {
        Ok(leaf) => leaf,
        Err(e) => {
            log(s, &e.to_string());
            return Handoff::Done;
        }
    };
    let config = interceptor.server_config(leaf, client_alpn);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, start.into_stream(config)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            log(
                s,
                &format!(
                    "the TLS handshake with the client failed: {e}; does the client trust the waylay CA?"
                ),
            );
            return Handoff::Done;
        }
        Err(_) => {
            log(s, "the client did not finish its TLS handshake in time");
            return Handoff::Done;
        }
    };
    let (_, state) = stream.get_ref();
    let negotiated = Negotiated::of(state, sni, offers);
    if let Some(d) = s.conn.as_dict_mut() {
        negotiated.record(d, super::record::now());
    }
    let mut pool = Pool::default();
    match link {
        Ok(link) => pool.put(origin, link),
        // Each flow retries the server and fails with the reason.
        Err(e) => log(s, &e.to_string()),
    }
    if negotiated.alpn.as_deref() == Some(tls::ALPN_H2) && !forced_tcp(s, &tunnel) {
        return Handoff::Http2 {
            client: Box::new(stream),
            tunnel,
            pool,
        };
    }
    let tcp = forced_tcp(s, &tunnel);
    Handoff::Inside {
        client: Reader::new(Box::new(stream)),
        tunnel,
        pool,
        tcp,
    }
}

/// Whether the decrypted bytes are a TCP flow whatever they look like:
/// `tcp_hosts`, or a reverse proxy to a `tls://` or `tcp://` server.
fn forced_tcp(s: &Session, tunnel: &Tunnel) -> bool {
    let address = format!("{}:{}", tunnel.host, tunnel.port);
    s.live
        .options
        .tcp_hosts
        .iter()
        .any(|r| r.is_match(&address))
        || matches!(&s.mode.kind, Kind::Reverse(server) if !server.scheme.http())
}
