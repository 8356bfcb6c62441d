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
use crate::script::{Event, Level};
use crate::tls::{self, Negotiated};
use crate::tnetstring::Value;

/// How long a client gets to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Intercepts the tunnel; the session's connection dict gets the TLS
/// fields of the client's handshake.
pub async fn run(
    s: &mut Session,
    mut client: Reader<BoxIo>,
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
    let (sni, offers) = match tokio::time::timeout(HANDSHAKE_TIMEOUT, hello(&mut client)).await {
        Ok(Ok(hello)) => hello,
        Ok(Err(e)) => {
            let why = format!("the client's TLS hello is invalid: {e}");
            log(s, &why);
            let conn = super::record::with(&s.conn, "error", Value::text(&why));
            s.notify
                .tls_with(Event::TlsFailedClient, &conn, Some(&server_conn))
                .await;
            return Handoff::Done;
        }
        Err(_) => {
            log(s, "the client sent no TLS hello in time");
            return Handoff::Done;
        }
    };
    if let Some(d) = s.conn.as_dict_mut() {
        d.insert("sni", sni.as_deref().map_or(Value::Null, Value::text));
        let listed = offers.iter().map(|a| Value::bytes(a)).collect();
        d.insert("alpn_offers", Value::list(listed));
    }
    if !s.live.scripts().is_empty() {
        s.notify.set_client(s.conn.clone());
    }
    if s.live.client_hello(&s.conn, &server_conn).await {
        return Handoff::Pipe {
            client,
            server: Reader::new(server),
        };
    }
    let (io, prefix) = client.into_parts();
    let client = Prefixed { prefix, inner: io };
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), client);
    // The hello was read whole above: this only parses it again.
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
    let mut pool = Pool::default();
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
    let server_record = server_conn.clone();
    let link = upstream::secure(server, server_conn, &origin, to, &s.live.options, &s.notify).await;
    let server_record = match &link {
        Ok(link) => link.conn().clone(),
        Err(_) => server_record,
    };
    if let Err(e) = &link {
        // Each flow fails with the reason, as mitmproxy's do, rather than
        // try the server again.
        pool.fail(origin.clone(), e.to_string());
    }
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
    let server = Some(&server_record);
    s.notify
        .tls_with(Event::TlsStartClient, &s.conn, server)
        .await;
    let failed = match tokio::time::timeout(HANDSHAKE_TIMEOUT, start.into_stream(config)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(format!(
            "the TLS handshake with the client failed: {e}; does the client trust the waylay CA?"
        )),
        Err(_) => Err("the client did not finish its TLS handshake in time".to_owned()),
    };
    let stream = match failed {
        Ok(stream) => stream,
        Err(why) => {
            log(s, &why);
            let conn = super::record::with(&s.conn, "error", Value::text(&why));
            s.notify
                .tls_with(Event::TlsFailedClient, &conn, server)
                .await;
            return Handoff::Done;
        }
    };
    let (_, state) = stream.get_ref();
    let negotiated = Negotiated::of(state, sni, offers);
    if let Some(d) = s.conn.as_dict_mut() {
        negotiated.record(d, super::record::now());
    }
    s.notify
        .tls_with(Event::TlsEstablishedClient, &s.conn, server)
        .await;
    match link {
        Ok(link) => pool.put(origin, link),
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

/// Reads until the client's whole ClientHello is buffered, leaving it
/// there (for interception to read again, or a pass-through to forward),
/// and returns its server name and ALPN offers.
async fn hello(client: &mut Reader<BoxIo>) -> Result<(Option<String>, Vec<Vec<u8>>), String> {
    // One acceptor, fed each byte once, asked after each feed: it keeps
    // only what it has not yet joined into the hello, so a large hello
    // (or one followed by early data) fits.
    let mut acceptor = rustls::server::Acceptor::default();
    let mut fed = 0;
    loop {
        if fed < client.buffered().len() {
            let mut bytes: &[u8] = &client.buffered()[fed..];
            let before = bytes.len();
            if let Err(e) = acceptor.read_tls(&mut bytes) {
                return Err(e.to_string());
            }
            fed += before - bytes.len();
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => {
                let hello = accepted.client_hello();
                let sni = hello.server_name().map(str::to_owned);
                let offers = hello
                    .alpn()
                    .map(|it| it.map(<[u8]>::to_vec).collect())
                    .unwrap_or_default();
                return Ok((sni, offers));
            }
            Ok(None) => {}
            Err((e, _)) => return Err(e.to_string()),
        }
        if fed < client.buffered().len() {
            continue;
        }
        match client.read_more().await {
            Ok(0) => return Err("the client closed the connection mid-hello".to_owned()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}
