//! The host side of the script boundary: loading a script library, the
//! function table scripts call back into, and calling a script's hooks.
//! All of the engine's `unsafe` lives below this module.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr::NonNull;

use waylay_sdk::abi::{self, HostConn, HostCtx, RawBytes, ScriptDescriptor, StartArgs, TlsArgs};

use super::cell::FlowCell;
use super::declared::DeclaredOption;
use crate::event::LogSink;
use crate::flow::Flow;
use crate::tnetstring::Value;

mod filter_api;
mod host_api;
mod loader;

pub use loader::{LoadError, open};

/// What a hook call knows of its caller: which script, where logs go, and
/// where the SDK reports a caught panic.
pub(crate) struct CallCtx<'a> {
    pub(crate) script: &'a str,
    pub(crate) log: &'a dyn LogSink,
    pub(crate) panic: RefCell<Option<String>>,
    /// The run's option values, for `Context::option`.
    pub(crate) options: Option<&'a HashMap<String, String>>,
    /// Options the script declares, while its `options` entry runs.
    pub(crate) declared: RefCell<Vec<DeclaredOption>>,
    /// Where copies and replays go, if anywhere.
    pub(crate) acts: Acts<'a>,
    /// Copies the hook made (`Context::duplicate`), in order.
    copies: RefCell<Vec<Copied>>,
    /// Flows the hook asked to send again (`Context::replay`), in order.
    replays: RefCell<Vec<Again>>,
}

/// Whether a hook may make copies and replays.
#[derive(Clone, Copy)]
pub(crate) enum Acts<'a> {
    /// Nothing takes them (no run, the test harness without actions).
    Nowhere,
    /// The hook runs for a copy: it may not make more (two scripts copying
    /// each other's copies would never end).
    InCopy,
    /// They go here.
    To(&'a dyn super::Actions),
}

/// A flow a hook asked to send again.
enum Again {
    /// A copy of the hook's flow, made when asked.
    Flow(Flow),
    /// One of the hook's copies (its index), which is sent as the hook
    /// leaves it and joins the run as that replay only.
    Copy(usize),
}

/// A flow a script copied during a hook, and the cell it reads and
/// changes the copy through; both live until the hook returns (the
/// `CallCtx` holds them), so the pointer the script got stays valid.
struct Copied {
    flow: NonNull<Flow>,
    cell: NonNull<FlowCell<'static>>,
}

impl Copied {
    fn new(flow: Flow) -> Copied {
        let flow = NonNull::from(Box::leak(Box::new(flow)));
        // SAFETY: the box is ours alone; the cell is its only borrow and is
        // freed before the box (`into_flow`, `drop`).
        let cell = FlowCell::new(unsafe { &mut *flow.as_ptr() }, false);
        Copied {
            flow,
            cell: NonNull::from(Box::leak(Box::new(cell))),
        }
    }

    /// The copy as the script left it.
    fn into_flow(self) -> Flow {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: both came from `Box::leak` in `new` and are freed once,
        // here, the cell (the borrow) first; `ManuallyDrop` keeps `drop`
        // from freeing them again.
        unsafe {
            drop(Box::from_raw(this.cell.as_ptr()));
            *Box::from_raw(this.flow.as_ptr())
        }
    }
}

impl Drop for Copied {
    fn drop(&mut self) {
        // SAFETY: as in `into_flow`, for a copy that is dropped instead.
        unsafe {
            drop(Box::from_raw(self.cell.as_ptr()));
            drop(Box::from_raw(self.flow.as_ptr()));
        }
    }
}

impl<'a> CallCtx<'a> {
    pub(crate) fn new(script: &'a str, log: &'a dyn LogSink) -> CallCtx<'a> {
        CallCtx {
            script,
            log,
            panic: RefCell::new(None),
            options: None,
            declared: RefCell::new(Vec::new()),
            acts: Acts::Nowhere,
            copies: RefCell::new(Vec::new()),
            replays: RefCell::new(Vec::new()),
        }
    }

    /// The same, taking copies and replays from the hook.
    pub(crate) fn with_actions(mut self, acts: Acts<'a>) -> CallCtx<'a> {
        self.acts = acts;
        self
    }

    /// Keeps a copy the script made; the cell it is changed through.
    pub(crate) fn keep_copy(&self, flow: Flow) -> *mut FlowCell<'static> {
        let copied = Copied::new(flow);
        let cell = copied.cell.as_ptr();
        self.copies.borrow_mut().push(copied);
        cell
    }

    /// Keeps a flow to send again: the cell's, which is one of the hook's
    /// copies or else the hook's own flow (then copied now).
    pub(crate) fn keep_replay(&self, cell: &FlowCell<'_>) {
        let copies = self.copies.borrow();
        let of_copy = copies.iter().position(|c| {
            std::ptr::eq(
                c.cell.as_ptr().cast_const().cast::<()>(),
                (cell as *const FlowCell<'_>).cast::<()>(),
            )
        });
        drop(copies);
        let mut replays = self.replays.borrow_mut();
        // A copy replayed a second time is sent again as a copy of itself.
        let taken = |index: usize| {
            replays
                .iter()
                .any(|a| matches!(a, Again::Copy(i) if *i == index))
        };
        let again = match of_copy {
            Some(index) if !taken(index) => Again::Copy(index),
            _ => Again::Flow(cell.flow().duplicate()),
        };
        replays.push(again);
    }

    /// The copies and replays the hook made, as it left them, the replays
    /// marked as such. A copy that is replayed is a replay only.
    pub(crate) fn take_made(&self) -> (Vec<Flow>, Vec<Flow>) {
        let mut copies: Vec<Option<Flow>> = self
            .copies
            .take()
            .into_iter()
            .map(|c| Some(c.into_flow()))
            .collect();
        let replays = self
            .replays
            .take()
            .into_iter()
            .filter_map(|again| {
                let mut flow = match again {
                    Again::Flow(flow) => flow,
                    Again::Copy(index) => copies.get_mut(index)?.take()?,
                };
                flow.prepare_replay();
                Some(flow)
            })
            .collect();
        (copies.into_iter().flatten().collect(), replays)
    }

    /// The same, reading option values from `options`.
    pub(crate) fn with_options(mut self, options: &'a HashMap<String, String>) -> CallCtx<'a> {
        self.options = Some(options);
        self
    }

    fn raw(&self) -> *const HostCtx {
        (self as *const CallCtx<'_>).cast()
    }

    fn take_panic(&self) -> String {
        self.panic
            .borrow_mut()
            .take()
            .unwrap_or_else(|| "no message".to_owned())
    }
}

/// What an event is about.
pub(crate) enum Target<'a, 'f> {
    /// `start`'s argv, or `configure`'s option names.
    Argv(&'a [String]),
    /// A connection dict, for connection and TLS events.
    Conn(&'a Value),
    /// A TLS event: the client connection (at `tls_clienthello` its
    /// `sni` and `alpn_offers` the hello's), the server one if any, and,
    /// at `tls_clienthello`, the script's choice to pass the connection
    /// through.
    Tls {
        client: &'a Value,
        server: Option<&'a Value>,
        ignore: Option<&'a mut bool>,
    },
    /// A flow, for flow events.
    Flow(&'a mut FlowCell<'f>),
    /// Nothing (`done`).
    Nothing,
}

/// How a hook call went, short of a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Called {
    /// The script's own hook ran.
    Ran,
    /// The trait's default ran: the script ignores this event.
    Default,
}

fn outcome(result: u32, ctx: &CallCtx<'_>) -> Result<Called, String> {
    match result {
        abi::HOOK_OK => Ok(Called::Ran),
        abi::HOOK_DEFAULT => Ok(Called::Default),
        _ => Err(ctx.take_panic()),
    }
}

/// One created instance of a script type.
#[derive(Debug)]
pub(crate) struct ScriptInstance {
    descriptor: &'static ScriptDescriptor,
    instance: NonNull<c_void>,
}

// SAFETY: the SDK requires `Script: Send`, so the instance behind the
// pointer may move between threads; exclusive calls go through `&mut`.
unsafe impl Send for ScriptInstance {}

// SAFETY: through `&self` only `call_shared` reaches the instance, and the
// SDK routes that to `Concurrent` hooks, which require `Sync`.
unsafe impl Sync for ScriptInstance {}

impl ScriptInstance {
    /// Creates an instance with the type's `Default`; `Err` carries the
    /// constructor's panic message.
    pub(crate) fn create(
        descriptor: &'static ScriptDescriptor,
        ctx: &CallCtx<'_>,
    ) -> Result<ScriptInstance, String> {
        // SAFETY: `HOST_API` is a static; `ctx` outlives the call.
        let raw = unsafe { (descriptor.create)(&host_api::HOST_API, ctx.raw()) };
        match NonNull::new(raw) {
            Some(instance) => Ok(ScriptInstance {
                descriptor,
                instance,
            }),
            None => Err(ctx.take_panic()),
        }
    }

    /// The events (bit `1 << event`) whose hooks the script marked
    /// concurrent.
    pub(crate) fn concurrent_events(&self) -> u64 {
        self.descriptor.concurrent
    }

    /// Whether `event`'s hook is one of the script's concurrent ones.
    pub(crate) fn is_concurrent(&self, event: u32) -> bool {
        event < 64 && self.descriptor.concurrent & (1 << event) != 0
    }

    /// Runs a concurrent event with shared access; `Err` carries the
    /// hook's panic message.
    pub(crate) fn call_shared(
        &self,
        ctx: &CallCtx<'_>,
        event: u32,
        target: Target<'_, '_>,
    ) -> Result<Called, String> {
        let mut lowered = Lowered::default();
        let raw = lowered.lower(target);
        // SAFETY: `instance` came from this descriptor's `create`; callers
        // hold the script's lock for reading, so no exclusive call runs at
        // the same time; `raw` points at this call's target, which
        // `lowered` and the borrowed target keep alive.
        let result =
            unsafe { (self.descriptor.hook_shared)(self.instance.as_ptr(), ctx.raw(), event, raw) };
        lowered.raise();
        outcome(result, ctx)
    }

    /// The options the script declares.
    pub(crate) fn declared_options(
        &self,
        ctx: &CallCtx<'_>,
    ) -> Result<Vec<DeclaredOption>, String> {
        // SAFETY: `HOST_API` is a static; `ctx` outlives the call, and the
        // entry only calls back `declare_option` (and `report_panic`).
        unsafe { (self.descriptor.options)(&host_api::HOST_API, ctx.raw()) };
        match ctx.panic.borrow_mut().take() {
            Some(panic) => Err(panic),
            None => Ok(ctx.declared.take()),
        }
    }

    /// Runs one event; `Err` carries the hook's panic message.
    pub(crate) fn call(
        &mut self,
        ctx: &CallCtx<'_>,
        event: u32,
        target: Target<'_, '_>,
    ) -> Result<Called, String> {
        let mut lowered = Lowered::default();
        let raw = lowered.lower(target);
        // SAFETY: `instance` came from this descriptor's `create` and `&mut
        // self` makes this the only call on it; `raw` points at the argv,
        // hello, connection or flow cell that outlives the call, as the
        // function table expects for `event`.
        let result =
            unsafe { (self.descriptor.hook)(self.instance.as_ptr(), ctx.raw(), event, raw) };
        lowered.raise();
        outcome(result, ctx)
    }
}

/// A [`Target`] in the ABI's form, kept alive for one call.
#[derive(Default)]
struct Lowered<'a> {
    words: Vec<RawBytes>,
    args: Option<StartArgs>,
    tls: Option<(TlsArgs, Option<&'a mut bool>)>,
}

impl<'a> Lowered<'a> {
    /// The pointer the hook gets for `target`.
    fn lower(&mut self, target: Target<'a, '_>) -> *mut c_void {
        match target {
            Target::Argv(argv) => {
                self.words = argv.iter().map(|w| RawBytes::new(w.as_bytes())).collect();
                let args = self.args.insert(StartArgs {
                    argv: self.words.as_ptr(),
                    argc: self.words.len(),
                });
                (args as *mut StartArgs).cast()
            }
            Target::Conn(conn) => (conn as *const Value).cast_mut().cast(),
            Target::Tls {
                client,
                server,
                ignore,
            } => {
                let conn = |v: &Value| (v as *const Value).cast::<HostConn>();
                let args = TlsArgs {
                    client: conn(client),
                    server: server.map_or(std::ptr::null(), conn),
                    ignore_connection: u32::from(ignore.as_deref().is_some_and(|i| *i)),
                };
                let (args, _) = self.tls.insert((args, ignore));
                (args as *mut TlsArgs).cast()
            }
            Target::Flow(cell) => (cell as *mut FlowCell<'_>).cast(),
            Target::Nothing => std::ptr::null_mut(),
        }
    }

    /// What the hook wrote back: the hello's choice.
    fn raise(self) {
        if let Some((args, Some(ignore))) = self.tls {
            *ignore = args.ignore_connection != 0;
        }
    }
}

impl Drop for ScriptInstance {
    fn drop(&mut self) {
        // SAFETY: created by this descriptor's `create`, destroyed once.
        unsafe { (self.descriptor.destroy)(self.instance.as_ptr()) }
    }
}
