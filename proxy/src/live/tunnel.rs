//! CONNECT tunnels: answered 200 once the server is reachable, then, by
//! the client's first bytes, handed on to TLS interception, to HTTP/1
//! inside the tunnel, or (for anything else, a server that speaks first,
//! and ignored hosts) to a pipe.

use tokio::io::AsyncWriteExt;

use super::failure::Failure;
use super::handoff::{Handoff, Tunnel};
use super::state::{Live, Session};
use super::upstream::{self, Link, Origin, Pool};
use super::wire::{BoxIo, Reader};
use super::{detect, record, send};
use crate::h1::Head;
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

/// Opens the tunnel a CONNECT asked for and says what runs in it.
pub async fn open(
    s: &Session,
    mut client: Reader<BoxIo>,
    head: Head,
    host: String,
    port: u16,
) -> Handoff {
    let origin = Origin {
        tls: false,
        host: host.clone(),
        port,
    };
    let (server, server_conn) = match upstream::transport(&origin, &s.live.options).await {
        Ok(connected) => connected,
        Err(e) => {
            refuse(s, &mut client, &head, &host, port, e).await;
            return Handoff::Close(client);
        }
    };
    if client
        .io()
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return Handoff::Close(client);
    }
    let mut server = Reader::new(server);
    if passes_through(&s.live, &host, port) {
        return Handoff::Pipe { client, server };
    }
    let opening = first_bytes(&mut client, &mut server).await;
    let tunnel = Tunnel {
        tls: opening == detect::Opening::Tls,
        host,
        port,
    };
    match opening {
        detect::Opening::Other => {
            s.live.scripts().log().log(
                "proxy",
                Level::Info,
                &format!(
                    "{}:{}: neither TLS nor HTTP; passing the tunnel through",
                    tunnel.host, tunnel.port
                ),
            );
            Handoff::Pipe { client, server }
        }
        detect::Opening::Http => {
            let mut pool = Pool::default();
            let (io, _) = server.into_parts();
            if let Ok(link @ Link::H1(_)) =
                upstream::secure(io, server_conn, &origin, None, &s.live.options).await
            {
                pool.put(origin, link);
            }
            Handoff::Http1 {
                client,
                tunnel: Some(tunnel),
                pool,
            }
        }
        detect::Opening::Tls => Handoff::Intercept {
            client,
            server: server.into_parts().0,
            server_conn,
            tunnel,
        },
    }
}

/// What the client's first bytes are; a protocol where the server speaks
/// first, or a client that closes, counts as `Other`.
async fn first_bytes(client: &mut Reader<BoxIo>, server: &mut Reader<BoxIo>) -> detect::Opening {
    if client.has_buffered() {
        return detect::classify(client.buffered());
    }
    tokio::select! {
        n = client.read_more() => match n {
            Ok(n) if n > 0 => detect::classify(client.buffered()),
            _ => detect::Opening::Other,
        },
        _ = server.read_more() => detect::Opening::Other,
    }
}

/// The server could not be reached: the CONNECT is answered 502, and the
/// failure is a flow with its error, as mitmproxy records it.
async fn refuse(
    s: &Session,
    client: &mut Reader<BoxIo>,
    head: &Head,
    host: &str,
    port: u16,
    failure: Failure,
) {
    let start = record::now();
    let target = record::Target {
        scheme: "http".into(),
        host: host.to_owned(),
        port,
        path: bytes::Bytes::new(),
    };
    let mut request = record::request(head, &target, start);
    request.insert("authority", Value::Bytes(head.second.clone()));
    let mut flow = record::flow(s.conn.clone(), request, start);
    flow.set_error(&failure.to_string(), record::now());
    s.live.flow_event(Event::Error, &mut flow).await;
    s.finish(&flow).await;
    if let Some(status) = failure.status() {
        let text = format!("waylay: {failure}\n");
        let _ = client
            .io()
            .write_all(&send::simple(status, &[], &text))
            .await;
    }
}
