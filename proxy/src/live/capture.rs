//! The capture thread: finished flows, in the order they finish, go to
//! the capture file (`-w`), the web view's session file and the flow
//! lines, from one thread fed by a bounded channel, so that no I/O thread
//! writes a file.
//!
//! A flow that a file wants is encoded on the I/O thread where it
//! finished, before it is handed over: its bytes are still in that core's
//! cache there, and when nothing needs the flow itself (no flow lines, no
//! HAR) it is freed by the thread that built it. The capture thread then
//! only copies bytes. The one encoding serves both files: they hold the
//! same flow format.

use std::io;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use crate::flow::Flow;
use crate::flowfile::{self, FlowWriter};
use crate::script::{Level, Scripts};
use crate::tnetstring::{self, Node};
use crate::view::row::Row;

/// What is shown each finished flow (the runner's flow lines).
pub type OnFlow = Box<dyn Fn(&Flow) + Send + Sync>;

/// What takes each finished flow as the flow file holds it (the web
/// view's session file), with its row in the flow list (read from the
/// flow where it finished, its place in the file still to be set).
pub type OnEncoded = Box<dyn Fn(&[u8], Row) + Send + Sync>;

/// Where finished flows go. With none of them, no thread is started.
#[derive(Default)]
pub struct Sinks {
    /// The capture file (`-w`).
    pub capture: Option<FlowWriter<Box<dyn io::Write + Send>>>,
    /// What needs the flow itself (flow lines, HAR, a save filter).
    pub on_flow: Option<OnFlow>,
    /// What needs the flow's bytes (the web view).
    pub on_encoded: Option<OnEncoded>,
    /// `on_flow` only shows flow lines: of a stream it reads how many
    /// messages there were, never the messages. With this and nothing
    /// else to read them, a stream's messages are relayed without being
    /// kept (`live::keep`).
    pub lines_only: bool,
}

impl std::fmt::Debug for Sinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sinks")
            .field("capture", &self.capture.is_some())
            .field("on_flow", &self.on_flow.is_some())
            .field("on_encoded", &self.on_encoded.is_some())
            .field("lines_only", &self.lines_only)
            .finish()
    }
}

/// What the capture thread takes, in order: finished flows, and log lines
/// that must come after the flows before them.
enum Recorded {
    /// A flow to encode on the capture thread (one whose older messages
    /// are in a spill file, which only that thread reads).
    Flow(Flow),
    /// A flow encoded where it finished; the flow too when `on_flow`
    /// needs it, and its row when `on_encoded` does.
    Encoded(Option<Flow>, Vec<u8>, Option<Row>),
    Note(&'static str, String),
}

/// The capture thread and the channel to it. Each session holds a
/// [`Handle`] of its own; [`close`](Recorder::close) drops this one, the
/// last, and waits for the thread to drain the queue.
pub(super) struct Recorder {
    tx: Mutex<Option<Handle>>,
    thread: Mutex<Option<JoinHandle<io::Result<()>>>>,
    /// A sink reads a stream's messages: the capture file, the view, or
    /// an `on_flow` that is more than flow lines.
    reads_messages: bool,
}

/// A way to hand finished flows to the capture thread.
#[derive(Clone, Debug)]
pub(super) struct Handle {
    tx: mpsc::Sender<Recorded>,
    /// A file wants the flow's bytes.
    encodes: bool,
    /// Something needs the flow itself.
    keeps_flow: bool,
    /// The view needs the flow's row.
    rows: bool,
}

impl Recorder {
    /// Starts the thread, unless there is nowhere for flows to go.
    pub(super) fn start(sinks: Sinks, scripts: Arc<Scripts>) -> Recorder {
        let reads_messages = sinks.capture.is_some()
            || sinks.on_encoded.is_some()
            || (sinks.on_flow.is_some() && !sinks.lines_only);
        if sinks.capture.is_none() && sinks.on_flow.is_none() && sinks.on_encoded.is_none() {
            return Recorder {
                tx: Mutex::new(None),
                thread: Mutex::new(None),
                reads_messages,
            };
        }
        let (tx, rx) = mpsc::channel(4096);
        let handle = Handle {
            tx,
            encodes: sinks.capture.is_some() || sinks.on_encoded.is_some(),
            keeps_flow: sinks.on_flow.is_some(),
            rows: sinks.on_encoded.is_some(),
        };
        let thread = std::thread::Builder::new()
            .name("waylay-capture".into())
            .spawn(move || record_flows(rx, sinks, scripts))
            .expect("a thread for the capture file");
        Recorder {
            tx: Mutex::new(Some(handle)),
            thread: Mutex::new(Some(thread)),
            reads_messages,
        }
    }

    /// Whether a sink reads a stream's messages (not only their count).
    pub(super) fn reads_messages(&self) -> bool {
        self.reads_messages
    }

    /// A handle for a session, while the thread runs.
    pub(super) fn handle(&self) -> Option<Handle> {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Drops the last handle and waits for the thread to write what is
    /// queued. Call it once every session's handle is gone.
    pub(super) fn close(&self) -> io::Result<()> {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        match thread {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the capture thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Handle {
    /// What to send for `flow`: encoded here when a file wants it (and
    /// its messages are all in memory), with its row for the view read
    /// from the built flow here too (cheaper than scanning the bytes, and
    /// off the one capture thread).
    fn recorded(&self, flow: &Flow) -> Recorded {
        if self.encodes && flow.spill().is_none() {
            let mut bytes = Vec::new();
            tnetstring::write(flow.as_value(), &mut bytes);
            let row = self.rows.then(|| Row::of(flow, 0, 0));
            Recorded::Encoded(self.keeps_flow.then(|| flow.clone()), bytes, row)
        } else {
            Recorded::Flow(flow.clone())
        }
    }
}

/// Hands a finished flow to the capture thread, if there is one.
pub(super) async fn record(handle: Option<&Handle>, scripts: &Scripts, flow: &Flow) {
    let Some(handle) = handle else {
        return;
    };
    if handle.tx.send(handle.recorded(flow)).await.is_err() {
        too_late(scripts, flow);
    }
}

/// [`record`] from a thread outside the async runtime: waits for room in
/// the queue rather than awaiting it.
pub(super) fn record_blocking(handle: Option<&Handle>, scripts: &Scripts, flow: &Flow) {
    if let Some(handle) = handle
        && handle.tx.blocking_send(handle.recorded(flow)).is_err()
    {
        too_late(scripts, flow);
    }
}

/// Logs `what` (at info level) once the flows recorded before it are
/// written and shown; at once when there is no capture thread.
pub(super) async fn note(
    handle: Option<&Handle>,
    scripts: &Scripts,
    source: &'static str,
    what: String,
) {
    let note = Recorded::Note(source, what);
    let unsent = match handle {
        Some(handle) => handle.tx.send(note).await.err().map(|e| e.0),
        None => Some(note),
    };
    if let Some(Recorded::Note(source, what)) = unsent {
        scripts.log().log(source, Level::Info, &what);
    }
}

/// Says that `flow` finished when nothing could record it any more.
fn too_late(scripts: &Scripts, flow: &Flow) {
    scripts.log().log(
        "capture",
        Level::Error,
        &format!(
            "flow {} finished after the capture file was closed",
            flow.id()
        ),
    );
}

/// The id of an encoded flow, for an error message.
fn id_of(bytes: &[u8]) -> &str {
    tnetstring::Item::whole(bytes)
        .and_then(|flow| flow.get("id"))
        .and_then(Node::str)
        .unwrap_or("?")
}

/// Writes finished flows until every sender is gone: the capture file
/// (flushed whenever the queue runs dry, so little is lost if the process
/// dies), the view, then the output line. Under load it takes the queue
/// in batches and naps between them, so that the proxy's threads are not
/// waking it for every flow.
fn record_flows(
    mut rx: mpsc::Receiver<Recorded>,
    mut sinks: Sinks,
    scripts: Arc<Scripts>,
) -> io::Result<()> {
    let mut scratch = Vec::new();
    let mut take = |recorded: Recorded, sinks: &mut Sinks| {
        let failed = |id: &str, e: io::Error| {
            scripts.log().log(
                "capture",
                Level::Error,
                &format!("cannot write flow {id}: {e}"),
            );
        };
        let (flow, bytes, row) = match recorded {
            Recorded::Note(source, what) => {
                scripts.log().log(source, Level::Info, &what);
                return;
            }
            Recorded::Encoded(flow, bytes, row) => {
                if let Some(w) = &mut sinks.capture
                    && let Err(e) = w.write_encoded(&bytes)
                {
                    failed(id_of(&bytes), e);
                }
                (flow, Some(bytes), row)
            }
            Recorded::Flow(flow) => {
                if let Some(w) = &mut sinks.capture
                    && let Err(e) = w.write_flow(&flow)
                {
                    failed(flow.id(), e);
                }
                (Some(flow), None, None)
            }
        };
        if let Some(on_encoded) = &sinks.on_encoded {
            match (&bytes, row, &flow) {
                (Some(bytes), Some(row), _) => on_encoded(bytes, row),
                (_, _, Some(flow)) => {
                    // Its older messages are in the spill file: the row
                    // counts them from the bytes.
                    scratch.clear();
                    match flowfile::encode(flow, &mut scratch) {
                        Ok(()) => match Row::scan(&scratch, 0) {
                            Some(row) => on_encoded(&scratch, row),
                            None => failed(flow.id(), io::Error::other("it does not read back")),
                        },
                        Err(e) => failed(flow.id(), e),
                    }
                }
                _ => {}
            }
        }
        if let (Some(on_flow), Some(flow)) = (&sinks.on_flow, &flow) {
            on_flow(flow);
        }
    };
    while let Some(first) = rx.blocking_recv() {
        take(first, &mut sinks);
        let mut taken = 1;
        while let Ok(next) = rx.try_recv() {
            take(next, &mut sinks);
            taken += 1;
        }
        if let Some(w) = &mut sinks.capture
            && let Err(e) = w.flush()
        {
            scripts
                .log()
                .log("capture", Level::Error, &format!("cannot write flows: {e}"));
        }
        if taken > 1 {
            // Busy: let a batch gather (the queue holds thousands).
            std::thread::sleep(RECORD_NAP);
        }
    }
    match &mut sinks.capture {
        Some(w) => w.flush(),
        None => Ok(()),
    }
}

/// How long the capture thread naps between batches when flows come
/// faster than one at a time.
const RECORD_NAP: std::time::Duration = std::time::Duration::from_millis(1);
