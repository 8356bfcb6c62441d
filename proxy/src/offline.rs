//! Offline mode: scripts over saved flows, in the documented order.
//!
//! `start`, then for each flow in file order `request_headers`, `request`,
//! then `response_headers` and `response` if it has a response, then
//! `websocket_start`, one `websocket_message` per message and
//! `websocket_end` if it has a WebSocket, or else `error` if it has an
//! error; a TCP flow gets `tcp_start`, one `tcp_message` per message, then
//! `tcp_error` if it has an error or else `tcp_end`; then `done`. No
//! connection event fires.
//! Each flow is written as soon as its events are done, so memory stays
//! flat and a failure later in the file loses nothing before it.

use std::fmt;
use std::io::{self, Read, Write};

use crate::filter::Filter;
use crate::flow::{Flow, FlowKind};
use crate::flowfile::{FlowReader, FlowWriter, ReadError};
use crate::script::{Event, Scripts};
use crate::tnetstring::Value;

mod parallel;

/// What an offline run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Flows read, processed and (with a writer) written.
    pub flows: u64,
    /// Bytes of input consumed.
    pub bytes: u64,
    /// Flows the read filter skipped (no events, not written).
    pub skipped: u64,
    /// Processed flows the save filter kept out of the output.
    pub unsaved: u64,
    /// Flows that joined the run (copies, replays), written among the
    /// others (those the save filter kept out are counted in `unsaved`).
    pub joined: u64,
}

/// Which flows an offline run reads and saves: mitmproxy's
/// `readfile_filter` and `save_stream_filter`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Selection<'a> {
    /// A flow it does not match is skipped entirely: no events, not
    /// written, not shown. Matched on the reading thread.
    pub read: Option<&'a Filter>,
    /// A flow it does not match after its events is not written.
    pub save: Option<&'a Filter>,
}

/// Flows that join an offline run besides those it reads: copies and
/// replays scripts make, and `-C`'s replays (`live::replay::Collected`).
/// They are written among the flows read, as they finish, and the run
/// waits for the last of them before `done`.
pub trait Joining {
    /// The flows finished since the last call. With `wait`, blocks until
    /// at least one more has finished, and returns none only when none is
    /// left in flight.
    fn finished(&self, wait: bool) -> Vec<Flow>;
}

/// Why an offline run stopped early. The flows before the failure were
/// processed and written, and `done` has fired.
#[derive(Debug)]
pub enum OfflineError {
    /// The input is unreadable from here on.
    Read(ReadError, Stats),
    /// The output could not be written.
    Write(io::Error, Stats),
}

impl fmt::Display for OfflineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OfflineError::Read(e, _) => e.fmt(f),
            OfflineError::Write(e, _) => write!(f, "write failed: {e}"),
        }
    }
}

impl std::error::Error for OfflineError {}

/// Fires a saved flow's events, as mitmproxy does for flows it loads
/// (`eventsequence.iterate`). Whether there is a response, a WebSocket or
/// an error is checked after the hooks before it, so a response set in
/// `request` gets its `response` hooks. A flow with a WebSocket gets its
/// events instead of `error`, as in mitmproxy. A TCP flow gets the TCP
/// events; UDP and DNS flows, none.
pub fn replay_events(scripts: &Scripts, flow: &mut Flow) {
    if scripts.is_empty() {
        return;
    }
    match flow.kind() {
        FlowKind::Http => {}
        FlowKind::Tcp => return replay_tcp(scripts, flow),
        _ => return,
    }
    scripts.flow_event(Event::RequestHeaders, flow, false);
    scripts.flow_event(Event::Request, flow, false);
    if flow.response().is_some() {
        scripts.flow_event(Event::ResponseHeaders, flow, false);
        scripts.flow_event(Event::Response, flow, false);
    }
    if flow.websocket().is_some() {
        replay_websocket(scripts, flow);
    } else if flow.dict().get("error").and_then(|e| e.as_dict()).is_some() {
        scripts.flow_event(Event::Error, flow, false);
    }
}

/// `websocket_start`, then the stored messages put back one at a time,
/// each followed by `websocket_message`, then `websocket_end`: each hook
/// sees the messages up to the one it is about. A flow the hooks left as
/// it was is put back as read, so it is written byte for byte.
fn replay_websocket(scripts: &Scripts, flow: &mut Flow) {
    let events = [
        Event::WebsocketStart,
        Event::WebsocketMessage,
        Event::WebsocketEnd,
    ];
    if !events.into_iter().any(|e| scripts.wants(e)) {
        return;
    }
    let before = flow.clone();
    let stored = flow
        .websocket_messages_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    scripts.flow_event(Event::WebsocketStart, flow, false);
    for message in stored {
        let Some(messages) = flow.websocket_messages_mut() else {
            break;
        };
        messages.push(message);
        scripts.flow_event(Event::WebsocketMessage, flow, false);
    }
    scripts.flow_event(Event::WebsocketEnd, flow, false);
    if *flow == before {
        *flow = before;
    }
}

/// mitmproxy's `_iterate_tcp`: `tcp_start`, then the stored messages put
/// back one at a time, each followed by `tcp_message`, then `tcp_error` if
/// the flow has an error (checked after the messages' hooks), else
/// `tcp_end`. A flow the hooks left as it was is put back as read, so it
/// is written byte for byte.
fn replay_tcp(scripts: &Scripts, flow: &mut Flow) {
    let events = [
        Event::TcpStart,
        Event::TcpMessage,
        Event::TcpEnd,
        Event::TcpError,
    ];
    if !events.into_iter().any(|e| scripts.wants(e)) {
        return;
    }
    let before = flow.clone();
    let stored = flow
        .tcp_messages_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    scripts.flow_event(Event::TcpStart, flow, false);
    for message in stored {
        if flow.push_tcp_value(message).is_none() {
            break;
        }
        scripts.flow_event(Event::TcpMessage, flow, false);
    }
    let failed = flow.dict().get("error").and_then(Value::as_dict).is_some();
    let last = if failed {
        Event::TcpError
    } else {
        Event::TcpEnd
    };
    scripts.flow_event(last, flow, false);
    if *flow == before {
        *flow = before;
    }
}

/// Flows read ahead, with the input offset after each.
#[derive(Default)]
struct Batch {
    /// Each flow and the input offset after it.
    flows: Vec<(Flow, u64)>,
    /// The read error that ended the input, after `flows`.
    error: Option<ReadError>,
    /// The input ended cleanly after `flows`.
    end: bool,
}

/// Bounds on a batch: a few flows or a megabyte, whichever comes first,
/// so that reading ahead keeps memory flat whatever the flows' sizes.
const BATCH_FLOWS: usize = 64;
const BATCH_BYTES: u64 = 1 << 20;
/// Batches in flight between the threads.
const BATCHES_AHEAD: usize = 4;

/// Reads a batch; with `prebuild`, also builds what the events read.
fn read_batch<R: Read>(reader: &mut FlowReader<R>, prebuild: bool) -> Batch {
    let mut batch = Batch::default();
    let start = reader.offset();
    // A batch takes what is already read; it never waits on a slow source
    // (a pipe) while holding flows back.
    while batch.flows.len() < BATCH_FLOWS
        && reader.offset() - start < BATCH_BYTES
        && (batch.flows.is_empty() || reader.buffered() > 0)
    {
        match reader.read_flow() {
            Some(Ok(flow)) => {
                if !prebuild {
                    batch.flows.push((flow, reader.offset()));
                    continue;
                }
                // Build what every flow's events read here, off the thread
                // that runs the scripts.
                match flow.kind() {
                    FlowKind::Http => {
                        let _ = (
                            flow.response(),
                            flow.dict().get("error").map(Value::as_dict),
                            flow.websocket_messages(),
                        );
                    }
                    FlowKind::Tcp => {
                        let _ = (
                            flow.dict().get("error").map(Value::as_dict),
                            flow.tcp_messages(),
                        );
                    }
                    _ => {}
                }
                batch.flows.push((flow, reader.offset()));
            }
            Some(Err(e)) => {
                batch.error = Some(e);
                return batch;
            }
            None => {
                batch.end = true;
                return batch;
            }
        }
    }
    batch
}

/// Runs `scripts` over every flow of `reader`, writing each to `writer`
/// and showing it to `on_flow` once its events are done. Fires `start`
/// first and `done` last, even when the input turns out corrupt.
///
/// Reading and checking the input runs on a second thread, a few batches
/// ahead of the scripts and the writer on this one.
pub fn run<R: Read + Send, W: Write>(
    scripts: &Scripts,
    reader: &mut FlowReader<R>,
    writer: Option<&mut FlowWriter<W>>,
    mut on_flow: impl FnMut(&Flow),
) -> Result<Stats, OfflineError> {
    run_selected(
        scripts,
        reader,
        writer,
        Selection::default(),
        None,
        |flow, _| {
            if let Some(flow) = flow {
                on_flow(flow);
            }
        },
    )
}

/// [`run`] with a [`Selection`]; `on_flow` hears of every flow read, with
/// the run's progress: the flow once its events are done, or `None` for
/// one the read filter skipped. Flows of `joining` are written (and shown)
/// as they finish, between the flows read, and waited for at the end.
pub fn run_selected<R: Read + Send, W: Write>(
    scripts: &Scripts,
    reader: &mut FlowReader<R>,
    writer: Option<&mut FlowWriter<W>>,
    selection: Selection<'_>,
    joining: Option<&dyn Joining>,
    on_flow: impl FnMut(Option<&Flow>, Stats),
) -> Result<Stats, OfflineError> {
    // With nothing to change the flows, a save filter that is the read
    // filter (mitmdump's positional FILTER sets both) has already said yes.
    let save = selection.save.filter(|save| {
        !(scripts.is_empty() && selection.read.is_some_and(|read| std::ptr::eq(read, *save)))
    });
    scripts.start();
    scripts.running();
    let mut out = Out {
        writer,
        save,
        joining,
        on_flow,
        stats: Stats::default(),
        failure: None,
    };
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
        scope.spawn(move || {
            loop {
                // A read filter reads the flow on this side: the reading
                // thread checks, the other builds, matches and writes.
                let batch = read_batch(reader, selection.read.is_none());
                let last = batch.end || batch.error.is_some();
                // A closed channel means the consumer stopped (a write failed).
                if tx.send(batch).is_err() || last {
                    break;
                }
            }
        });
        if scripts.any_concurrent() {
            return parallel::run(scope, scripts, rx, selection.read, &mut out);
        }
        'batches: for batch in rx {
            for (mut flow, offset) in batch.flows {
                if selection.read.is_some_and(|f| !f.matches(&flow)) {
                    out.skipped(offset);
                    continue;
                }
                replay_events(scripts, &mut flow);
                if !out.done(&flow, offset) {
                    break 'batches;
                }
            }
            if let Some(e) = batch.error {
                out.failure = Some(OfflineError::Read(e, out.stats));
            }
        }
    });
    out.finish(scripts)
}

/// Where the flows of a run go once their events are done, in the input's
/// order: the save filter, the writer, the counts, `on_flow`, and between
/// them the flows that joined the run meanwhile.
struct Out<'a, W: Write, F: FnMut(Option<&Flow>, Stats)> {
    writer: Option<&'a mut FlowWriter<W>>,
    save: Option<&'a Filter>,
    joining: Option<&'a dyn Joining>,
    on_flow: F,
    stats: Stats,
    failure: Option<OfflineError>,
}

impl<W: Write, F: FnMut(Option<&Flow>, Stats)> Out<'_, W, F> {
    /// The read filter skipped the flow that ended at `offset`.
    fn skipped(&mut self, offset: u64) {
        self.stats.skipped += 1;
        self.stats.bytes = offset;
        (self.on_flow)(None, self.stats);
    }

    /// A flow's events are done: it is saved, written and shown, then the
    /// flows that joined meanwhile. `false` once a write has failed: the
    /// run stops.
    fn done(&mut self, flow: &Flow, offset: u64) -> bool {
        if self.save.is_some_and(|f| !f.matches(flow)) {
            self.stats.unsaved += 1;
        } else if let Some(Err(e)) = self.writer.as_deref_mut().map(|w| w.write_flow(flow)) {
            self.failure = Some(OfflineError::Write(e, self.stats));
            return false;
        }
        self.stats.flows += 1;
        self.stats.bytes = offset;
        (self.on_flow)(Some(flow), self.stats);
        match self.joining {
            Some(joining) => self.join(joining.finished(false)),
            None => true,
        }
    }

    /// Writes and shows flows that joined the run; `false` if a write
    /// failed.
    fn join(&mut self, flows: Vec<Flow>) -> bool {
        for flow in flows {
            self.stats.joined += 1;
            if self.save.is_some_and(|f| !f.matches(&flow)) {
                self.stats.unsaved += 1;
            } else if let Some(w) = self.writer.as_deref_mut()
                && let Err(e) = w.write_flow(&flow)
            {
                self.failure = Some(OfflineError::Write(e, self.stats));
                return false;
            }
            (self.on_flow)(Some(&flow), self.stats);
        }
        true
    }

    /// What is still in flight joins before `done`, even after a failure
    /// (nothing finished is lost); a failed writer takes no more. Then
    /// `done`, and the writer flushed.
    fn finish(mut self, scripts: &Scripts) -> Result<Stats, OfflineError> {
        while let Some(joining) = self.joining {
            let joined = joining.finished(true);
            if joined.is_empty() {
                break;
            }
            if matches!(self.failure, Some(OfflineError::Write(..))) {
                continue;
            }
            self.join(joined);
        }
        scripts.done();
        let stats = self.stats;
        if let Some(Err(e)) = self.writer.map(FlowWriter::flush) {
            self.failure.get_or_insert(OfflineError::Write(e, stats));
        }
        match self.failure {
            None => Ok(stats),
            Some(OfflineError::Read(e, _)) => Err(OfflineError::Read(e, stats)),
            Some(OfflineError::Write(e, _)) => Err(OfflineError::Write(e, stats)),
        }
    }
}
