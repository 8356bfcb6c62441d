//! Loaded scripts and the one place events reach them: [`Scripts`].
//!
//! Live and offline modes both drive scripts through [`Scripts`]; what
//! differs is only which events they fire and when.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use crate::event::{Event, Level, LogSink};
use waylay_sdk::abi::ScriptDescriptor;

use crate::flow::Flow;

mod actions;
#[cfg(feature = "build")]
pub mod build;
mod cell;
mod declared;
mod ffi;
pub(crate) mod held;
mod lifecycle;

pub use actions::Actions;
use cell::FlowCell;
pub use declared::{DeclaredOption, WrongValue};
use ffi::{Acts, CallCtx, Called, ScriptInstance, Target};
pub use ffi::{LoadError, open};

/// Why a script could not be set up.
#[derive(Debug)]
pub enum ScriptError {
    /// The library could not be loaded.
    Load(LoadError),
    /// The script type's `Default` panicked.
    Create {
        /// The script's name.
        script: String,
        /// The panic message.
        panic: String,
    },
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::Load(e) => e.fmt(f),
            ScriptError::Create { script, panic } => {
                write!(
                    f,
                    "script {script}: creating it (its `Default`) panicked: {panic}; fix the constructor"
                )
            }
        }
    }
}

impl std::error::Error for ScriptError {}

/// One loaded script: a name for messages, its argv, its instance and the
/// options it declares.
#[derive(Debug)]
pub struct Script {
    name: String,
    argv: Vec<String>,
    instance: ScriptInstance,
    declared: Vec<DeclaredOption>,
}

impl Script {
    /// Loads the compiled script at `library` and creates its instance.
    pub fn load(
        library: &Path,
        name: &str,
        argv: Vec<String>,
        log: &dyn LogSink,
    ) -> Result<Script, ScriptError> {
        let descriptor = open(library).map_err(ScriptError::Load)?;
        Script::from_descriptor(descriptor, name, argv, log)
    }

    /// Creates an instance from a descriptor already in this process (the
    /// test harness uses the script crate's own, without a library).
    pub fn from_descriptor(
        descriptor: &'static ScriptDescriptor,
        name: &str,
        argv: Vec<String>,
        log: &dyn LogSink,
    ) -> Result<Script, ScriptError> {
        let ctx = CallCtx::new(name, log);
        let instance =
            ScriptInstance::create(descriptor, &ctx).map_err(|panic| ScriptError::Create {
                script: name.to_owned(),
                panic,
            })?;
        let ctx = CallCtx::new(name, log);
        let declared = instance
            .declared_options(&ctx)
            .map_err(|panic| ScriptError::Create {
                script: name.to_owned(),
                panic,
            })?;
        Ok(Script {
            name: name.to_owned(),
            argv,
            instance,
            declared,
        })
    }

    /// The name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What happened to a flow during one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// A hook killed the flow.
    pub killed: bool,
    /// Hooks that panicked.
    pub panics: u32,
}

/// What a flow does after one of its hooks panics (`--set script_error`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnPanic {
    /// The hook's changes are undone. A live flow then fails: its client
    /// gets a 502, a WebSocket or TCP connection is closed. An offline flow
    /// goes on as it was before the hook.
    #[default]
    Fail,
    /// The flow goes on as the hook left it, live or offline: mitmproxy's
    /// behaviour, where an exception in a script is logged and the flow
    /// continues.
    Continue,
}

impl OnPanic {
    /// Reads `fail` or `continue`.
    pub fn parse(value: &str) -> Option<OnPanic> {
        match value {
            "fail" => Some(OnPanic::Fail),
            "continue" => Some(OnPanic::Continue),
            _ => None,
        }
    }
}

/// The scripts of a run, in command-line order: the one dispatch point for
/// every event, live or offline.
///
/// Each script sits behind its own read-write lock. A hook the script
/// marked concurrent runs under the read lock, so several can run at once;
/// every other hook runs under the write lock, one at a time and never
/// beside a concurrent one. The flow itself is never shared: each event
/// gets it by `&mut`.
pub struct Scripts {
    scripts: Vec<Slot>,
    log: Arc<dyn LogSink>,
    panics: AtomicU64,
    /// Every declared option's value: its default unless `--set`.
    options: HashMap<String, String>,
    /// The rewriting options (`map_remote`, `anticache`, ...), run around
    /// the scripts for the same events.
    addons: crate::addons::Addons,
    /// Where the copies and replays hooks make go; without it hooks are
    /// refused them.
    actions: OnceLock<Arc<dyn Actions>>,
    /// What a flow does after a hook panics.
    on_panic: OnPanic,
    /// The proxy's own option names, for `configure`.
    option_names: Vec<String>,
    /// Whether `running` has fired: a script reloaded later gets it too.
    running: AtomicBool,
}

impl fmt::Debug for Scripts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scripts")
            .field("scripts", &self.scripts.len())
            .field("panics", &self.panics())
            .finish()
    }
}

/// One script and what the host has learnt about it.
struct Slot {
    script: RwLock<Script>,
    /// Events (bit `1 << event`) for which the script has only the trait's
    /// default hook: skipped, with no lock taken.
    defaults: AtomicU64,
    /// Per event: how often its hook ran, and how often it took longer
    /// than [`SLOW_HOOK`]. A hook slow in more than 1% of its calls may
    /// block and never runs where it would hold up I/O; one slow call among
    /// many (the thread was preempted on a busy machine) does not count.
    timing: Timing,
}

/// Why [`Scripts::try_flow_event_now`] did not run an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotNow {
    /// A hook is concurrent or slow: it belongs on a blocking thread.
    MustBlock,
    /// A script is held by another thread, in a quick hook.
    Busy,
}

/// A hook slower than this is one that may block.
const SLOW_HOOK: std::time::Duration = std::time::Duration::from_millis(2);

/// Hook call counts per event code.
struct Timing {
    calls: [AtomicU32; 64],
    slow: [AtomicU32; 64],
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            calls: std::array::from_fn(|_| AtomicU32::new(0)),
            slow: std::array::from_fn(|_| AtomicU32::new(0)),
        }
    }
}

impl Timing {
    fn record(&self, code: u32, slow: bool) {
        let i = code as usize % 64;
        self.calls[i].fetch_add(1, Ordering::Relaxed);
        if slow {
            self.slow[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn is_slow(&self, code: u32) -> bool {
        let i = code as usize % 64;
        let slow = u64::from(self.slow[i].load(Ordering::Relaxed));
        slow > 0 && slow * 100 >= u64::from(self.calls[i].load(Ordering::Relaxed))
    }

    fn reset(&self) {
        for counter in self.calls.iter().chain(&self.slow) {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// What a flow event runs besides the scripts' hooks.
#[derive(Clone, Copy)]
struct Dispatch {
    /// The rewriting options' addons (and server replay).
    addons: bool,
    /// Hooks may make copies and replays.
    actions: bool,
}

/// A flow's event: everything.
const FLOW: Dispatch = Dispatch {
    addons: true,
    actions: true,
};

/// A copy's event (`flow_events_except`): the other scripts only. The
/// addons acted on the flow it was copied from (a second pass would take
/// server replay's recordings and apply rewrites twice), and a copy's hooks
/// make no copies or replays.
const COPY: Dispatch = Dispatch {
    addons: false,
    actions: false,
};

/// How a hook call gets at its script.
enum Access<'s> {
    Shared(RwLockReadGuard<'s, Script>),
    Exclusive(RwLockWriteGuard<'s, Script>),
    /// This script sits this event out.
    Skip,
}

impl Slot {
    fn ignores(&self, event: Event) -> bool {
        self.defaults.load(Ordering::Relaxed) & (1u64 << event.code()) != 0
    }

    fn learn(&self, event: Event, called: &Result<Called, String>) {
        if matches!(called, Ok(Called::Default)) {
            self.defaults
                .fetch_or(1u64 << event.code(), Ordering::Relaxed);
        }
    }
}

fn write(slot: &Slot) -> RwLockWriteGuard<'_, Script> {
    slot.script.write().unwrap_or_else(|e| e.into_inner())
}

fn read(slot: &Slot) -> RwLockReadGuard<'_, Script> {
    slot.script.read().unwrap_or_else(|e| e.into_inner())
}

/// Whether `update`, run after `event`, needs a thread that may block:
/// whenever a script hooks it. Its lock is taken after the event's hooks
/// have let theirs go, and another thread may hold it meanwhile (a
/// concurrent hook that sleeps), so it never runs on an I/O thread. A
/// script that does not hook `update` is known after its first call.
fn update_must_block(event: Event, slot: &Slot) -> bool {
    event.is_flow_event() && !slot.ignores(Event::Update)
}

/// The lock an event's hook needs: shared for the script's concurrent
/// hooks, exclusive for the others.
fn lock_for(event: Event, slot: &Slot) -> Access<'_> {
    let shared = read(slot);
    if shared.instance.is_concurrent(event.code()) {
        Access::Shared(shared)
    } else {
        drop(shared);
        Access::Exclusive(write(slot))
    }
}

impl Scripts {
    /// An empty set logging to `log`.
    pub fn new(log: Arc<dyn LogSink>) -> Scripts {
        Scripts {
            scripts: Vec::new(),
            log: Arc::new(held::Holding(log)),
            panics: AtomicU64::new(0),
            options: HashMap::new(),
            addons: crate::addons::Addons::default(),
            actions: OnceLock::new(),
            on_panic: OnPanic::Fail,
            option_names: Vec::new(),
            running: AtomicBool::new(false),
        }
    }

    /// Sets what a flow does after one of its hooks panics.
    pub fn set_script_error(&mut self, on_panic: OnPanic) {
        self.on_panic = on_panic;
    }

    /// What a flow does after one of its hooks panics.
    pub fn on_panic(&self) -> OnPanic {
        self.on_panic
    }

    /// Sets where the copies ([`Context::duplicate`]) and replays
    /// ([`Context::replay`]) hooks make go; once (a second call is
    /// ignored). Until then hooks are refused them with an error.
    ///
    /// [`Context::duplicate`]: waylay_sdk::Context::duplicate
    /// [`Context::replay`]: waylay_sdk::Context::replay
    pub fn set_actions(&self, actions: Arc<dyn Actions>) {
        let _ = self.actions.set(actions);
    }

    /// How many scripts there are.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// A saved flow's events (as [`crate::offline::replay_events`] fires
    /// them) on every script but the one at `skip`: how a copy a script
    /// made reaches the others. The addons do not run (they acted on the
    /// flow it was copied from), and these hooks cannot make copies or
    /// replays.
    pub fn flow_events_except(&self, skip: usize, flow: &mut Flow) {
        let events = |flow: &Flow| {
            let mut events = vec![Event::RequestHeaders, Event::Request];
            if flow.response().is_some() {
                events.extend([Event::ResponseHeaders, Event::Response]);
            }
            events
        };
        if flow.kind() != crate::flow::FlowKind::Http {
            return;
        }
        let access = |event: Event, at: usize, slot| {
            if at == skip {
                Access::Skip
            } else {
                lock_for(event, slot)
            }
        };
        let mut order = events(flow);
        let mut i = 0;
        while i < order.len() {
            let event = order[i];
            self.run_flow_event(event, flow, false, COPY, |at, slot| access(event, at, slot));
            if event == Event::Request {
                order = events(flow);
            }
            i += 1;
        }
        if flow.websocket().is_none() && flow.error_msg().is_some() {
            self.run_flow_event(Event::Error, flow, false, COPY, |at, slot| {
                access(Event::Error, at, slot)
            });
        }
    }

    /// Sets the rewriting options' addons: `anticache` and `anticomp` run
    /// before the scripts, the others after them, for every flow event,
    /// live or offline (see [`crate::addons`]).
    pub fn set_addons(&mut self, addons: crate::addons::Addons) {
        self.addons = addons;
    }

    /// Puts `rules` in place of the rewriting rules (`block_list`,
    /// `map_remote`, `map_local`, `modify_body`, `modify_headers`): every
    /// event from now on sees them, live or offline.
    pub fn set_rules(&self, rules: crate::addons::Rules) {
        self.addons.set_rules(rules);
    }

    /// The options every script declares, in script order.
    pub fn declared(&self) -> Vec<DeclaredOption> {
        self.scripts
            .iter()
            .flat_map(|slot| read(slot).declared.clone())
            .collect()
    }

    /// Sets option values: each declared option gets `values[name]` or
    /// its default. The caller has checked them.
    pub fn set_options(&mut self, values: &HashMap<String, String>) {
        self.options = self
            .declared()
            .into_iter()
            .map(|o| {
                let value = values.get(&o.name).cloned().unwrap_or(o.default);
                (o.name, value)
            })
            .collect();
    }

    /// Where logs go.
    pub fn log(&self) -> &dyn LogSink {
        &*self.log
    }

    /// Adds a script after the others.
    pub fn push(&mut self, script: Script) {
        self.scripts.push(Slot {
            script: RwLock::new(script),
            defaults: AtomicU64::new(0),
            timing: Timing::default(),
        });
    }

    /// Whether there is nothing to run: no scripts and no rewriting
    /// options.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty() && self.addons.is_empty()
    }

    /// Whether any script has a hook of its own for `event`. Until a
    /// script's hook has run once this is not known, and the answer is yes.
    pub fn wants(&self, event: Event) -> bool {
        let hooked = |e: Event| self.scripts.iter().any(|slot| !slot.ignores(e));
        hooked(event)
            || self.addons.wants(event)
            || (event.is_flow_event() && hooked(Event::Update))
    }

    /// Whether some script has hooks it marked concurrent (`impl
    /// Concurrent`): only then can an offline run take flows in parallel.
    pub fn any_concurrent(&self) -> bool {
        self.scripts
            .iter()
            .any(|slot| read(slot).instance.concurrent_events() != 0)
    }

    /// Whether each of `events` may run for several flows at once: every
    /// script has no hook of its own for it (known once it has been
    /// called) or marked its hook concurrent. The rewriting options'
    /// addons run for any number of flows at once.
    pub fn concurrent_for(&self, events: &[Event]) -> bool {
        self.scripts.iter().all(|slot| {
            let script = read(slot);
            events
                .iter()
                .all(|&e| slot.ignores(e) || script.instance.is_concurrent(e.code()))
        })
    }

    /// How many hooks have panicked so far.
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }

    fn report(&self, script: &str, event: Event, flow: Option<(&str, bool)>, panic: &str) {
        self.panics.fetch_add(1, Ordering::Relaxed);
        let what = match flow {
            Some((id, live)) => format!(
                "hook `{}` panicked on flow {id}: {panic}; {}",
                event.hook_name(),
                match (live, event) {
                    _ if self.on_panic == OnPanic::Continue => {
                        "the flow goes on as the hook left it (script_error=continue)"
                    }
                    (false, _) => "the flow goes on as it was before the hook",
                    (
                        true,
                        Event::WebsocketStart | Event::WebsocketMessage | Event::WebsocketEnd,
                    ) => "the WebSocket is closed",
                    (
                        true,
                        Event::TcpStart | Event::TcpMessage | Event::TcpEnd | Event::TcpError,
                    ) => "the connection is closed",
                    (true, _) => "the flow fails with a 502",
                }
            ),
            None => format!("hook `{}` panicked: {panic}", event.hook_name()),
        };
        self.log.log(script, Level::Error, &what);
    }

    /// A flow event: each script's hook in turn. A hook that panics leaves
    /// the flow as it was before that hook (as it left it, under
    /// [`OnPanic::Continue`]); the next script still runs.
    pub fn flow_event(&self, event: Event, flow: &mut Flow, live: bool) -> Outcome {
        let outcome = self.run_flow_event(event, flow, live, FLOW, |_, slot| lock_for(event, slot));
        self.update(event, flow, live);
        outcome
    }

    /// Runs a flow event here and now if that cannot block: no script
    /// marks the hook concurrent or is slow in it, and every script that
    /// hooks it is free. On `Err` nothing has run: `MustBlock` means the
    /// caller should run [`flow_event`](Scripts::flow_event) where blocking
    /// is fine, `Busy` that another thread is in a quick hook of a script
    /// and a moment later may do.
    pub fn try_flow_event_now(
        &self,
        event: Event,
        flow: &mut Flow,
        live: bool,
    ) -> Result<Outcome, NotNow> {
        let mut guards: Vec<Option<RwLockWriteGuard<'_, Script>>> =
            Vec::with_capacity(self.scripts.len());
        for slot in &self.scripts {
            if update_must_block(event, slot) {
                return Err(NotNow::MustBlock);
            }
            if slot.ignores(event) {
                guards.push(None);
                continue;
            }
            if slot.timing.is_slow(event.code()) {
                return Err(NotNow::MustBlock);
            }
            // A concurrent hook goes to a blocking thread whatever else
            // runs: learnt under the read lock, which other connections'
            // concurrent hooks share, rather than by waiting for the write
            // lock, which they hold off for as long as they run.
            if let Ok(shared) = slot.script.try_read()
                && shared.instance.is_concurrent(event.code())
            {
                return Err(NotNow::MustBlock);
            }
            // Another thread in a quick hook of the same script lets go
            // within microseconds: worth a short spin, not a thread hop.
            let guard = (0..256)
                .find_map(|_| {
                    let got = slot.script.try_write().ok();
                    if got.is_none() {
                        std::hint::spin_loop();
                    }
                    got
                })
                .ok_or(NotNow::Busy)?;
            if guard.instance.is_concurrent(event.code()) {
                return Err(NotNow::MustBlock);
            }
            guards.push(Some(guard));
        }
        // A script reloaded since the check above is waited for: rare, and
        // nothing can be undone once earlier scripts have run.
        let outcome = self.run_flow_event(event, flow, live, FLOW, |i, slot| {
            Access::Exclusive(guards[i].take().unwrap_or_else(|| write(slot)))
        });
        // A guard left over (a script found to ignore the event since the
        // check above) must not be held while `update` takes locks.
        drop(guards);
        self.update(event, flow, live);
        Ok(outcome)
    }

    /// The body of a flow event; `access` gives each hooked script's lock.
    fn run_flow_event<'s>(
        &'s self,
        event: Event,
        flow: &mut Flow,
        live: bool,
        dispatch: Dispatch,
        mut access: impl FnMut(usize, &'s Slot) -> Access<'s>,
    ) -> Outcome {
        let code = event.code();
        let mut outcome = Outcome::default();
        let mut failures = Vec::new();
        let stage = crate::addons::Stage::BeforeScripts;
        // `block_list`'s 444 kills from here (live only).
        let killed_before =
            dispatch.addons && self.addons.run(stage, event, flow, live, &*self.log);
        let actions = self.actions.get().filter(|_| dispatch.actions);
        let acts = match (dispatch.actions, actions) {
            (false, _) => Acts::InCopy,
            (true, None) => Acts::Nowhere,
            (true, Some(to)) => Acts::To(&**to),
        };
        {
            let mut cell = FlowCell::new(flow, live);
            if matches!(event, Event::TcpEnd | Event::TcpError) {
                cell.set_ended();
            }
            for (i, slot) in self
                .scripts
                .iter()
                .enumerate()
                .filter(|(_, slot)| !slot.ignores(event))
            {
                let started = std::time::Instant::now();
                let (name, result, made) = match access(i, slot) {
                    Access::Skip => continue,
                    Access::Shared(script) => {
                        let ctx = CallCtx::new(&script.name, &*self.log)
                            .with_options(&self.options)
                            .with_actions(acts);
                        let result =
                            script
                                .instance
                                .call_shared(&ctx, code, Target::Flow(&mut cell));
                        (script.name.clone(), result, ctx.take_made())
                    }
                    Access::Exclusive(mut guard) => {
                        let script: &mut Script = &mut guard;
                        let ctx = CallCtx::new(&script.name, &*self.log)
                            .with_options(&self.options)
                            .with_actions(acts);
                        let result = script.instance.call(&ctx, code, Target::Flow(&mut cell));
                        (script.name.clone(), result, ctx.take_made())
                    }
                };
                // A hook that panicked leaves nothing behind, copies and
                // replays included, unless its flow goes on as it left it.
                let keep = result.is_ok() || self.on_panic == OnPanic::Continue;
                if let (Some(actions), true) = (actions, keep) {
                    let (copies, replays) = made;
                    for copy in copies {
                        actions.duplicate(i, copy);
                    }
                    for again in replays {
                        actions.replay(again);
                    }
                }
                slot.timing.record(code, started.elapsed() > SLOW_HOOK);
                slot.learn(event, &result);
                cell.end_hook(result.is_err() && self.on_panic == OnPanic::Fail);
                if let Err(panic) = result {
                    failures.push((name, panic));
                }
            }
            outcome.killed = killed_before || cell.killed();
        }
        let stage = crate::addons::Stage::AfterScripts;
        // `server_replay_extra=kill` kills from here (live only).
        if dispatch.addons {
            outcome.killed |= self.addons.run(stage, event, flow, live, &*self.log);
        }
        // Panics the flow goes on after are logged, not counted against it.
        if self.on_panic == OnPanic::Fail {
            outcome.panics = failures.len() as u32;
        }
        for (name, panic) in failures {
            self.report(&name, event, Some((flow.id(), live)), &panic);
        }
        outcome
    }

    /// `update` after a flow's event, on each script that hooks it
    /// (none, mostly: then it costs one scan). The flow is lent read-only,
    /// so a panic is reported and there is nothing to undo.
    fn update(&self, event: Event, flow: &mut Flow, live: bool) {
        let update = Event::Update;
        if !event.is_flow_event() || self.scripts.iter().all(|slot| slot.ignores(update)) {
            return;
        }
        let mut cell = FlowCell::new(flow, live);
        for slot in self.scripts.iter().filter(|slot| !slot.ignores(update)) {
            self.call(update, slot, Target::Flow(&mut cell));
        }
    }
}

#[cfg(test)]
mod tests;
