//! What the live proxy shares: its options, the scripts, the capture
//! thread (`capture`), and the flows still in flight, kept per connection so that no
//! lock shared by every connection is taken per flow. `Session` is one
//! client connection's view of it.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::capture::{self, OnFlow, Recorder, Sinks};
use super::mode::Mode;
use super::notify::{Notifier, Notify, Pending};
use super::options::Options;
use super::record;
use crate::flow::Flow;
use crate::flowfile::FlowWriter;
use crate::script::{Event, Level, NotNow, Outcome, Scripts};
use crate::tnetstring::Value;

/// What a hook call left the flow fit for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hooked {
    Go,
    Killed,
    /// A hook panicked: the flow fails.
    Panicked(Event),
}

impl Hooked {
    fn from(event: Event, outcome: Outcome) -> Hooked {
        if outcome.killed {
            Hooked::Killed
        } else if outcome.panics > 0 {
            Hooked::Panicked(event)
        } else {
            Hooked::Go
        }
    }
}

/// One connection's flows between their request and their end, as last
/// seen, so that a shutdown that cannot wait for them still records them
/// and the view can list them; and the view's way to kill them.
pub(super) struct Tracked {
    flows: Mutex<HashMap<String, Flow>>,
    /// Set when the view kills one of the flows: the connection's driver
    /// stops and [`Session::record_killed`] records them, or a relay
    /// ends its stream with the kill's error.
    kill: watch::Sender<bool>,
    /// The ids the view asked to kill, so that a kill of a flow that
    /// finished meanwhile does not take the connection's next flow.
    killing: Mutex<Vec<String>>,
    /// Whether a WebSocket or TCP relay runs: it sees the kill itself, so
    /// that its flow is recorded with every message.
    relaying: std::sync::atomic::AtomicBool,
}

impl Default for Tracked {
    fn default() -> Tracked {
        Tracked {
            flows: Mutex::default(),
            kill: watch::Sender::new(false),
            killing: Mutex::default(),
            relaying: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked")
            .field("flows", &self.flows().len())
            .finish_non_exhaustive()
    }
}

impl Tracked {
    /// Resolves once the view has killed a flow here.
    pub(super) async fn killed(&self) {
        let mut kill = self.kill.subscribe();
        let _ = kill.wait_for(|k| *k).await;
    }

    /// Whether a relay runs (and so handles a kill itself).
    pub(super) fn relaying(&self) -> bool {
        self.relaying.load(Ordering::SeqCst)
    }

    /// Asks for flow `id` to be killed.
    fn kill(&self, id: &str) {
        let mut killing = self.killing.lock().unwrap_or_else(|e| e.into_inner());
        killing.push(id.to_owned());
        self.kill.send_replace(true);
    }

    /// After a kill woke the connection: true when a flow it named is
    /// still in flight; otherwise the kill is forgotten (its flow finished
    /// first) and the connection goes on.
    pub(super) fn kill_still_wanted(&self) -> bool {
        let mut killing = self.killing.lock().unwrap_or_else(|e| e.into_inner());
        let flows = self.flows();
        if killing.iter().any(|id| flows.contains_key(id)) {
            return true;
        }
        killing.clear();
        self.kill.send_replace(false);
        false
    }

    fn flows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flow>> {
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type InFlight = Arc<Tracked>;

/// What the proxy shares between connections.
pub struct Live {
    scripts: Arc<Scripts>,
    recorder: Recorder,
    pub(super) options: Options,
    pub(super) expected_auth: Option<String>,
    connections: Mutex<HashMap<u64, InFlight>>,
    next_connection: AtomicU64,
    /// Set when the shutdown grace is cut short ([`Live::quit_now`]).
    quit: watch::Sender<bool>,
    /// What pauses intercepted flows (the web view), when there is one.
    pause: std::sync::OnceLock<Arc<dyn super::pause::Pause>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Live {
    /// A proxy running `scripts`, writing each finished flow to `capture`
    /// and showing it to `on_flow`. With neither, finished flows go
    /// nowhere and no thread is started.
    pub fn new(
        scripts: Arc<Scripts>,
        capture: Option<FlowWriter<Box<dyn io::Write + Send>>>,
        on_flow: Option<OnFlow>,
        options: Options,
    ) -> Live {
        let sinks = Sinks {
            capture,
            on_flow,
            on_encoded: None,
            lines_only: false,
        };
        Live::with_sinks(scripts, sinks, options)
    }

    /// A proxy running `scripts`, each finished flow going to `sinks` (the
    /// capture file, the view, the flow lines).
    pub fn with_sinks(scripts: Arc<Scripts>, sinks: Sinks, options: Options) -> Live {
        let recorder = Recorder::start(sinks, scripts.clone());
        Live {
            scripts,
            recorder,
            expected_auth: options.proxyauth.as_deref().map(super::auth::expected),
            connections: Mutex::default(),
            next_connection: AtomicU64::new(0),
            options,
            quit: watch::Sender::new(false),
            pause: std::sync::OnceLock::new(),
        }
    }

    /// Whether a stream's messages are kept in its flow
    /// ([`keep`](super::keep)).
    pub(super) fn keeps_messages(&self, stream: super::keep::Stream) -> bool {
        super::keep::keeps(
            stream,
            self.recorder.reads_messages(),
            self.pause.get().is_some(),
            |event| self.scripts.wants(event),
        )
    }

    /// Sets what decides which flows pause (intercept); once.
    pub fn set_pause(&self, pause: Arc<dyn super::pause::Pause>) {
        let _ = self.pause.set(pause);
    }

    /// How many flows are between their request and their end.
    pub fn in_flight(&self) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|tracked| tracked.flows().len())
            .sum()
    }

    /// The flows between their request and their end, as last seen,
    /// oldest first.
    pub fn in_flight_flows(&self) -> Vec<Flow> {
        let connections: Vec<InFlight> = self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut flows: Vec<(f64, Flow)> = connections
            .iter()
            .flat_map(|tracked| {
                tracked
                    .flows()
                    .values()
                    .map(|f| (started(f), f.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        flows.sort_by(|a, b| a.0.total_cmp(&b.0));
        flows.into_iter().map(|(_, f)| f).collect()
    }

    /// The flow `id` as last seen, if it is in flight.
    pub fn in_flight_flow(&self, id: &str) -> Option<Flow> {
        let connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        connections
            .values()
            .find_map(|tracked| tracked.flows().get(id).cloned())
    }

    /// Kills the flow `id` while it is in flight, as mitmproxy's kill
    /// does: its client connection is closed, and every flow in flight on
    /// it is recorded with the error "Connection killed.". False when no
    /// such flow is in flight (it finished, or never was).
    pub fn kill(&self, id: &str) -> bool {
        let connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tracked) = connections.values().find(|t| t.flows().contains_key(id)) else {
            return false;
        };
        tracked.kill(id);
        true
    }

    /// Ends the shutdown grace at once (a second Ctrl-C): the connections
    /// still open are closed, and their flows recorded as errors.
    pub fn quit_now(&self) {
        self.quit.send_replace(true);
    }

    /// Whether [`quit_now`](Live::quit_now) has been called.
    pub fn told_to_quit(&self) -> bool {
        *self.quit.borrow()
    }

    /// Resolves once [`quit_now`](Live::quit_now) has been called.
    pub(super) async fn quitting(&self) {
        let mut quit = self.quit.subscribe();
        let _ = quit.wait_for(|q| *q).await;
    }

    /// The scripts it runs.
    pub fn scripts(&self) -> &Scripts {
        &self.scripts
    }

    /// Runs a flow event on every script. Hooks may block (a concurrent
    /// one by design, a serialized one waiting its turn), so they run on
    /// the runtime's blocking threads, never on an I/O thread; events no
    /// script has a hook for cost nothing.
    pub async fn flow_event(self: &Arc<Self>, event: Event, flow: &mut Flow) -> Outcome {
        if !self.scripts.wants(event) {
            return Outcome::default();
        }
        // Quick hooks of free scripts run right here: no thread hop. When
        // another connection is in a quick hook of the same script, this
        // thread serves others meanwhile and tries again, rather than
        // park a blocking thread on the lock (a thousand connections would
        // park hundreds).
        for _ in 0..64 {
            match self.scripts.try_flow_event_now(event, flow, true) {
                Ok(outcome) => return outcome,
                Err(NotNow::Busy) => tokio::task::yield_now().await,
                Err(NotNow::MustBlock) => break,
            }
        }
        let live = self.clone();
        let mut owned = std::mem::replace(flow, Flow::empty());
        let ran = tokio::task::spawn_blocking(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                live.scripts.flow_event(event, &mut owned, true)
            }));
            (
                owned,
                outcome.unwrap_or(Outcome {
                    killed: false,
                    panics: 1,
                }),
            )
        })
        .await;
        match ran {
            Ok((back, outcome)) => {
                *flow = back;
                outcome
            }
            // The blocking pool is shutting down: the flow cannot go on.
            Err(_) => Outcome {
                killed: true,
                panics: 0,
            },
        }
    }

    /// `tls_clienthello` on a blocking thread: true when a script lets
    /// the connection pass through.
    pub async fn client_hello(self: &Arc<Self>, client: &Value, server: &Value) -> bool {
        if !self.scripts.wants(Event::TlsClienthello) {
            return false;
        }
        let (live, client, server) = (self.clone(), client.clone(), server.clone());
        tokio::task::spawn_blocking(move || live.scripts.client_hello(&client, Some(&server)))
            .await
            .unwrap_or(false)
    }

    /// A connection or TLS event, on a blocking thread.
    pub async fn conn_event(self: &Arc<Self>, event: Event, conn: &Value) {
        if !self.scripts.wants(event) {
            return;
        }
        let (live, conn) = (self.clone(), conn.clone());
        let _ = tokio::task::spawn_blocking(move || live.scripts.conn_event(event, &conn)).await;
    }

    fn recorder(&self) -> Option<capture::Handle> {
        self.recorder.handle()
    }

    /// Records the flows shutdown did not wait for, as errors.
    pub(super) async fn abandon_in_flight(&self) {
        let connections: Vec<InFlight> = self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, tracked)| tracked)
            .collect();
        for tracked in connections {
            let left: Vec<Flow> = tracked.flows().drain().map(|(_, f)| f).collect();
            let quit = self.told_to_quit();
            for mut flow in left {
                let why = if quit {
                    "the proxy was told to quit at once (a second Ctrl-C) before the flow finished"
                        .to_owned()
                } else {
                    let grace = self.options.shutdown_grace.as_secs();
                    format!("the proxy shut down before the flow finished ({grace}s grace)")
                };
                flow.set_error(&why, record::now());
                // Told to quit at once, it does not wait for a script: a
                // hook stuck in the flow's last event would hold this up.
                if !quit {
                    self.scripts.flow_event(Event::Error, &mut flow, true);
                }
                capture::record(self.recorder().as_ref(), &self.scripts, &flow).await;
            }
        }
    }

    /// `start` and `configure`, then `running`: call it once the
    /// listeners are bound.
    pub fn start(&self) {
        self.scripts.start();
        self.scripts.running();
    }

    /// Records a finished flow that no connection carried (a copy a
    /// script made): the capture file, then the output line.
    pub async fn record(&self, flow: &Flow) {
        capture::record(self.recorder().as_ref(), &self.scripts, flow).await;
    }

    /// [`record`](Live::record) from a thread outside the async runtime:
    /// waits for room in the capture queue rather than awaiting it.
    pub fn record_blocking(&self, flow: &Flow) {
        capture::record_blocking(self.recorder().as_ref(), &self.scripts, flow);
    }

    /// Logs `what` (at info level) once the flows recorded before it are
    /// written and shown.
    pub async fn note_after_flows(&self, source: &'static str, what: String) {
        capture::note(self.recorder().as_ref(), &self.scripts, source, what).await;
    }

    /// `done`, then the capture file's last flush. Call it once serving
    /// has ended, outside the async runtime.
    pub fn done(&self) -> io::Result<()> {
        self.scripts.done();
        self.close_recorder()
    }

    /// The capture file's last flush, without `done` (offline runs fire
    /// `done` themselves). Call it once no flow can finish any more.
    pub fn close_recorder(&self) -> io::Result<()> {
        // Every session's handle is gone once serving has ended; this is
        // the last, and the thread ends when the queue is drained.
        self.recorder.close()
    }
}

/// When a flow started (its request's `timestamp_start`, else its
/// client's), for listing flows in flight.
fn started(flow: &Flow) -> f64 {
    let of = |dict: Option<&crate::tnetstring::Dict>| {
        dict.and_then(|d| d.get("timestamp_start"))
            .and_then(Value::as_float)
    };
    of(flow.request())
        .or_else(|| of(flow.conn("client_conn")))
        .unwrap_or(0.0)
}

/// One client connection: the proxy, the connection's dict, the proxy's
/// own address on it, the mode of the listener it came to, and its flows
/// in flight.
#[derive(Clone, Debug)]
pub struct Session {
    pub live: Arc<Live>,
    /// Where the low layers' connection events go: `live`'s scripts.
    pub notify: Notifier,
    pub conn: Value,
    /// The server record this connection's flows start with, built at its
    /// first flow (an idle connection holds none): a flow that connects
    /// replaces it with its own.
    unconnected: std::sync::OnceLock<Value>,
    pub sock: SocketAddr,
    pub mode: Arc<Mode>,
    /// Said after the reason of every flow here whose server side fails (a
    /// replay's "it reached for the network" note); empty for clients.
    pub failure_note: &'static str,
    flows: InFlight,
    recorder: Option<capture::Handle>,
    id: u64,
}

impl Session {
    /// A new connection's session, registered for shutdown.
    pub fn open(live: Arc<Live>, conn: Value, sock: SocketAddr, mode: Arc<Mode>) -> Session {
        let id = live.next_connection.fetch_add(1, Ordering::Relaxed);
        let flows = InFlight::default();
        live.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, flows.clone());
        Session {
            recorder: live.recorder(),
            // The client record the server side's TLS events name; none
            // is kept when no script can see one.
            notify: Notifier::new(
                Arc::new(Hooks(live.clone())),
                if live.scripts.is_empty() {
                    Value::Null
                } else {
                    conn.clone()
                },
            ),
            live,
            conn,
            unconnected: std::sync::OnceLock::new(),
            sock,
            mode,
            failure_note: "",
            flows,
            id,
        }
    }

    /// The connection ended. Flows it still had in flight (its task was
    /// aborted at shutdown) stay listed for `abandon_in_flight`.
    pub fn close(&self) {
        if !self.flows.flows().is_empty() {
            return;
        }
        self.live
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }

    /// Runs a flow event and says what it left the flow fit for; after
    /// `request` and `response`, an intercepted flow waits here.
    pub async fn hook(&self, event: Event, flow: &mut Flow) -> Hooked {
        let hooked = Hooked::from(event, self.live.flow_event(event, flow).await);
        let which = match event {
            Event::Request => crate::http::Which::Request,
            Event::Response => crate::http::Which::Response,
            _ => return hooked,
        };
        let Some(pause) = self.live.pause.get() else {
            return hooked;
        };
        if !matches!(hooked, Hooked::Go) || flow.streaming(which) {
            return hooked;
        }
        let Some(decided) = pause.pause(event, flow) else {
            return Hooked::Go;
        };
        match super::pause::wait(flow, decided).await {
            true => Hooked::Killed,
            false => Hooked::Go,
        }
    }

    /// The server record a new flow here starts with, shared by the
    /// connection's flows until one connects (mitmproxy's context shares
    /// its `Server` the same way).
    pub fn unconnected(&self) -> Value {
        self.unconnected
            .get_or_init(record::unconnected_server)
            .clone()
    }

    /// Lets the unconnected server record go: the connection has become
    /// a stream (a WebSocket, a TCP flow) and starts no more flows. An
    /// idle WebSocket holds 1.5 KiB less.
    pub(super) fn no_more_flows(&mut self) {
        self.unconnected = std::sync::OnceLock::new();
    }

    /// Notes the flow's current state in case shutdown overtakes it.
    pub fn track(&self, flow: &Flow) {
        self.flows
            .flows()
            .insert(flow.id().to_owned(), flow.clone());
    }

    /// What a relay's read loop watches: set when the view kills a flow
    /// on this connection.
    pub(super) fn kill_signal(&self) -> watch::Receiver<bool> {
        self.flows.kill.subscribe()
    }

    /// Says that a WebSocket or TCP relay runs here from now on: it ends
    /// its stream itself when killed, so its flow keeps its messages.
    pub(super) fn relays(&self) {
        self.flows.relaying.store(true, Ordering::SeqCst);
    }

    /// What tells this connection's driver that the view killed one of
    /// its flows.
    pub(super) fn tracked(&self) -> InFlight {
        self.flows.clone()
    }

    /// Records the flows the view killed (the connection is gone): each
    /// gets the error "Connection killed." and its last event, as
    /// mitmproxy's kill gives it.
    pub(super) async fn record_killed(&self) {
        // One at a time: what an abort cuts short stays listed for
        // `abandon_in_flight`.
        while let Some(mut flow) = self.take_one() {
            let now = super::record::now();
            flow.set_error("Connection killed.", now);
            let open_websocket = flow
                .websocket()
                .map(|w| w.get("close_code").is_none_or(Value::is_null));
            let event = match (flow.kind(), open_websocket) {
                (crate::flow::FlowKind::Tcp, _) => Event::TcpError,
                (_, Some(open)) => {
                    // Killed before its relay began: closed as a dropped
                    // connection is (1006).
                    if open {
                        flow.close_websocket(false, 1006, None, now);
                    }
                    Event::WebsocketEnd
                }
                _ => Event::Error,
            };
            self.live.flow_event(event, &mut flow).await;
            capture::record(self.recorder.as_ref(), &self.live.scripts, &flow).await;
        }
    }

    /// Takes one flow out of the in-flight map.
    fn take_one(&self) -> Option<Flow> {
        let mut flows = self.flows.flows();
        let id = flows.keys().next()?.clone();
        flows.remove(&id)
    }

    /// Records a finished flow: the capture file, then the output line.
    pub async fn finish(&self, flow: &Flow) {
        self.flows.flows().remove(flow.id());
        capture::record(self.recorder.as_ref(), &self.live.scripts, flow).await;
    }

    /// Logs a line about this connection.
    pub fn log(&self, level: Level, what: &str) {
        let peer = self
            .conn
            .as_dict()
            .and_then(|c| crate::summary::addr(Some(c), "peername"))
            .unwrap_or_else(|| "-".into());
        self.live
            .scripts
            .log()
            .log("proxy", level, &format!("{peer}: {what}"));
    }
}

/// The scripts of a `Live`, as the low layers' [`Notify`].
struct Hooks(Arc<Live>);

impl Notify for Hooks {
    fn wants(&self, event: Event) -> bool {
        self.0.scripts.wants(event)
    }

    fn conn_event(&self, event: Event, conn: Value) -> Pending<()> {
        let live = self.0.clone();
        Box::pin(async move { live.conn_event(event, &conn).await })
    }

    fn tls_event(&self, event: Event, client: Value, server: Option<Value>) -> Pending<()> {
        let live = self.0.clone();
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || {
                live.scripts.tls_event(event, &client, server.as_ref())
            })
            .await;
        })
    }

    fn flow_event(&self, event: Event, mut flow: Flow) -> Pending<Flow> {
        let live = self.0.clone();
        Box::pin(async move {
            live.flow_event(event, &mut flow).await;
            flow
        })
    }
}
