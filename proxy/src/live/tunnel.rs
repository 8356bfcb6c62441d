//! Tunnels, however they were asked for (CONNECT, SOCKS5, a transparent
//! redirect): the server reached first, then, by the client's first
//! bytes, TLS interception, HTTP/1 inside the tunnel, or a TCP flow;
//! ignored hosts pass through as a pipe. After interception, the
//! decrypted bytes are told apart the same way (`inside`).

use tokio::io::AsyncWriteExt;

use super::failure::Failure;
use super::handoff::{Handoff, Tunnel};
use super::state::{Live, Session};
use super::upstream::{self, Link, Origin, Pool};
use super::wire::{BoxIo, Reader};
use super::{detect, record, send, via};
use crate::flow::Flow;
use crate::h1::Head;
use crate::http as fields;
use crate::script::{Event, Level};
use crate::tnetstring::Value;

/// Whether a tunnel to `host:port` passes through untouched.
fn passes_through(live: &Live, host: &str, port: u16) -> bool {
    let options = &live.options;
    if options.tls.is_none() {
        return true;
    }
    let address = format!("{host}:{port}");
    if !options.allow_hosts.is_empty() {
        return !options.allow_hosts.iter().any(|r| r.is_match(&address));
    }
    options.ignore_hosts.iter().any(|r| r.is_match(&address))
}

/// Whether a tunnel to `host:port` carries TCP flows (`tcp_hosts`).
fn forced_tcp(live: &Live, host: &str, port: u16) -> bool {
    let address = format!("{host}:{port}");
    live.options.tcp_hosts.iter().any(|r| r.is_match(&address))
}

/// A CONNECT: `http_connect` (a script may answer or redirect it), the
/// server reached (through the upstream proxy in upstream mode), then
/// `http_connected` and the 2xx, or `http_connect_error` and the refusal:
/// mitmproxy 11's order.
pub async fn connect(
    s: &Session,
    mut client: Reader<BoxIo>,
    head: Head,
    host: String,
    port: u16,
) -> Handoff {
    let mut flow = record::connect_flow(s.conn.clone(), &head, &host, port);
    let outcome = s.live.flow_event(Event::HttpConnect, &mut flow).await;
    if outcome.killed {
        return Handoff::Close(client);
    }
    if outcome.panics > 0 {
        let failure = Failure::Panicked(Event::HttpConnect);
        return refuse(s, client, flow, failure).await;
    }
    // A script may point the tunnel elsewhere.
    let (host, port) = match flow.request() {
        Some(r) => (
            String::from_utf8_lossy(fields::raw(r, "host")).into_owned(),
            r.get("port")
                .and_then(Value::as_int)
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(port),
        ),
        None => (host, port),
    };
    let answered = flow
        .response()
        .map(|r| r.get("status_code").and_then(Value::as_int).unwrap_or(0));
    if let Some(status) = answered.filter(|status| !(200..300).contains(status)) {
        s.log(
            Level::Info,
            &format!("CONNECT {host}:{port} refused by a script: {status}"),
        );
        let _ = s.live.flow_event(Event::HttpConnectError, &mut flow).await;
        answer(&mut client, &flow).await;
        return Handoff::Close(client);
    }
    let via = via::proxy_of(&s.mode.kind);
    let (server, server_conn) = match via::reach(&host, port, &s.live.options, via, &s.notify).await
    {
        Ok(reached) => reached,
        Err(e) => return refuse(s, client, flow, e).await,
    };
    flow.dict_mut().insert("server_conn", server_conn.clone());
    if answered.is_none() {
        connect_established_response(&mut flow);
    }
    let _ = s.live.flow_event(Event::HttpConnected, &mut flow).await;
    if !answer(&mut client, &flow).await {
        return Handoff::Close(client);
    }
    Handoff::tunnel(client, server, server_conn, host, port)
}

/// The answer mitmproxy gives an accepted CONNECT: `200 Connection
/// established`, no header fields (some Android clients break on them).
fn connect_established_response(flow: &mut Flow) {
    let version = flow
        .request()
        .map(|r| fields::raw(r, "http_version").to_vec())
        .unwrap_or_else(|| b"HTTP/1.1".to_vec());
    flow.set_new_response(200, record::now());
    if let Some(response) = flow.message_mut(crate::http::Which::Response) {
        response.insert("reason", Value::bytes(b"Connection established"));
        response.insert("http_version", Value::Bytes(version.into()));
    }
}

/// Sends the CONNECT's response as the flow holds it; false when the
/// client is gone.
async fn answer(client: &mut Reader<BoxIo>, flow: &Flow) -> bool {
    let Some(response) = flow.response() else {
        return false;
    };
    client
        .io()
        .write_all(&send::connect_answer(response))
        .await
        .is_ok()
}

/// A redirected connection (transparent mode): the server reached, then
/// the tunnel; a server out of reach closes the client's connection.
pub async fn reach(s: &Session, client: Reader<BoxIo>, host: String, port: u16) -> Handoff {
    let via = via::proxy_of(&s.mode.kind);
    match via::reach(&host, port, &s.live.options, via, &s.notify).await {
        Ok((server, server_conn)) => Handoff::tunnel(client, server, server_conn, host, port),
        Err(e) => {
            s.log(
                Level::Warn,
                &format!("{e}; closing the redirected connection"),
            );
            Handoff::Close(client)
        }
    }
}

/// What runs in an open tunnel, by the client's first bytes.
pub async fn enter(
    s: &Session,
    mut client: Reader<BoxIo>,
    mut server: Reader<BoxIo>,
    server_conn: Value,
    mut tunnel: Tunnel,
) -> Handoff {
    if passes_through(&s.live, &tunnel.host, tunnel.port) {
        return Handoff::Pipe { client, server };
    }
    let opening = first_bytes(&mut client, &mut server).await;
    tunnel.tls = opening == detect::Opening::Tls;
    let tcp = forced_tcp(&s.live, &tunnel.host, tunnel.port);
    match opening {
        detect::Opening::Tls => Handoff::Intercept {
            client,
            server: server.into_parts().0,
            server_conn,
            tunnel,
        },
        detect::Opening::Http if !tcp => {
            let origin = Origin {
                tls: false,
                host: tunnel.host.clone(),
                port: tunnel.port,
            };
            let mut pool = Pool::default();
            let (io, _) = server.into_parts();
            if let Ok(link @ Link::H1(_)) =
                upstream::secure(io, server_conn, &origin, None, &s.live.options, &s.notify).await
            {
                pool.put(origin, link);
            }
            Handoff::Http1 {
                client,
                tunnel: Some(tunnel),
                pool,
            }
        }
        _ => Handoff::Tcp {
            client,
            server,
            server_conn,
        },
    }
}

/// What runs inside an intercepted tunnel: HTTP/1, or a TCP flow over TLS
/// when forced or when the decrypted bytes are not HTTP.
pub async fn inside(
    s: &Session,
    mut client: Reader<BoxIo>,
    tunnel: Tunnel,
    mut pool: Pool,
    tcp: bool,
) -> Handoff {
    let origin = Origin {
        tls: tunnel.tls,
        host: tunnel.host.clone(),
        port: tunnel.port,
    };
    let Some(Link::H1(mut up)) = pool.take(&origin) else {
        // No server link (its TLS failed: its flows fail with the reason,
        // as mitmproxy's do) or an h2 one: HTTP.
        return Handoff::Http1 {
            client,
            tunnel: Some(tunnel),
            pool,
        };
    };
    let http = !tcp
        && match first_bytes(&mut client, &mut up.wire).await {
            detect::Opening::Http => true,
            // Nothing from either side yet decides nothing: HTTP.
            detect::Opening::Tls | detect::Opening::Other => false,
        };
    if http {
        pool.put(origin, Link::H1(up));
        return Handoff::Http1 {
            client,
            tunnel: Some(tunnel),
            pool,
        };
    }
    s.log(
        Level::Info,
        &format!(
            "{}:{}: not HTTP inside TLS; a TCP flow",
            tunnel.host, tunnel.port
        ),
    );
    Handoff::Tcp {
        client,
        server: up.wire,
        server_conn: up.conn,
    }
}

/// What the client's first bytes are; a server that speaks first, or a
/// client that closes, counts as `Other`.
async fn first_bytes(client: &mut Reader<BoxIo>, server: &mut Reader<BoxIo>) -> detect::Opening {
    if client.has_buffered() {
        return detect::classify(client.buffered());
    }
    if server.has_buffered() {
        return detect::Opening::Other;
    }
    tokio::select! {
        n = client.read_more() => match n {
            Ok(n) if n > 0 => detect::classify(client.buffered()),
            _ => detect::Opening::Other,
        },
        _ = server.read_more() => detect::Opening::Other,
    }
}

/// The CONNECT failed (the server out of reach, a panicking hook): its
/// flow gets the error and the failure's answer, `http_connect_error`
/// runs (it may change the answer), the client gets the answer, and the
/// flow is recorded, which mitmproxy does not do.
async fn refuse(
    s: &Session,
    mut client: Reader<BoxIo>,
    mut flow: Flow,
    failure: Failure,
) -> Handoff {
    flow.set_error(&failure.to_string(), record::now());
    if let Some((status, text)) = failure.page() {
        flow.set_new_response(status, record::now());
        if let Some(response) = flow.message_mut(crate::http::Which::Response) {
            fields::set_header(response, b"content-type", b"text/plain; charset=utf-8");
            fields::set_header(response, b"connection", b"close");
            fields::set_decoded_content(response, text.as_bytes());
        }
    }
    let _ = s.live.flow_event(Event::HttpConnectError, &mut flow).await;
    answer(&mut client, &flow).await;
    // The saved flow is the failed CONNECT, as Waylay has always kept it.
    flow.dict_mut().insert("response", Value::Null);
    s.finish(&flow).await;
    Handoff::Close(client)
}
