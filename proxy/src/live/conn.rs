//! The connection driver: it owns each client connection from accept to
//! close and runs one layer after another, each chosen by what the last
//! one handed back (`Handoff`), the first by the listener's mode: HTTP/1,
//! SOCKS5, a reverse proxy's, a tunnel, TLS interception, HTTP/2, a
//! WebSocket, a TCP flow, a pipe.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::handoff::Handoff;
use super::mode::{Kind, Mode};
use super::shards::{Accepted, Shards, Socket, wind_down};
use super::state::{Live, Session};
use super::upstream::Pool;
use super::wire::{BoxIo, Reader};
use super::{http1, http2, intercept, record, reverse, socks, tcp, tunnel, websocket};
use crate::script::Event;
use crate::tnetstring::Value;

/// A listening socket and the mode of the connections it accepts.
#[derive(Debug)]
pub struct Listener {
    pub socket: TcpListener,
    pub mode: Mode,
}

/// Where a redirected connection was going (iptables `REDIRECT`), read
/// from the socket (`SO_ORIGINAL_DST`); `None` when it was not redirected.
fn original_destination(stream: &TcpStream) -> Option<SocketAddr> {
    use nix::sys::socket::{getsockopt, sockopt};
    let local = stream.local_addr().ok()?;
    let found = if local.is_ipv4() {
        let a = getsockopt(stream, sockopt::OriginalDst).ok()?;
        let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
        SocketAddr::from((ip, u16::from_be(a.sin_port)))
    } else {
        let a = getsockopt(stream, sockopt::Ip6tOriginalDst).ok()?;
        let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
        SocketAddr::from((ip, u16::from_be(a.sin6_port)))
    };
    (found != local).then_some(found)
}

/// Serves clients from every listener until `shutdown` resolves, then
/// lets in-flight flows finish (for at most the grace period) and
/// returns. Connections are spread over `io_threads` threads, this one
/// included (`shards`).
pub async fn serve(
    listeners: Vec<Listener>,
    live: Arc<Live>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (closing_tx, closing) = watch::channel(false);
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::channel(64);
    let mut accepting = JoinSet::new();
    for listener in listeners {
        let socket = listener.socket;
        let mut mode = listener.mode;
        mode.bound = socket.local_addr().ok();
        let (tx, mode) = (accepted_tx.clone(), Arc::new(mode));
        accepting.spawn(async move {
            loop {
                match socket.accept().await {
                    Ok((stream, peer)) => {
                        if tx.send((stream, peer, mode.clone())).await.is_err() {
                            return;
                        }
                    }
                    // Out of file descriptors and the like: wait a moment.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
    }
    drop(accepted_tx);
    let extra = live.options.io_threads.max(1) - 1;
    let mut shards = Shards::start(extra, &live, &closing, spawn)?;
    let mut clients = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            Some((stream, peer, mode)) = accepted.recv() => {
                if let Some(mine) = shards.hand_off(accept(stream, peer, mode)) {
                    spawn(mine, &live, &closing, &mut clients);
                }
            }
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    accepting.abort_all();
    let _ = closing_tx.send(true);
    let (_, ()) = tokio::join!(wind_down(clients, &live), shards.finish());
    live.abandon_in_flight().await;
    Ok(())
}

/// What the connection driver needs of a fresh connection.
fn accept(stream: TcpStream, peer: SocketAddr, mode: Arc<Mode>) -> Accepted {
    let sock = stream
        .local_addr()
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
    let _ = stream.set_nodelay(true);
    let redirected = match mode.kind {
        Kind::Transparent => original_destination(&stream),
        _ => None,
    };
    Accepted {
        stream: Socket::Here(stream),
        peer,
        sock,
        mode,
        redirected,
    }
}

/// Runs an accepted connection on the current runtime, tracked in
/// `clients` (`shards::Spawn`).
fn spawn(
    accepted: Accepted,
    live: &Arc<Live>,
    closing: &watch::Receiver<bool>,
    clients: &mut JoinSet<()>,
) {
    let stream = match accepted.stream {
        Socket::Here(stream) => stream,
        // Fails only when out of descriptors for the reactor: the
        // connection is dropped, as a failed accept would be.
        Socket::Moving(stream) => match TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(_) => return,
        },
    };
    clients.spawn(run(
        Box::new(stream),
        accepted.peer,
        accepted.sock,
        live.clone(),
        accepted.mode,
        accepted.redirected,
        closing.clone(),
    ));
}

/// How long a relay gets to end its stream after the view killed it.
const RELAY_KILL_GRACE: Duration = Duration::from_secs(2);

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

/// Serves one client connection to its end, starting with its mode's
/// first layer; `redirected` is a transparent connection's destination.
pub async fn run(
    stream: BoxIo,
    peer: SocketAddr,
    sock: SocketAddr,
    live: Arc<Live>,
    mode: Arc<Mode>,
    redirected: Option<SocketAddr>,
    mut closing: watch::Receiver<bool>,
) {
    let conn = record::client_conn(peer, sock, record::now(), &mode.spec);
    live.conn_event(Event::ClientConnect, &conn).await;
    let client = Reader::new(stream);
    let next = match (&mode.kind, redirected) {
        (Kind::Regular | Kind::Upstream(_), _) => Handoff::Http1 {
            client,
            tunnel: None,
            pool: Pool::default(),
        },
        (Kind::Socks5, _) => Handoff::Socks { client },
        (Kind::Reverse(_), _) => Handoff::Reverse { client },
        (Kind::Transparent, Some(to)) => Handoff::Reach {
            client,
            host: to.ip().to_string(),
            port: to.port(),
        },
        (Kind::Transparent, None) => {
            live.scripts().log().log(
                "proxy",
                crate::script::Level::Warn,
                &format!(
                    "{peer}: came to the transparent listener without being redirected (iptables REDIRECT); closing"
                ),
            );
            Handoff::Close(client)
        }
    };
    let mut session = Registered(Session::open(live.clone(), conn, sock, mode));
    let tracked = session.0.tracked();
    // The view can kill a flow in flight: the connection then stops where
    // it is, and its flows are recorded as killed.
    let killed = {
        let mut serving = std::pin::pin!(drive(&mut session.0, next, &live, &mut closing));
        loop {
            tokio::select! {
                () = &mut serving => break false,
                () = tracked.killed() => {
                    if !tracked.kill_still_wanted() {
                        continue;
                    }
                    if !tracked.relaying() {
                        break true;
                    }
                    // A relay ends its stream itself, messages kept; one
                    // stuck writing to a peer that does not read is
                    // stopped after a moment.
                    match tokio::time::timeout(RELAY_KILL_GRACE, &mut serving).await {
                        Ok(()) => break false,
                        Err(_) => break true,
                    }
                }
            }
        }
    };
    let s = &session.0;
    if killed {
        s.record_killed().await;
    }
    let conn = record::with(&s.conn, "timestamp_end", Value::Float(record::now()));
    live.conn_event(Event::ClientDisconnect, &conn).await;
}

/// Runs the connection's layers, each handing the connection to the
/// next, until one closes it.
async fn drive(
    s: &mut Session,
    mut next: Handoff,
    live: &Arc<Live>,
    closing: &mut watch::Receiver<bool>,
) {
    loop {
        next = match next {
            // Every layer is boxed: the task holds only the one it is in.
            // (HTTP/1's 1 KiB inline would stay with a connection that
            // became a WebSocket or a tunnel for the rest of its life.)
            Handoff::Http1 {
                client,
                tunnel,
                pool,
            } => {
                let client = client_reader(client, live);
                Box::pin(http1::serve(s, client, tunnel, pool, closing)).await
            }
            Handoff::Connect {
                client,
                head,
                host,
                port,
            } => Box::pin(tunnel::connect(s, client, head, host, port)).await,
            Handoff::Socks { client } => Box::pin(socks::handshake(s, client)).await,
            Handoff::Reverse { client } => Box::pin(reverse::start(s, client)).await,
            Handoff::Reach { client, host, port } => {
                Box::pin(tunnel::reach(s, client, host, port)).await
            }
            Handoff::Tunnel {
                client,
                server,
                server_conn,
                tunnel,
            } => {
                let client = client_reader(client, live);
                Box::pin(tunnel::enter(s, client, server, server_conn, tunnel)).await
            }
            Handoff::Inside {
                client,
                tunnel,
                pool,
                tcp,
            } => Box::pin(tunnel::inside(s, client, tunnel, pool, tcp)).await,
            Handoff::Tcp {
                client,
                server,
                server_conn,
            } => {
                s.no_more_flows();
                Box::pin(tcp::relay(s, client, server, server_conn, closing)).await
            }
            Handoff::TcpFailed { client, failure } => {
                Box::pin(tcp::failed(s, client, failure)).await
            }
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
                Box::pin(http2::serve(s, client, tunnel, pool, closing)).await;
                Handoff::Done
            }
            Handoff::Upgrade {
                flow,
                client,
                server,
            } => {
                s.no_more_flows();
                Box::pin(websocket::relay(s, *flow, client, server, closing)).await
            }
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
