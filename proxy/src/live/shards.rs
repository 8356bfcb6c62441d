//! Thread-per-core: the live proxy spreads its client connections over
//! `io_threads` threads, each running its own current-thread tokio
//! runtime, as nginx and Pingora do.
//!
//! The thread that accepts (the caller of `serve`) is shard 0 and keeps
//! every `io_threads`-th connection; the others are handed, as plain
//! sockets, to the other shards in turn. A connection then lives on one
//! thread from accept to close, with its upstream connections, its h2
//! tasks and its relays: a wake-up never crosses to another thread, and
//! no idle worker is woken to look for work to steal. Under tokio's
//! multi-thread scheduler those wake-ups were a sixth of the proxy's
//! context switches under load, and two workers served fewer requests
//! than one (BENCHMARKS.md, issue 19).
//!
//! Hooks that may block still leave the shard: a concurrent or slow hook
//! runs on the shard runtime's blocking threads (`Live::flow_event`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::mode::Mode;
use super::state::Live;

/// An accepted client connection on its way to a shard.
pub(super) struct Accepted {
    pub stream: Socket,
    pub peer: SocketAddr,
    pub sock: SocketAddr,
    pub mode: Arc<Mode>,
    pub redirected: Option<SocketAddr>,
}

/// A client socket: registered with the accepting thread's reactor, or
/// a plain socket between threads (registered again where it lands).
pub(super) enum Socket {
    Here(tokio::net::TcpStream),
    Moving(std::net::TcpStream),
}

/// Starts serving an accepted connection on the current runtime, tracked
/// in the set given (the connection driver's, passed in so that this
/// module needs nothing of it).
pub(super) type Spawn = fn(Accepted, &Arc<Live>, &watch::Receiver<bool>, &mut JoinSet<()>);

/// The shards besides the accepting thread's own.
pub(super) struct Shards {
    senders: Vec<mpsc::UnboundedSender<Accepted>>,
    threads: Vec<JoinHandle<()>>,
    /// Connections accepted so far, for the round.
    turn: usize,
}

impl Shards {
    /// Starts `extra` shard threads.
    pub fn start(
        extra: usize,
        live: &Arc<Live>,
        closing: &watch::Receiver<bool>,
        spawn: Spawn,
    ) -> io::Result<Shards> {
        let mut shards = Shards {
            senders: Vec::with_capacity(extra),
            threads: Vec::with_capacity(extra),
            turn: 0,
        };
        for i in 1..=extra {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name(format!("waylay-io-{i}"))
                .build()?;
            let (tx, rx) = mpsc::unbounded_channel();
            let (live, closing) = (live.clone(), closing.clone());
            let thread = std::thread::Builder::new()
                .name(format!("waylay-io-{i}"))
                .spawn(move || shard(runtime, rx, live, closing, spawn))?;
            shards.senders.push(tx);
            shards.threads.push(thread);
        }
        Ok(shards)
    }

    /// Hands `accepted` to the next shard in turn; gives it back when the
    /// turn is the accepting thread's own. Only a socket that moves is
    /// taken off this thread's reactor.
    pub fn hand_off(&mut self, mut accepted: Accepted) -> Option<Accepted> {
        let turn = self.turn % (self.senders.len() + 1);
        self.turn = self.turn.wrapping_add(1);
        if turn == 0 {
            return Some(accepted);
        }
        accepted.stream = match accepted.stream {
            Socket::Here(stream) => Socket::Moving(stream.into_std().ok()?),
            moving => moving,
        };
        // A shard that is gone (it panicked) gives the connection back.
        self.senders[turn - 1].send(accepted).err().map(|e| e.0)
    }

    /// Tells the shards that no more connections come, and waits until
    /// each has let its connections finish (within the grace period).
    pub async fn finish(self) {
        drop(self.senders);
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}

/// One shard: runs the connections it is handed until the accepting
/// thread stops, then winds them down like the accepting thread does.
fn shard(
    runtime: tokio::runtime::Runtime,
    mut rx: mpsc::UnboundedReceiver<Accepted>,
    live: Arc<Live>,
    closing: watch::Receiver<bool>,
    spawn: Spawn,
) {
    runtime.block_on(async {
        let mut clients = JoinSet::new();
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(accepted) => spawn(accepted, &live, &closing, &mut clients),
                    None => break,
                },
                Some(_) = clients.join_next(), if !clients.is_empty() => {}
            }
        }
        wind_down(clients, &live).await;
    });
    // A hook still blocking a thread past the grace period is not waited
    // for: its flow is recorded as abandoned (`Live::abandon_in_flight`).
    runtime.shutdown_background();
}

/// Lets the connections of `clients` finish for at most the grace period,
/// or until told to quit at once, then ends them.
pub(super) async fn wind_down(mut clients: JoinSet<()>, live: &Live) {
    let grace = live.options.shutdown_grace;
    let _ = tokio::time::timeout(grace, async {
        tokio::select! {
            () = async { while clients.join_next().await.is_some() {} } => {}
            () = live.quitting() => {}
        }
    })
    .await;
    clients.abort_all();
    while clients.join_next().await.is_some() {}
}
