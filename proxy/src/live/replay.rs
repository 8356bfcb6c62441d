//! Client replay: flows sent again (mitmproxy's `replay.client`, `-C`, and
//! a script's `Context::replay`), and the copies scripts make
//! (`Context::duplicate`).
//!
//! A replayed flow goes through the one HTTP lifecycle, `exchange::run`,
//! as a flow from a client would: every hook in order, the server reached
//! as the request names it (through the upstream proxy in upstream mode),
//! errors recorded as flows. Its client is `Replayed`, a `Downstream` that
//! hands over the recorded request and takes whatever answer comes.
//! Requests wait in one queue: one at a time (`client_replay_concurrency`
//! 1, mitmproxy's default) or all at once (-1). Nothing here blocks the
//! thread that asks: a hook's request is a channel send.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};

use bytes::Bytes;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

use super::body::{Sink, Source};
use super::capture::OnFlow;
use super::exchange::{self, Downstream, Ending};
use super::failure::Failure;
use super::mode::Mode;
use super::record;
use super::state::{Live, Session};
use super::upstream::Pool;
use super::wire::Piece;
use crate::flow::Flow;
use crate::http::Which;
use crate::script::{Actions, Level};
use crate::tnetstring::Value;

/// How many replayed requests may be in flight (mitmproxy's
/// `client_replay_concurrency`, whose only values are 1 and -1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Concurrency {
    /// One at a time, in order (1).
    #[default]
    One,
    /// All at once (-1).
    Unlimited,
}

impl Concurrency {
    /// Reads `client_replay_concurrency`'s value.
    pub fn parse(value: &str) -> Option<Concurrency> {
        match value.trim() {
            "1" => Some(Concurrency::One),
            "-1" => Some(Concurrency::Unlimited),
            _ => None,
        }
    }
}

/// How the view's sends go out ([`Replayer::send`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Together {
    /// One after another, each when the one before it has ended.
    InTurn,
    /// All at once, whatever `client_replay_concurrency` says.
    AtOnce,
}

/// A replay's request, and whether it came from a `-C` file.
struct Job {
    flow: Flow,
    from_file: bool,
}

/// Sends flows again and brings scripts' copies into the run.
pub struct Replayer {
    live: Weak<Live>,
    handle: Handle,
    queue: mpsc::UnboundedSender<Job>,
    /// Flows taken on so far (replays and copies), each of which ends as
    /// one recorded flow, or as one abandoned.
    started: Arc<AtomicU64>,
    /// Flows whose task died (a bug) before recording them.
    abandoned: Arc<AtomicU64>,
    /// `-C` flows not yet finished, for the line that says they are.
    from_file: Arc<AtomicU64>,
    /// Set once the last `-C` flow has been recorded.
    file_done: Arc<watch::Sender<bool>>,
    /// What a replay needs, for the sends that go beside the queue.
    ctx: Ctx,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Replayer {
    /// A replayer for `live`'s scripts, running on `handle`: requests leave
    /// as `mode` says (regular: straight to the server the request names;
    /// upstream: through that proxy). `failure_note` is said after every
    /// failed replay's reason (offline: that a replay needs the network).
    pub fn start(
        live: &Arc<Live>,
        mode: Mode,
        handle: Handle,
        concurrency: Concurrency,
        failure_note: &'static str,
    ) -> Arc<Replayer> {
        let (queue, rx) = mpsc::unbounded_channel();
        let from_file = Arc::new(AtomicU64::new(0));
        let file_done = Arc::new(watch::Sender::new(false));
        let abandoned = Arc::new(AtomicU64::new(0));
        let ctx = Ctx {
            live: Arc::downgrade(live),
            mode: Arc::new(mode),
            failure_note,
            from_file: from_file.clone(),
            abandoned: abandoned.clone(),
            file_done: file_done.clone(),
        };
        handle.spawn(consume(ctx.clone(), rx, concurrency));
        Arc::new(Replayer {
            live: Arc::downgrade(live),
            handle,
            queue,
            started: Arc::new(AtomicU64::new(0)),
            abandoned,
            from_file,
            file_done,
            ctx,
        })
    }

    /// Queues recorded flows to be sent again in order (`-C`), skipping
    /// those that cannot be, with a warning each (mitmproxy's
    /// `start_replay`). Each keeps its id and is marked `is_replay:
    /// "request"`. Returns how many were queued.
    pub fn replay_file(&self, flows: Vec<Flow>) -> usize {
        let mut queued = 0;
        for mut flow in flows {
            if let Some(problem) = flow.replay_problem() {
                self.log(
                    Level::Warn,
                    &format!("flow {}: {problem}; skipped", flow.id()),
                );
                continue;
            }
            flow.prepare_replay();
            self.from_file.fetch_add(1, Ordering::Relaxed);
            self.push(Job {
                flow,
                from_file: true,
            });
            queued += 1;
        }
        queued
    }

    /// Sends `flows` now, beside the queue (the view's Compose): in turn
    /// or all at once ([`Together`]). Each keeps its id and is marked as
    /// a replay. Gives the ids, or why one of them cannot be sent (then
    /// none is).
    pub fn send(&self, flows: Vec<Flow>, together: Together) -> Result<Vec<String>, &'static str> {
        if let Some(problem) = flows.iter().find_map(Flow::replay_problem) {
            return Err(problem);
        }
        let ids = flows.iter().map(|f| f.id().to_owned()).collect();
        let jobs: Vec<Job> = flows
            .into_iter()
            .map(|mut flow| {
                flow.prepare_replay();
                Job {
                    flow,
                    from_file: false,
                }
            })
            .collect();
        self.started.fetch_add(jobs.len() as u64, Ordering::AcqRel);
        let ctx = self.ctx.clone();
        match together {
            Together::AtOnce => {
                for job in jobs {
                    self.handle.spawn(guarded(ctx.clone(), job));
                }
            }
            Together::InTurn => {
                self.handle.spawn(async move {
                    for job in jobs {
                        guarded(ctx.clone(), job).await;
                    }
                });
            }
        }
        Ok(ids)
    }

    /// Resolves once every flow [`replay_file`](Replayer::replay_file) has
    /// queued is recorded (at once if it queued none).
    pub async fn file_finished(&self) {
        let mut done = self.file_done.subscribe();
        let _ = done
            .wait_for(|done| *done || self.from_file.load(Ordering::Acquire) == 0)
            .await;
    }

    /// How many flows it has taken on (replays and copies); each ends as
    /// one recorded flow.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Acquire)
    }

    /// How many of them died (a bug, logged) without being recorded.
    pub fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Acquire)
    }

    fn push(&self, job: Job) {
        self.started.fetch_add(1, Ordering::AcqRel);
        if self.queue.send(job).is_err() {
            // The runtime is gone: nothing can be sent any more.
            self.started.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn log(&self, level: Level, what: &str) {
        if let Some(live) = self.live.upgrade() {
            live.scripts().log().log("replay", level, what);
        }
    }
}

impl Actions for Replayer {
    fn duplicate(&self, maker: usize, mut flow: Flow) {
        let Some(live) = self.live.upgrade() else {
            return;
        };
        self.started.fetch_add(1, Ordering::AcqRel);
        let abandoned = self.abandoned.clone();
        self.handle.spawn(async move {
            let scripts = live.clone();
            // The other scripts' hooks may block: not on an I/O thread.
            let seen = tokio::task::spawn_blocking(move || {
                scripts.scripts().flow_events_except(maker, &mut flow);
                flow
            })
            .await;
            match seen {
                Ok(flow) => live.record(&flow).await,
                Err(e) => abandon(&live, &abandoned, &format!("a copy was lost: {e}")),
            }
        });
    }

    fn replay(&self, flow: Flow) {
        self.push(Job {
            flow,
            from_file: false,
        });
    }
}

/// What every replay needs.
#[derive(Clone)]
struct Ctx {
    live: Weak<Live>,
    mode: Arc<Mode>,
    failure_note: &'static str,
    from_file: Arc<AtomicU64>,
    abandoned: Arc<AtomicU64>,
    file_done: Arc<watch::Sender<bool>>,
}

/// Counts a flow that will never be recorded (its task died: a bug), so
/// that an offline run waiting for it ends, and says so.
fn abandon(live: &Live, abandoned: &AtomicU64, what: &str) {
    abandoned.fetch_add(1, Ordering::AcqRel);
    live.scripts()
        .log()
        .log("replay", Level::Error, &format!("{what}; please report it"));
}

async fn consume(ctx: Ctx, mut rx: mpsc::UnboundedReceiver<Job>, concurrency: Concurrency) {
    while let Some(job) = rx.recv().await {
        // Each replay is a task of its own, so that one that dies (a bug)
        // is counted and the queue goes on.
        let guarded = guarded(ctx.clone(), job);
        match concurrency {
            Concurrency::One => guarded.await,
            Concurrency::Unlimited => {
                tokio::spawn(guarded);
            }
        }
    }
}

async fn guarded(ctx: Ctx, job: Job) {
    let (live, abandoned) = (ctx.live.clone(), ctx.abandoned.clone());
    if let Err(e) = tokio::spawn(run(ctx, job)).await
        && let Some(live) = live.upgrade()
    {
        abandon(&live, &abandoned, &format!("a replay was lost: {e}"));
    }
}

/// One replay, from its request to its recorded end.
async fn run(ctx: Ctx, job: Job) {
    let Some(live) = ctx.live.upgrade() else {
        return;
    };
    let mut flow = job.flow;
    let conn = flow
        .dict()
        .get("client_conn")
        .cloned()
        .unwrap_or(Value::Null);
    let mut session = Session::open(
        live.clone(),
        conn,
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        ctx.mode.clone(),
    );
    session.failure_note = ctx.failure_note;
    let now = record::now();
    let mut body = Bytes::new();
    if let Some(req) = flow.message_mut(Which::Request) {
        req.insert("timestamp_start", Value::Float(now));
        req.insert("timestamp_end", Value::Float(now));
        if let Some(content) = req.get("content").and_then(Value::as_bytes) {
            body = Bytes::copy_from_slice(content);
        }
    }
    let pool = Mutex::new(Pool::default());
    let mut client = Replayed { body: Some(body) };
    if let Ending::Upgrade(flow, _) = exchange::run(&session, &pool, &mut client, flow, false).await
    {
        // A server that switched protocols: a replay has no client to
        // carry on with, so the flow ends at its 101 (mitmproxy refuses
        // to replay WebSocket flows at all).
        session.finish(&flow).await;
    }
    session.close();
    if job.from_file && ctx.from_file.fetch_sub(1, Ordering::AcqRel) == 1 {
        ctx.file_done.send_replace(true);
    }
}

/// The client of a replayed flow: the recorded request body, and nobody
/// to answer.
struct Replayed {
    body: Option<Bytes>,
}

impl Downstream for Replayed {
    fn body_length(&self) -> Option<u64> {
        Some(self.body.as_ref().map_or(0, |b| b.len() as u64))
    }

    fn body(&mut self) -> Source<'_> {
        match self.body.take() {
            Some(body) if !body.is_empty() => {
                Source::Prefixed(VecDeque::from([Piece::Data(body)]), Box::new(Source::Empty))
            }
            _ => Source::Empty,
        }
    }

    async fn go_ahead(&mut self) {}

    async fn respond(&mut self, _flow: &Flow) -> bool {
        true
    }

    async fn respond_head(&mut self, _flow: &Flow, _length: Option<u64>) -> Option<Sink<'_>> {
        Some(Sink::Discard)
    }

    async fn refuse(&mut self, _failure: &Failure) {}

    fn kill(&mut self) {}
}

/// The flows a replayer finishes in an offline run: the replayer's `Live`
/// shows each to [`Collected::on_flow`], and the offline loop takes them
/// (`offline::Joining`) to write among the flows it reads.
pub struct Collected {
    queue: Mutex<VecDeque<Flow>>,
    ready: Condvar,
    taken: AtomicU64,
    replayer: Mutex<Option<Arc<Replayer>>>,
}

impl std::fmt::Debug for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collected")
            .field("taken", &self.taken.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Collected {
    /// An empty collection; give its `on_flow` to the `Live` the replayer
    /// runs on, then the replayer to [`Collected::watch`].
    pub fn new() -> Arc<Collected> {
        Arc::new(Collected {
            queue: Mutex::default(),
            ready: Condvar::new(),
            taken: AtomicU64::new(0),
            replayer: Mutex::new(None),
        })
    }

    /// What the `Live` shows each finished flow.
    pub fn on_flow(self: &Arc<Self>) -> OnFlow {
        let me = self.clone();
        Box::new(move |flow: &Flow| {
            me.queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back(flow.clone());
            me.ready.notify_all();
        })
    }

    /// The replayer whose flows these are: until it is set, nothing is in
    /// flight.
    pub fn watch(&self, replayer: Arc<Replayer>) {
        *self.replayer.lock().unwrap_or_else(|e| e.into_inner()) = Some(replayer);
    }

    fn started(&self) -> u64 {
        self.replayer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |r| r.started())
    }

    fn abandoned(&self) -> u64 {
        self.replayer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |r| r.abandoned())
    }
}

impl crate::offline::Joining for Collected {
    fn finished(&self, wait: bool) -> Vec<Flow> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if wait {
            while queue.is_empty()
                && self.taken.load(Ordering::Acquire) + self.abandoned() < self.started()
            {
                queue = self
                    .ready
                    .wait_timeout(queue, std::time::Duration::from_millis(100))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        let flows: Vec<Flow> = queue.drain(..).collect();
        self.taken.fetch_add(flows.len() as u64, Ordering::AcqRel);
        flows
    }
}
