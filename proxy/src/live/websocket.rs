//! WebSocket flows, as mitmproxy 11 relays them: after the 101, messages
//! are read from either side whole (fragments joined, permessage-deflate
//! undone), recorded in the flow's `websocket` field, shown to scripts
//! (`websocket_message`; a script may change, drop or inject messages)
//! and sent on, compressed again where the extension was agreed. Pings
//! and pongs pass through unrecorded. A close from either side is sent to
//! both and ends the flow (`websocket_end`). The framing is `crate::ws`.
//!
//! An upgrade to anything but WebSocket passes through as raw bytes; the
//! HTTP flow is recorded as it stands.

use std::collections::VecDeque;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::handoff::Handoff;
use super::keep::Stream;
use super::record;
use super::state::{Hooked, Session};
use super::upstream::Upstream;
use super::wire::{BoxIo, Reader};
use crate::flow::spill::{self, Budget};
use crate::flow::{Flow, websocket};
use crate::http as fields;
use crate::script::Event;
use crate::tnetstring::Value;
use crate::ws::{self, Decoder, Encoder, Peer, WsError};

/// One side of the relay.
struct Side {
    wire: Reader<BoxIo>,
    /// Reads what this side sends.
    decoder: Decoder,
    /// Writes what this side receives.
    encoder: Encoder,
    from_client: bool,
}

/// How the relay ended.
struct End {
    closed_by_client: bool,
    code: u16,
    /// The close frame's reason; none without a frame (1006), as wsproto
    /// records it.
    reason: Option<String>,
    /// Set for an abnormal end: the flow's error.
    error: Option<String>,
    /// The close frame sent to both sides (`Some(None)`: one without a
    /// code), if any.
    send: Option<Option<(u16, String)>>,
}

/// Relays the upgraded connection to its end; the flow is recorded then.
pub async fn relay(
    s: &Session,
    mut flow: Flow,
    client: Reader<BoxIo>,
    server: Upstream,
    closing: &mut watch::Receiver<bool>,
) -> Handoff {
    if !record::is_websocket_switch(&flow) {
        s.finish(&flow).await;
        return Handoff::Pipe {
            client,
            server: server.wire,
        };
    }
    let resp = flow.response().expect("a 101");
    let offered = (0..fields::headers(resp).len())
        .filter_map(|i| fields::header_at(resp, i))
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"sec-websocket-extensions"))
        .map(|(_, v)| v);
    let deflate = match ws::agreed_deflate(offered) {
        Ok(deflate) => deflate,
        Err(e) => {
            s.log(
                crate::script::Level::Warn,
                &format!("ignoring the server's WebSocket extensions: {e}"),
            );
            None
        }
    };
    let max = s.live.options.websocket_max_message;
    let mut sides = [
        Side {
            wire: client,
            decoder: Decoder::new(Peer::Client, deflate.as_ref(), max),
            encoder: Encoder::new(Peer::Client, deflate.as_ref()),
            from_client: true,
        },
        Side {
            wire: server.wire,
            decoder: Decoder::new(Peer::Server, deflate.as_ref(), max),
            encoder: Encoder::new(Peer::Server, deflate.as_ref()),
            from_client: false,
        },
    ];
    if flow.websocket().is_none() {
        flow.start_websocket();
    }
    s.track(&flow);
    s.relays();
    let mut budget = Budget::new(s.live.options.stream_messages_memory);
    let end = match run(s, &mut flow, &mut sides, &mut budget, closing).await {
        Ok(end) | Err(end) => end,
    };
    for side in &mut sides {
        if let Some(close) = &end.send {
            let mut out = Vec::new();
            let close = close
                .as_ref()
                .map(|(code, reason)| (*code, reason.as_str()));
            side.encoder.close(close, &mut out);
            let _ = side.wire.io().write_all(&out).await;
        }
        let _ = side.wire.io().shutdown().await;
    }
    flow.close_websocket(
        end.closed_by_client,
        end.code,
        end.reason.as_deref(),
        record::now(),
    );
    if let Some(error) = &end.error {
        flow.set_error(error, record::now());
    }
    let _ = s.hook(Event::WebsocketEnd, &mut flow).await;
    s.finish(&flow).await;
    Handoff::Done
}

/// The messages a hook appended (injections), taken out of the list to be
/// run one at a time like received ones. With none, the flow is not
/// touched: a change would copy it away from the in-flight registry's
/// snapshot, and an idle WebSocket would hold both.
fn injected_since(flow: &mut Flow, n: usize) -> Vec<Value> {
    if flow.websocket_messages().map_or(0, <[Value]>::len) <= n {
        return Vec::new();
    }
    match flow.websocket_messages_mut() {
        Some(list) => list.split_off(n),
        None => Vec::new(),
    }
}

/// Runs `websocket_message` for each queued message and sends on those
/// not dropped; injections a hook makes join the queue. Each one then
/// counts toward the flow's memory budget.
async fn deliver(
    s: &Session,
    flow: &mut Flow,
    sides: &mut [Side; 2],
    budget: &mut Budget,
    mut queue: VecDeque<Value>,
) -> Result<(), End> {
    while let Some(message) = queue.pop_front() {
        let Some(list) = flow.websocket_messages_mut() else {
            return Ok(());
        };
        list.push(message);
        let n = list.len();
        match s.hook(Event::WebsocketMessage, flow).await {
            Hooked::Go => {}
            Hooked::Killed => return Err(killed()),
            Hooked::Panicked(e) => return Err(panicked(e)),
        }
        queue.extend(injected_since(flow, n));
        let Some(stored) = flow.websocket_messages().and_then(|l| l.get(n - 1)) else {
            continue;
        };
        let cost = spill::memory_of(stored);
        if let Some(message) = websocket::Message::new(stored)
            && !message.dropped()
        {
            // A client's message goes to the server, and the other way round.
            let to = &mut sides[usize::from(message.from_client())];
            let content = message.content().unwrap_or_default();
            let mut out = Vec::with_capacity(content.len() + 16);
            to.encoder.message(message.is_text(), content, &mut out);
            if let Err(e) = to.wire.io().write_all(&out).await {
                return Err(broken(to.from_client, &e.to_string()));
            }
        }
        if let Some(e) = budget.delivered(flow, cost) {
            s.log(
                crate::script::Level::Warn,
                &spill::failure_warning(flow, &e),
            );
        }
    }
    Ok(())
}

fn killed() -> End {
    End {
        closed_by_client: false,
        code: 1006,
        reason: None,
        error: Some("the flow was killed".into()),
        send: None,
    }
}

/// Killed from the view: both connections close (1006, no close frame),
/// with mitmproxy's kill error.
fn killed_by_view() -> End {
    End {
        closed_by_client: false,
        code: 1006,
        reason: None,
        error: Some("Connection killed.".into()),
        send: None,
    }
}

fn panicked(event: Event) -> End {
    let what = format!("a script's `{}` hook panicked", event.hook_name());
    End {
        closed_by_client: false,
        code: 1011,
        reason: Some(what.clone()),
        error: Some(what),
        send: Some(Some((1011, "internal error in the proxy".into()))),
    }
}

/// A side whose connection failed: 1006, as wsproto records it, and the
/// reason as the flow's error.
fn broken(from_client: bool, why: &str) -> End {
    let who = if from_client { "client" } else { "server" };
    End {
        closed_by_client: from_client,
        code: 1006,
        reason: None,
        error: Some(format!("the {who}'s connection failed: {why}")),
        send: None,
    }
}

/// A side that broke the protocol or the size limit: its close code and
/// the reason, sent to both sides, as wsproto does.
fn refused(from_client: bool, e: &WsError) -> End {
    let who = if from_client { "client" } else { "server" };
    let what = e.to_string();
    End {
        closed_by_client: from_client,
        code: e.close_code(),
        reason: Some(what.clone()),
        error: Some(format!("from the {who}: {what}")),
        send: Some(Some((e.close_code(), what))),
    }
}

/// The relay loop: `websocket_start`, then messages until a close.
async fn run(
    s: &Session,
    flow: &mut Flow,
    sides: &mut [Side; 2],
    budget: &mut Budget,
    closing: &mut watch::Receiver<bool>,
) -> Result<End, End> {
    let n = flow.websocket_messages().map_or(0, <[Value]>::len);
    match s.hook(Event::WebsocketStart, flow).await {
        Hooked::Go => {}
        Hooked::Killed => return Err(killed()),
        Hooked::Panicked(e) => return Err(panicked(e)),
    }
    let injected = injected_since(flow, n);
    deliver(s, flow, sides, budget, injected.into()).await?;
    // From here the flow may sit for hours: kept in its file form, and
    // the in-flight registry's snapshot shares that.
    flow.compact();
    s.track(flow);
    let mut kill = s.kill_signal();
    // Watched for the whole relay, not made anew for each read.
    let stop = async {
        tokio::select! {
            _ = kill.wait_for(|k| *k) => Err(killed_by_view()),
            _ = closing.wait_for(|c| *c) => Ok(End {
                closed_by_client: false,
                code: 1001,
                reason: Some("the proxy is shutting down".into()),
                error: None,
                send: Some(Some((1001, "the proxy is shutting down".into()))),
            }),
        }
    };
    tokio::pin!(stop);
    loop {
        // What each side has buffered is handled before reading more.
        for i in 0..2 {
            if let Some(end) = drain(s, flow, sides, budget, i).await? {
                return Ok(end);
            }
        }
        for side in sides.iter_mut() {
            side.wire.release_idle();
        }
        let [client, server] = sides;
        let (read, from) = tokio::select! {
            n = client.wire.read_more() => (n, 0),
            n = server.wire.read_more() => (n, 1),
            stop = &mut stop => return stop,
        };
        let from_client = from == 0;
        match read {
            Ok(0) => {
                // A close without a close frame is 1006, as wsproto
                // records it; one in the middle of a frame is an error.
                let who = if from_client { "client" } else { "server" };
                let cut = sides[from].wire.has_buffered().then(|| {
                    format!("the {who}'s connection closed in the middle of a WebSocket message")
                });
                return Ok(End {
                    closed_by_client: from_client,
                    code: 1006,
                    reason: None,
                    error: cut,
                    send: None,
                });
            }
            Ok(_) => {}
            Err(e) => return Err(broken(from_client, &e.to_string())),
        }
    }
}

/// Handles every whole frame side `i` has buffered; `Some` when it closed.
async fn drain(
    s: &Session,
    flow: &mut Flow,
    sides: &mut [Side; 2],
    budget: &mut Budget,
    i: usize,
) -> Result<Option<End>, End> {
    loop {
        let side = &mut sides[i];
        let from_client = side.from_client;
        let event = match side.decoder.decode(side.wire.buffered()) {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(None),
            Err(e) => return Err(refused(from_client, &e)),
        };
        let other = &mut sides[1 - i];
        let mut out = Vec::new();
        match event {
            // Nothing would read it (`keep`): sent straight on, counted.
            ws::Event::Message { text, payload } if !s.live.keeps_messages(Stream::WebSocket) => {
                other.encoder.message(text, &payload, &mut out);
                flow.count_unkept();
            }
            ws::Event::Message { text, payload } => {
                let message = websocket::message(text, from_client, payload, record::now(), false);
                deliver(s, flow, sides, budget, VecDeque::from([message])).await?;
                continue;
            }
            ws::Event::Ping(payload) => other.encoder.ping(&payload, &mut out),
            ws::Event::Pong(payload) => other.encoder.pong(&payload, &mut out),
            ws::Event::Close(close) => {
                let (code, reason) = close.clone().unwrap_or((1005, String::new()));
                return Ok(Some(End {
                    closed_by_client: from_client,
                    code,
                    reason: Some(reason),
                    error: None,
                    send: Some(close),
                }));
            }
        }
        if let Err(e) = other.wire.io().write_all(&out).await {
            return Err(broken(other.from_client, &e.to_string()));
        }
    }
}
