//! Offline hooks over several flows at once, for scripts that mark their
//! hooks concurrent (`impl Concurrent`): mitmproxy's `@concurrent` offline.
//!
//! A flow goes to the worker threads when every event it can fire may run
//! for several flows at once ([`may_run_apart`]): each script
//! has no hook of its own for the event or marked its hook concurrent.
//! Whether a script has a hook of its own is known once the hook has been
//! called, so the first flow of each shape runs here, on the run's thread,
//! after every flow before it is done. So does any flow with an event
//! that a script hooks exclusively: a plain hook still sees the flows one
//! at a time, in order.
//!
//! Whatever ran where, the flows are written and shown in the input's
//! order, and each flow's log lines are said just before it, as they would
//! be one flow at a time: a worker holds its flow's lines
//! ([`crate::script::held`]) until the flow's turn.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

use super::{Batch, OfflineError, Out, Stats, replay_events};
use crate::filter::Filter;
use crate::flow::{Flow, FlowKind};
use crate::script::held::{self, Line};
use crate::script::{Event, Scripts};

/// Worker threads: hooks that wait (on a service, a file, a sleep) are
/// what concurrency is for, so there are more than cores.
const WORKERS: usize = 32;
/// Flows handed out and not yet written, at most: memory stays flat
/// behind a slow flow.
const IN_FLIGHT: usize = 128;

/// What every HTTP flow can fire. The response events count for every
/// one: a `request` hook may answer it.
const HTTP: [Event; 5] = [
    Event::RequestHeaders,
    Event::Request,
    Event::ResponseHeaders,
    Event::Response,
    Event::Update,
];
/// What an HTTP flow with a WebSocket fires besides (instead of `error`).
const WEBSOCKET: [Event; 3] = [
    Event::WebsocketStart,
    Event::WebsocketMessage,
    Event::WebsocketEnd,
];
const TCP: [Event; 5] = [
    Event::TcpStart,
    Event::TcpMessage,
    Event::TcpEnd,
    Event::TcpError,
    Event::Update,
];

/// Whether every event [`replay_events`] can fire for `flow` may run for
/// several flows at once.
fn may_run_apart(scripts: &Scripts, flow: &Flow) -> bool {
    match flow.kind() {
        FlowKind::Http => {
            scripts.concurrent_for(&HTTP)
                && if flow.websocket().is_some() {
                    scripts.concurrent_for(&WEBSOCKET)
                } else if flow.dict().get("error").is_some_and(|e| !e.is_null()) {
                    scripts.concurrent_for(&[Event::Error])
                } else {
                    true
                }
        }
        FlowKind::Tcp => scripts.concurrent_for(&TCP),
        _ => true,
    }
}

/// A flow's turn in the output, once it has come.
enum Done {
    /// Its events ran on a worker: the flow, the lines its hooks logged,
    /// the input offset after it.
    Ran(Flow, Vec<Line>, u64),
    /// The read filter skipped the flow that ended at this offset.
    Skipped(u64),
}

/// The flows handed out, and those finished before their turn.
struct Order {
    /// The next flow's number in the input.
    next_in: u64,
    /// The number of the next flow to go out.
    next_out: u64,
    /// Finished flows waiting for the ones before them.
    waiting: BTreeMap<u64, Done>,
    results: Receiver<(u64, Flow, Vec<Line>, u64)>,
}

impl Order {
    /// Flows handed out (or skipped) and not yet gone out.
    fn in_flight(&self) -> usize {
        usize::try_from(self.next_in - self.next_out).unwrap_or(usize::MAX)
    }

    /// Sends out every flow whose turn has come; `false` once a write has
    /// failed.
    fn send_out<W: Write, F: FnMut(Option<&Flow>, Stats)>(
        &mut self,
        scripts: &Scripts,
        out: &mut Out<'_, W, F>,
    ) -> bool {
        while let Some(done) = self.waiting.remove(&self.next_out) {
            self.next_out += 1;
            match done {
                Done::Skipped(offset) => out.skipped(offset),
                Done::Ran(flow, lines, offset) => {
                    for (script, level, line) in lines {
                        scripts.log().log(&script, level, &line);
                    }
                    if !out.done(&flow, offset) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Waits for one flow from the workers; `false` if none can come.
    fn wait_one(&mut self) -> bool {
        match self.results.recv() {
            Ok((n, flow, lines, offset)) => {
                self.waiting.insert(n, Done::Ran(flow, lines, offset));
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until every flow handed out has gone out; `false` if a write
    /// failed. After a failed write nothing more is written, but the
    /// hooks already under way finish.
    fn drain<W: Write, F: FnMut(Option<&Flow>, Stats)>(
        &mut self,
        scripts: &Scripts,
        out: &mut Out<'_, W, F>,
    ) -> bool {
        loop {
            if out.failure.is_none() {
                self.send_out(scripts, out);
            }
            if self.next_out == self.next_in {
                return out.failure.is_none();
            }
            if out.failure.is_some() {
                let pending = self.in_flight() - self.waiting.len();
                for _ in 0..pending {
                    if !self.wait_one() {
                        break;
                    }
                }
                break;
            }
            if !self.wait_one() {
                break;
            }
        }
        self.waiting.clear();
        self.next_out = self.next_in;
        false
    }
}

/// Runs the flows of `batches` with the hooks of flows that allow it on
/// worker threads; see the module's documentation.
pub(super) fn run<'scope, 'env, W: Write, F: FnMut(Option<&Flow>, Stats)>(
    scope: &'scope Scope<'scope, 'env>,
    scripts: &'env Scripts,
    batches: Receiver<Batch>,
    read: Option<&Filter>,
    out: &mut Out<'_, W, F>,
) {
    let (jobs, queue) = mpsc::sync_channel::<(u64, Flow, u64)>(IN_FLIGHT);
    let queue = Arc::new(Mutex::new(queue));
    let (results_tx, results) = mpsc::channel();
    for _ in 0..WORKERS {
        let queue = queue.clone();
        let results = results_tx.clone();
        scope.spawn(move || {
            loop {
                let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((n, mut flow, offset)) = job else {
                    return;
                };
                held::hold();
                replay_events(scripts, &mut flow);
                let lines = held::take();
                if results.send((n, flow, lines, offset)).is_err() {
                    return;
                }
            }
        });
    }
    drop(results_tx);
    let mut order = Order {
        next_in: 0,
        next_out: 0,
        waiting: BTreeMap::new(),
        results,
    };
    'batches: for batch in batches {
        for (mut flow, offset) in batch.flows {
            if read.is_some_and(|f| !f.matches(&flow)) {
                order.waiting.insert(order.next_in, Done::Skipped(offset));
                order.next_in += 1;
            } else if may_run_apart(scripts, &flow) {
                while order.in_flight() >= IN_FLIGHT {
                    if !order.wait_one() || !order.send_out(scripts, out) {
                        break 'batches;
                    }
                }
                if jobs.send((order.next_in, flow, offset)).is_err() {
                    break 'batches;
                }
                order.next_in += 1;
            } else {
                // An exclusive hook, or one not called yet: every flow
                // before this one goes out first, then its hooks run here.
                if !order.drain(scripts, out) {
                    break 'batches;
                }
                replay_events(scripts, &mut flow);
                order.next_in += 1;
                order.next_out += 1;
                if !out.done(&flow, offset) {
                    break 'batches;
                }
            }
            if !order.send_out(scripts, out) {
                break 'batches;
            }
        }
        if let Some(e) = batch.error {
            if order.drain(scripts, out) {
                out.failure = Some(OfflineError::Read(e, out.stats));
            }
            break;
        }
        // What has finished goes out between batches.
        while let Ok((n, flow, lines, offset)) = order.results.try_recv() {
            order.waiting.insert(n, Done::Ran(flow, lines, offset));
        }
        if !order.send_out(scripts, out) {
            break;
        }
    }
    // The workers stop once the queue is closed and empty.
    drop(jobs);
    order.drain(scripts, out);
}
