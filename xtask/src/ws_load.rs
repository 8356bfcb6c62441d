//! `bench websocket`'s two ends: a WebSocket echo origin (tungstenite on
//! one thread), and a load client that upgrades by hand (origin form
//! direct, absolute form `GET http://HOST/ws` through a proxy), checks the
//! 101, then speaks tungstenite over the same socket.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub use crate::load::Tally;
use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};
use tokio_tungstenite::tungstenite::protocol::Role;

/// How long one echo, or one handshake, may take before it counts as an
/// error.
const PATIENCE: Duration = Duration::from_secs(5);

/// Starts the echo origin on a thread of its own (`load::origin`);
/// returns its port. Every text or binary message is sent back as it came.
pub fn echo_origin() -> Result<u16> {
    crate::load::origin("ws-origin", echo)
}

async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    // Pings and closes are answered by tungstenite itself.
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_binary() || message.is_text()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

/// Where the client goes: the origin at `origin_port`, directly or
/// through the HTTP proxy listening at `proxy_port`.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub origin_port: u16,
    pub proxy_port: Option<u16>,
}

pub type Ws = WebSocketStream<TcpStream>;

/// Opens a WebSocket: the upgrade request written by hand, the 101 and
/// its `Sec-WebSocket-Accept` checked.
pub async fn connect(target: Target) -> Result<Ws> {
    let origin = target.origin_port;
    let mut tcp = TcpStream::connect(("127.0.0.1", target.proxy_port.unwrap_or(origin))).await?;
    tcp.set_nodelay(true)?;
    let key = generate_key();
    let path = match target.proxy_port {
        Some(_) => format!("http://127.0.0.1:{origin}/ws"),
        None => "/ws".to_owned(),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{origin}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let end = loop {
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            bail!("the connection closed before the 101");
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > 16 * 1024 {
            bail!("an upgrade response head over 16 KiB");
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if !text.starts_with("http/1.1 101") {
        bail!(
            "the upgrade was refused: {}",
            String::from_utf8_lossy(&head).replace("\r\n", " | ")
        );
    }
    // The server speaks only when spoken to: nothing may follow the head.
    if end != head.len() {
        bail!("{} bytes arrived after the 101", head.len() - end);
    }
    let accept = derive_accept_key(key.as_bytes()).to_ascii_lowercase();
    if !text
        .lines()
        .filter_map(|l| l.strip_prefix("sec-websocket-accept:"))
        .any(|v| v.trim() == accept)
    {
        bail!("the 101 has no matching Sec-WebSocket-Accept");
    }
    Ok(WebSocketStream::from_raw_socket(tcp, Role::Client, None).await)
}

/// Message `n` of `size` bytes: its number, then filler.
fn message(n: u64, size: usize) -> Message {
    let mut payload = vec![b'w'; size.max(8)];
    payload[..8].copy_from_slice(&n.to_le_bytes());
    Message::Binary(Bytes::from(payload))
}

/// Waits for message `n`'s echo; an error if it is late, wrong or absent.
pub async fn expect_echo(ws: &mut Ws, n: u64, size: usize) -> Result<()> {
    let got = tokio::time::timeout(PATIENCE, ws.next())
        .await
        .context("no echo within 5 s")?
        .context("the connection closed")??;
    match got {
        Message::Binary(b) if b.len() == size.max(8) && b[..8] == n.to_le_bytes() => Ok(()),
        Message::Binary(b) => bail!(
            "a wrong echo: {} bytes, number {:?} where {n} was due",
            b.len(),
            b.get(..8)
                .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
        ),
        other => bail!("a {:?} message where an echo was due", kind(&other)),
    }
}

fn kind(m: &Message) -> &'static str {
    match m {
        Message::Text(_) => "text",
        Message::Binary(_) => "binary",
        Message::Ping(_) => "ping",
        Message::Pong(_) => "pong",
        Message::Close(_) => "close",
        Message::Frame(_) => "raw frame",
    }
}

/// Sends message `n` and waits for its echo: one round trip.
pub async fn round_trip(ws: &mut Ws, n: u64, size: usize) -> Result<()> {
    ws.send(message(n, size)).await?;
    expect_echo(ws, n, size).await
}

/// One connection until `deadline`: `window` messages of `size` bytes in
/// flight, a new one sent as each echo arrives; a failure is counted and
/// the connection opened again. Closes politely at the end.
pub async fn run_connection(
    target: Target,
    deadline: Instant,
    window: usize,
    size: usize,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let mut ws = None;
        let result = async {
            let ws = ws.insert(
                tokio::time::timeout(PATIENCE, connect(target))
                    .await
                    .context("no 101 within 5 s")??,
            );
            let mut in_flight: VecDeque<(u64, Instant)> = VecDeque::with_capacity(window);
            let mut next = 0u64;
            loop {
                while in_flight.len() < window.max(1) && Instant::now() < deadline {
                    ws.feed(message(next, size)).await?;
                    in_flight.push_back((next, Instant::now()));
                    next += 1;
                }
                ws.flush().await?;
                let Some((n, sent)) = in_flight.pop_front() else {
                    return anyhow::Ok(());
                };
                expect_echo(ws, n, size).await?;
                if Instant::now() <= deadline {
                    tally.latencies.push(sent.elapsed());
                }
            }
        }
        .await;
        if let Err(e) = result {
            tally.errors += 1;
            tally.first_error.get_or_insert(format!("{e:#}"));
            // A proxy that refuses at once is not hammered.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(mut ws) = ws {
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                let _ = ws.close(None).await;
                while let Some(Ok(_)) = ws.next().await {}
            })
            .await;
        }
    }
    tally
}
