//! The connection driver: it owns each client connection from accept to
//! close and runs one layer after another, each chosen by what the last
//! one handed back (`Handoff`): HTTP/1, a CONNECT tunnel, TLS
//! interception, HTTP/2, a WebSocket, a pipe.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::handoff::Handoff;
use super::state::{Live, Session};
use super::upstream::Pool;
use super::wire::{BoxIo, Reader};
use super::{http1, http2, intercept, record, tunnel, websocket};
use crate::script::Event;
use crate::tnetstring::Value;

/// Serves clients from `listener` until `shutdown` resolves, then lets
/// in-flight flows finish (for at most the grace period) and returns.
pub async fn serve(
    listener: TcpListener,
    live: Arc<Live>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (closing_tx, closing) = watch::channel(false);
    let mut clients = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let sock = stream.local_addr().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
                    let _ = stream.set_nodelay(true);
                    clients.spawn(run(Box::new(stream), peer, sock, live.clone(), closing.clone()));
                }
                // Out of file descriptors and the like: wait a moment.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let grace = live.options.shutdown_grace;
    let _ = tokio::time::timeout(grace, async {
        while clients.join_next().await.is_some() {}
    })
    .await;
    clients.abort_all();
    while clients.join_next().await.is_some() {}
    live.abandon_in_flight().await;
    Ok(())
}

/// Takes a session off the shutdown list when its connection ends, even
/// by abort.
struct Registered(Session);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A client's reader: a body read may wait `header_timeout` for its next
/// byte before the flow fails.
fn client_reader(mut reader: Reader<BoxIo>, live: &Live) -> Reader<BoxIo> {
    reader.set_idle(live.options.header_timeout);
    reader
}

/// Serves one client connection to its end.
pub async fn run(
    stream: BoxIo,
    peer: SocketAddr,
    sock: SocketAddr,
    live: Arc<Live>,
    mut closing: watch::Receiver<bool>,
) {
    let conn = record::client_conn(peer, sock, record::now());
    live.conn_event(Event::ClientConnect, &conn).await;
    let mut session = Registered(Session::open(live.clone(), conn, sock));
    let s = &mut session.0;
    let mut next = Handoff::Http1 {
        client: Reader::new(stream),
        tunnel: None,
        pool: Pool::default(),
    };
    loop {
        next = match next {
            Handoff::Http1 {
                client,
                tunnel,
                pool,
            } => {
                let client = client_reader(client, &live);
                http1::serve(s, client, tunnel, pool, &mut closing).await
            }
            // Boxed: an idle plain connection's task stays small; a
            // tunnel's TLS and HTTP/2 state is only allocated once there
            // is a tunnel.
            Handoff::Connect {
                client,
                head,
                host,
                port,
            } => Box::pin(tunnel::open(s, client, head, host, port)).await,
            Handoff::Intercept {
                client,
                server,
                server_conn,
                tunnel,
            } => Box::pin(intercept::run(s, client, server, server_conn, tunnel)).await,
            Handoff::Http2 {
                client,
                tunnel,
                pool,
            } => {
                Box::pin(http2::serve(s, client, tunnel, pool, &mut closing)).await;
                Handoff::Done
            }
            Handoff::Upgrade {
                flow,
                client,
                server,
            } => Box::pin(websocket::relay(s, *flow, client, server, &mut closing)).await,
            Handoff::Pipe { client, server } => {
                pipe(client, server).await;
                Handoff::Done
            }
            Handoff::Close(mut client) => {
                let _ = client.io().shutdown().await;
                break;
            }
            Handoff::Done => break,
        }
    }
    let conn = record::with(&s.conn, "timestamp_end", Value::Float(record::now()));
    live.conn_event(Event::ClientDisconnect, &conn).await;
}

/// Passes bytes both ways until either side closes, the bytes each side
/// had sent ahead first.
pub async fn pipe(client: Reader<BoxIo>, server: Reader<BoxIo>) {
    let (mut client, to_server) = client.into_parts();
    let (mut server, to_client) = server.into_parts();
    if server.write_all(&to_server).await.is_err() || client.write_all(&to_client).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
