//! `bench modes`' TCP ends: an echo origin, a client that echoes
//! messages over long-lived connections (direct or through a CONNECT
//! tunnel), one that opens a new connection per 1-byte echo (direct or
//! after a SOCKS5 handshake), and the CPU time of the threads and
//! processes that run them, read from /proc.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use crate::load::Measured;
pub use crate::load::Tally;

/// How long one echo, or one handshake, may take before it counts as an
/// error.
const PATIENCE: Duration = Duration::from_secs(5);

/// The name of the origin's one thread, for its CPU time.
pub const ORIGIN_THREAD: &str = "modes-origin";
/// The name of the client runtime's worker threads.
pub const CLIENT_THREAD: &str = "modes-client";

/// Starts the echo origin on a thread of its own (a current-thread
/// runtime); returns its port. Every byte read is written back.
pub fn echo_origin() -> Result<u16> {
    crate::load::origin(ORIGIN_THREAD, echo)
}

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// How the client reaches the echo origin.
#[derive(Clone, Copy, Debug)]
pub enum Route {
    Direct,
    /// `CONNECT 127.0.0.1:ORIGIN` to the HTTP proxy at this port.
    Connect(u16),
    /// A SOCKS5 CONNECT (no authentication, IPv4) at this port.
    Socks5(u16),
}

/// A connection to the origin at `origin` by `route`, ready for bytes.
async fn open(route: Route, origin: u16) -> Result<TcpStream> {
    let port = match route {
        Route::Direct => origin,
        Route::Connect(p) | Route::Socks5(p) => p,
    };
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    match route {
        Route::Direct => {}
        Route::Connect(_) => connect(&mut tcp, origin).await?,
        Route::Socks5(_) => socks5(&mut tcp, origin).await?,
    }
    Ok(tcp)
}

/// Asks for a tunnel and reads the answer's head, byte by byte so that
/// nothing after it is taken.
async fn connect(tcp: &mut TcpStream, origin: u16) -> Result<()> {
    let request =
        format!("CONNECT 127.0.0.1:{origin} HTTP/1.1\r\nHost: 127.0.0.1:{origin}\r\n\r\n");
    tcp.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(128);
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await? == 0 {
            bail!("the proxy closed the connection before answering the CONNECT");
        }
        head.push(byte[0]);
        ensure!(head.len() <= 16 * 1024, "a CONNECT answer head over 16 KiB");
    }
    if !head.starts_with(b"HTTP/1.1 200") && !head.starts_with(b"HTTP/1.0 200") {
        bail!(
            "CONNECT refused: {}",
            String::from_utf8_lossy(&head).trim_end()
        );
    }
    Ok(())
}

/// RFC 1928 as a client: the greeting (no authentication), its answer,
/// then a CONNECT to 127.0.0.1:`origin` and its reply.
async fn socks5(tcp: &mut TcpStream, origin: u16) -> Result<()> {
    tcp.write_all(&[5, 1, 0]).await?;
    let mut chosen = [0u8; 2];
    tcp.read_exact(&mut chosen)
        .await
        .context("reading the method choice")?;
    ensure!(
        chosen == [5, 0],
        "the proxy chose method {chosen:?}, not [5, 0]"
    );
    let [hi, lo] = origin.to_be_bytes();
    tcp.write_all(&[5, 1, 0, 1, 127, 0, 0, 1, hi, lo]).await?;
    let mut reply = [0u8; 4];
    tcp.read_exact(&mut reply)
        .await
        .context("reading the CONNECT reply")?;
    ensure!(reply[0] == 5, "a reply of version {}", reply[0]);
    ensure!(
        reply[1] == 0,
        "the CONNECT failed with reply code {}",
        reply[1]
    );
    let rest = match reply[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => usize::from(tcp.read_u8().await?) + 2,
        other => bail!("a reply with address type {other}"),
    };
    let mut bound = [0u8; 18 + 255];
    tcp.read_exact(&mut bound[..rest]).await?;
    Ok(())
}

/// Message `n` of `size` bytes: its number, then filler. No spaces and no
/// TLS record byte, so that neither proxy takes it for HTTP or TLS.
fn message(n: u64, size: usize, into: &mut Vec<u8>) {
    into.clear();
    into.resize(size.max(8), b'm');
    into[..8].copy_from_slice(&n.to_le_bytes());
}

/// One connection until `deadline`: a `size`-byte message, then its
/// whole echo, then the next. A failure is counted and the connection
/// opened again.
pub async fn echo_loop(route: Route, origin: u16, deadline: Instant, size: usize) -> Tally {
    let mut tally = Tally::default();
    let (mut sent, mut got) = (Vec::new(), vec![0u8; size.max(8)]);
    let mut n = 0u64;
    while Instant::now() < deadline {
        let result = async {
            let mut tcp = tokio::time::timeout(PATIENCE, open(route, origin))
                .await
                .context("no tunnel within 5 s")??;
            while Instant::now() < deadline {
                let started = Instant::now();
                message(n, size, &mut sent);
                tcp.write_all(&sent).await?;
                tokio::time::timeout(PATIENCE, tcp.read_exact(&mut got))
                    .await
                    .context("no whole echo within 5 s")?
                    .context("reading the echo")?;
                if got != sent {
                    bail!(
                        "a wrong echo of message {n}: it came back numbered {}",
                        u64::from_le_bytes(got[..8].try_into().expect("8 bytes"))
                    );
                }
                n += 1;
                if Instant::now() <= deadline {
                    tally.latencies.push(started.elapsed());
                }
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            tally.failed(e);
            // A proxy that refuses at once is not hammered.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tally
}

/// New connections until `deadline`, one at a time: open by `route`,
/// send one byte, read its echo, close.
pub async fn connect_loop(route: Route, origin: u16, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let started = Instant::now();
        let result = tokio::time::timeout(PATIENCE, async {
            let mut tcp = open(route, origin).await?;
            tcp.write_all(b"z").await?;
            let got = tcp.read_u8().await.context("reading the echo")?;
            ensure!(got == b'z', "a wrong echo: {got:#04x} for b'z'");
            anyhow::Ok(())
        })
        .await
        .context("no connection and echo within 5 s")
        .and_then(|r| r);
        match result {
            Ok(()) => tally.latencies.push(started.elapsed()),
            Err(e) => {
                tally.failed(e);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    tally
}

/// Runs `loops` copies of `each(deadline)` on `runtime` for `seconds`;
/// per second counts the latencies recorded before the deadline.
pub fn measure<F, Fut>(runtime: &Runtime, loops: usize, seconds: u64, each: F) -> Result<Measured>
where
    F: Fn(Instant) -> Fut,
    Fut: Future<Output = Tally> + Send + 'static,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..loops).map(|_| runtime.spawn(each(deadline))).collect();
    runtime.block_on(async {
        let mut tallies = Vec::new();
        for task in tasks {
            tallies.push(task.await?);
        }
        Ok(Measured::of(tallies, seconds))
    })
}

/// Linux's clock ticks per second in /proc (USER_HZ, 100 on every
/// architecture the benches run on).
const TICKS: f64 = 100.0;

/// User plus system CPU seconds from a /proc `stat` line.
fn stat_cpu(stat: &str) -> f64 {
    // Fields after the `(comm)`: state is the first, utime the 12th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    (tick(11).unwrap_or(0.0) + tick(12).unwrap_or(0.0)) / TICKS
}

/// CPU seconds used so far by process `pid`, all its threads.
pub fn process_cpu(pid: u32) -> f64 {
    stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// CPU seconds used so far by this process's live threads named `name`.
pub fn threads_cpu(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .map(|t| stat_cpu(&std::fs::read_to_string(t.path().join("stat")).unwrap_or_default()))
        .sum()
}
