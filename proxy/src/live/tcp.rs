//! TCP flows, as mitmproxy 11's TCP layer relays them: `tcp_start`, then
//! each chunk read from either side is a message (`tcp_message`; a script
//! may change it, empty it so nothing is sent, or inject its own), passed
//! on; a side that closes is half-closed toward the other, and once both
//! have closed the flow ends with `tcp_end`. A server that cannot be
//! reached (`failed`), a killed flow or a panicking hook end it with
//! `tcp_error` instead, the flow's error set.

use std::collections::VecDeque;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::failure::Failure;
use super::handoff::Handoff;
use super::keep::Stream;
use super::record;
use super::state::{Hooked, Session};
use super::wire::{BoxIo, Reader};
use crate::flow::spill::{self, Budget};
use crate::flow::{Flow, tcp};
use crate::script::{Event, Level};
use crate::tnetstring::Value;

/// Runs `event`; a killed flow or a panicking hook ends the relay.
async fn hook(s: &Session, event: Event, flow: &mut Flow) -> Result<(), ()> {
    match s.hook(event, flow).await {
        Hooked::Go => Ok(()),
        Hooked::Killed => {
            flow.set_error("the flow was killed", record::now());
            Err(())
        }
        Hooked::Panicked(e) => {
            let what = format!("a script's `{}` hook panicked", e.hook_name());
            flow.set_error(&what, record::now());
            Err(())
        }
    }
}

/// Runs `tcp_message` for each queued message and sends each on; the
/// messages a hook appends (injections) join the queue.
async fn deliver(
    s: &Session,
    flow: &mut Flow,
    sides: &mut [Reader<BoxIo>; 2],
    budget: &mut Budget,
    mut queue: VecDeque<Value>,
) -> Result<(), ()> {
    while let Some(message) = queue.pop_front() {
        let Some(list) = flow.tcp_messages_mut() else {
            return Ok(());
        };
        list.push(message);
        let n = list.len();
        hook(s, Event::TcpMessage, flow).await?;
        if let Some(list) = flow.tcp_messages_mut()
            && list.len() > n
        {
            queue.extend(list.split_off(n));
        }
        let Some(stored) = flow.tcp_messages().and_then(|l| l.get(n - 1)) else {
            continue;
        };
        let cost = spill::memory_of(stored);
        // An emptied message (a script's `drop()`) sends nothing.
        if let Some(message) = tcp::Message::new(stored)
            && let Some(content) = message.content().filter(|c| !c.is_empty())
        {
            // A client's message goes to the server, and the other way round.
            let to = &mut sides[usize::from(message.from_client())];
            if to.io().write_all(content).await.is_err() {
                return Err(());
            }
        }
        if let Some(e) = budget.delivered(flow, cost) {
            s.log(Level::Warn, &spill::failure_warning(flow, &e));
        }
    }
    Ok(())
}

/// Why a relay stops before both sides have closed.
enum Stop {
    /// The proxy is shutting down.
    Closing,
    /// The view killed the flow.
    Killed,
}

/// Passes on what side `from` has buffered, as one message: kept in the
/// flow and shown to the scripts, or, when nothing would read it
/// ([`keep`](super::keep)), sent straight on and counted.
async fn pass_on(
    s: &Session,
    flow: &mut Flow,
    sides: &mut [Reader<BoxIo>; 2],
    budget: &mut Budget,
    from: usize,
) -> Result<(), ()> {
    if s.live.keeps_messages(Stream::Tcp) {
        let data = sides[from].buffered().split().freeze();
        let message = tcp::message(from == 0, data, record::now());
        return deliver(s, flow, sides, budget, VecDeque::from([message])).await;
    }
    let [client, server] = sides;
    let (src, dst) = if from == 0 {
        (client, server)
    } else {
        (server, client)
    };
    let data = src.buffered();
    let sent = dst.io().write_all(data).await;
    data.clear();
    flow.count_unkept();
    sent.map_err(drop)
}

/// Relays a TCP flow between `client` and `server` to its end.
pub async fn relay(
    s: &Session,
    client: Reader<BoxIo>,
    server: Reader<BoxIo>,
    server_conn: Value,
    closing: &mut watch::Receiver<bool>,
) -> Handoff {
    let mut flow = Flow::new_tcp(
        &record::new_id(),
        s.conn.clone(),
        server_conn,
        record::now(),
    );
    s.track(&flow);
    s.relays();
    let mut sides = [client, server];
    // A side that broke off ends the flow as a close does (mitmproxy's
    // layer sees a closed connection); a kill or a panicking hook leaves
    // its error on the flow, and then the end is `tcp_error`.
    let _ = run(s, &mut flow, &mut sides, closing).await;
    for side in &mut sides {
        let _ = side.io().shutdown().await;
    }
    let end = if flow.error_msg().is_some() {
        Event::TcpError
    } else {
        Event::TcpEnd
    };
    let _ = s.hook(end, &mut flow).await;
    s.finish(&flow).await;
    Handoff::Done
}

/// A TCP flow whose server could not be reached: `tcp_start`, then the
/// error and `tcp_error`, as mitmproxy's layer does when it opens the
/// server connection itself.
pub async fn failed(s: &Session, mut client: Reader<BoxIo>, failure: Failure) -> Handoff {
    let mut flow = Flow::new_tcp(
        &record::new_id(),
        s.conn.clone(),
        record::unconnected_server(),
        record::now(),
    );
    let _ = s.hook(Event::TcpStart, &mut flow).await;
    flow.set_error(&failure.to_string(), record::now());
    let _ = s.hook(Event::TcpError, &mut flow).await;
    s.finish(&flow).await;
    s.log(Level::Warn, &failure.to_string());
    let _ = client.io().shutdown().await;
    Handoff::Done
}

async fn run(
    s: &Session,
    flow: &mut Flow,
    sides: &mut [Reader<BoxIo>; 2],
    closing: &mut watch::Receiver<bool>,
) -> Result<(), ()> {
    hook(s, Event::TcpStart, flow).await?;
    let budget = &mut Budget::new(s.live.options.stream_messages_memory);
    // Messages `tcp_start` injected. With none, the flow is not touched: a
    // change would copy it away from the in-flight registry's snapshot.
    if flow.tcp_messages().is_some_and(|list| !list.is_empty())
        && let Some(list) = flow.tcp_messages_mut()
    {
        let injected = std::mem::take(list);
        deliver(s, flow, sides, budget, injected.into()).await?;
    }
    let mut open = [true, true];
    let mut kill = s.kill_signal();
    // Watched for the whole relay, not made anew for each read.
    let stop = async {
        tokio::select! {
            _ = closing.wait_for(|c| *c) => Stop::Closing,
            _ = kill.wait_for(|k| *k) => Stop::Killed,
        }
    };
    tokio::pin!(stop);
    // Bytes a side sent before the relay began (the first bytes read to
    // tell protocols apart, a server that spoke first) are messages too.
    for from in 0..2 {
        if sides[from].has_buffered() {
            pass_on(s, flow, sides, budget, from).await?;
        }
    }
    while open[0] || open[1] {
        for side in sides.iter_mut() {
            side.release_idle();
        }
        let [client, server] = &mut *sides;
        let (read, from) = tokio::select! {
            n = client.read_more(), if open[0] => (n, 0),
            n = server.read_more(), if open[1] => (n, 1),
            stop = &mut stop => match stop {
                Stop::Closing => return Ok(()),
                Stop::Killed => {
                    flow.set_error("Connection killed.", record::now());
                    return Err(());
                }
            },
        };
        match read {
            Ok(0) => {
                // Half-close: the other side may still answer.
                open[from] = false;
                let _ = sides[1 - from].io().shutdown().await;
            }
            Ok(_) => pass_on(s, flow, sides, budget, from).await?,
            Err(e) => {
                let who = if from == 0 { "client" } else { "server" };
                s.log(
                    Level::Info,
                    &format!("the {who}'s side of a TCP flow failed: {e}"),
                );
                return Ok(());
            }
        }
    }
    Ok(())
}
