//! Offline mode: scripts over saved flows, in the documented order.
//!
//! `start`, then for each flow in file order `request_headers`, `request`,
//! then `response_headers` and `response` if it has a response, then
//! `error` if it has an error, then `done`. No connection event fires.
//! Each flow is written as soon as its events are done, so memory stays
//! flat and a failure later in the file loses nothing before it.

use std::fmt;
use std::io::{self, Read, Write};

use crate::flow::{Flow, FlowKind};
use crate::flowfile::{FlowReader, FlowWriter, ReadError};
use crate::script::{Event, Scripts};

/// What an offline run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Flows read, processed and (with a writer) written.
    pub flows: u64,
    /// Bytes of input consumed.
    pub bytes: u64,
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

/// Fires a saved flow's events, as mitmproxy does for flows it loads.
/// Whether there is a response or an error is checked after the hooks
/// before it, so a response set in `request` gets its `response` hooks.
pub fn replay_events(scripts: &mut Scripts, flow: &mut Flow) {
    if flow.kind() != FlowKind::Http || scripts.is_empty() {
        return;
    }
    scripts.flow_event(Event::RequestHeaders, flow, false);
    scripts.flow_event(Event::Request, flow, false);
    if flow.response().is_some() {
        scripts.flow_event(Event::ResponseHeaders, flow, false);
        scripts.flow_event(Event::Response, flow, false);
    }
    if flow.dict().get("error").and_then(|e| e.as_dict()).is_some() {
        scripts.flow_event(Event::Error, flow, false);
    }
}

/// Runs `scripts` over every flow of `reader`, writing each to `writer`
/// and showing it to `on_flow` once its events are done. Fires `start`
/// first and `done` last, even when the input turns out corrupt.
pub fn run<R: Read, W: Write>(
    scripts: &mut Scripts,
    reader: &mut FlowReader<R>,
    mut writer: Option<&mut FlowWriter<W>>,
    mut on_flow: impl FnMut(&Flow),
) -> Result<Stats, OfflineError> {
    scripts.start();
    let mut stats = Stats::default();
    let mut failure = None;
    while let Some(item) = reader.read_flow() {
        let mut flow = match item {
            Ok(flow) => flow,
            Err(e) => {
                failure = Some(OfflineError::Read(e, stats));
                break;
            }
        };
        replay_events(scripts, &mut flow);
        if let Some(Err(e)) = writer.as_deref_mut().map(|w| w.write_flow(&flow)) {
            failure = Some(OfflineError::Write(e, stats));
            break;
        }
        stats.flows += 1;
        stats.bytes = reader.offset();
        on_flow(&flow);
    }
    scripts.done();
    if let Some(Err(e)) = writer.map(FlowWriter::flush) {
        failure.get_or_insert(OfflineError::Write(e, stats));
    }
    match failure {
        None => Ok(stats),
        Some(OfflineError::Read(e, _)) => Err(OfflineError::Read(e, stats)),
        Some(OfflineError::Write(e, _)) => Err(OfflineError::Write(e, stats)),
    }
}
