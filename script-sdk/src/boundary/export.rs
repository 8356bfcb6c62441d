//! The script side of loading: the descriptor and the `extern "C"`
//! trampolines that turn host calls into [`Script`] method calls.
//!
//! Every trampoline catches panics: since Rust 1.81 a panic unwinding out of
//! an `extern "C"` function aborts the process, and a script must only ever
//! fail its own flow.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::host::{ConnHandle, CtxHandle, FlowHandle, TlsHandle};
use crate::abi::{
    self, HostApi, HostConn, HostCtx, HostFlow, RawBytes, ScriptDescriptor, StartArgs, TlsArgs,
};
use crate::{ClientHello, Concurrent, Connection, Context, Flow, Script, TlsData};

/// A script instance as the host holds it: the script and the host's table.
struct Instance<S> {
    script: S,
    api: &'static HostApi,
}

/// The descriptor for script type `S`; `export_script!` puts it in a static.
pub const fn descriptor<S: Script + Default>() -> ScriptDescriptor {
    ScriptDescriptor {
        sdk_version: RawBytes {
            ptr: abi::SDK_VERSION.as_ptr(),
            len: abi::SDK_VERSION.len(),
        },
        create: create::<S>,
        hook: hook::<S>,
        concurrent: 0,
        hook_shared: no_shared_hooks,
        options: options::<S>,
        destroy: destroy::<S>,
    }
}

/// The descriptor for a script type whose hooks in `mask` (bits
/// `1 << event`) are its [`Concurrent`] ones.
pub const fn descriptor_concurrent<S: Concurrent + Default>(mask: u64) -> ScriptDescriptor {
    ScriptDescriptor {
        concurrent: mask,
        hook_shared: hook_shared::<S>,
        ..descriptor::<S>()
    }
}

unsafe extern "C" fn options<S: Script>(api: *const HostApi, ctx: *const HostCtx) {
    // SAFETY: as in `create`: the host's table lives as long as the process.
    let api: &'static HostApi = unsafe { &*api };
    super::filter::set_host(api);
    let ctx = CtxHandle::new(api, ctx);
    let declared = catch_unwind(|| {
        for option in S::options() {
            let kind = match option.kind {
                crate::OptionKind::Bool => abi::OPTION_BOOL,
                crate::OptionKind::Int => abi::OPTION_INT,
                crate::OptionKind::Str => abi::OPTION_STR,
            };
            ctx.declare_option(option.name, kind, option.default, option.help);
        }
    });
    if let Err(payload) = declared {
        ctx.report_panic(&panic_message(&*payload));
    }
}

unsafe extern "C" fn no_shared_hooks(
    _: *const c_void,
    _: *const HostCtx,
    _: u32,
    _: *mut c_void,
) -> u32 {
    abi::HOOK_OK
}

unsafe extern "C" fn hook_shared<S: Concurrent>(
    instance: *const c_void,
    ctx: *const HostCtx,
    event: u32,
    target: *mut c_void,
) -> u32 {
    // SAFETY: `instance` came from `create::<S>`; the host only makes shared
    // calls while no `hook` call holds it exclusively, and `S: Sync` (the
    // `Concurrent` bound) makes shared access from several threads sound.
    let instance = unsafe { &*instance.cast::<Instance<S>>() };
    let api = instance.api;
    let ctx = CtxHandle::new(api, ctx);
    let context = Context::new(ctx);
    let script = &instance.script;
    run_hook(ctx, || match event {
        abi::EVENT_REQUEST_HEADERS => {
            Concurrent::request_headers(script, &context, &mut flow(api, target))
        }
        abi::EVENT_REQUEST => Concurrent::request(script, &context, &mut flow(api, target)),
        abi::EVENT_RESPONSE_HEADERS => {
            Concurrent::response_headers(script, &context, &mut flow(api, target))
        }
        abi::EVENT_RESPONSE => Concurrent::response(script, &context, &mut flow(api, target)),
        abi::EVENT_ERROR => Concurrent::error(script, &context, &mut flow(api, target)),
        abi::EVENT_WEBSOCKET_START => {
            Concurrent::websocket_start(script, &context, &mut flow(api, target))
        }
        abi::EVENT_WEBSOCKET_MESSAGE => {
            Concurrent::websocket_message(script, &context, &mut flow(api, target))
        }
        abi::EVENT_WEBSOCKET_END => {
            Concurrent::websocket_end(script, &context, &mut flow(api, target))
        }
        abi::EVENT_TCP_START => Concurrent::tcp_start(script, &context, &mut flow(api, target)),
        abi::EVENT_TCP_MESSAGE => Concurrent::tcp_message(script, &context, &mut flow(api, target)),
        abi::EVENT_TCP_END => Concurrent::tcp_end(script, &context, &mut flow(api, target)),
        abi::EVENT_TCP_ERROR => Concurrent::tcp_error(script, &context, &mut flow(api, target)),
        abi::EVENT_HTTP_CONNECT => {
            Concurrent::http_connect(script, &context, &mut flow(api, target))
        }
        abi::EVENT_HTTP_CONNECT_UPSTREAM => {
            Concurrent::http_connect_upstream(script, &context, &mut flow(api, target))
        }
        abi::EVENT_HTTP_CONNECTED => {
            Concurrent::http_connected(script, &context, &mut flow(api, target))
        }
        abi::EVENT_HTTP_CONNECT_ERROR => {
            Concurrent::http_connect_error(script, &context, &mut flow(api, target))
        }
        abi::EVENT_SERVER_CONNECTED => {
            Concurrent::server_connected(script, &context, &conn(api, target))
        }
        abi::EVENT_SERVER_DISCONNECTED => {
            Concurrent::server_disconnected(script, &context, &conn(api, target))
        }
        abi::EVENT_SERVER_CONNECT_ERROR => {
            Concurrent::server_connect_error(script, &context, &conn(api, target))
        }
        abi::EVENT_TLS_CLIENTHELLO => {
            Concurrent::tls_clienthello(script, &context, &mut hello(api, target))
        }
        abi::EVENT_TLS_START_CLIENT => {
            Concurrent::tls_start_client(script, &context, &tls(api, target, abi::CONN_CLIENT))
        }
        abi::EVENT_TLS_START_SERVER => {
            Concurrent::tls_start_server(script, &context, &tls(api, target, abi::CONN_SERVER))
        }
        abi::EVENT_TLS_ESTABLISHED_CLIENT => Concurrent::tls_established_client(
            script,
            &context,
            &tls(api, target, abi::CONN_CLIENT),
        ),
        abi::EVENT_TLS_ESTABLISHED_SERVER => Concurrent::tls_established_server(
            script,
            &context,
            &tls(api, target, abi::CONN_SERVER),
        ),
        abi::EVENT_TLS_FAILED_CLIENT => {
            Concurrent::tls_failed_client(script, &context, &tls(api, target, abi::CONN_CLIENT))
        }
        abi::EVENT_TLS_FAILED_SERVER => {
            Concurrent::tls_failed_server(script, &context, &tls(api, target, abi::CONN_SERVER))
        }
        abi::EVENT_UPDATE => Concurrent::update(script, &context, &flow(api, target)),
        _ => {}
    })
}

/// A descriptor that may live in a `static`.
#[derive(Debug)]
pub struct StaticDescriptor(pub ScriptDescriptor);

// SAFETY: the descriptor is never mutated; its pointers are to `'static`
// string data and functions, which any thread may read or call.
unsafe impl Sync for StaticDescriptor {}

thread_local! {
    /// Where the last panic on this thread happened, filled by the hook that
    /// `quiet_panics` installs.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Set by a trait's default hook: the script does nothing for this event.
    static DEFAULT_HOOK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Called by every default hook body, so the trampoline can tell the host
/// that the script ignores the event.
pub fn default_hook() {
    DEFAULT_HOOK.with(|d| d.set(true));
}

/// Runs one hook call for the host: a panic is caught and reported, and
/// the result says whether the trait's default hook was what ran.
fn run_hook(ctx: CtxHandle, call: impl FnOnce()) -> u32 {
    DEFAULT_HOOK.with(|d| d.set(false));
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(()) if DEFAULT_HOOK.with(|d| d.replace(false)) => abi::HOOK_DEFAULT,
        Ok(()) => abi::HOOK_OK,
        Err(payload) => {
            ctx.report_panic(&panic_message(&*payload));
            abi::HOOK_PANICKED
        }
    }
}

/// Replaces this library's panic hook (its own copy of std, when loaded as a
/// cdylib) with one that only remembers where the panic happened, so the
/// host reports each panic once, in its own words.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    };
    match PANIC_LOCATION.with(|slot| slot.borrow_mut().take()) {
        Some(location) => format!("{text} (at {location})"),
        None => text,
    }
}

unsafe extern "C" fn create<S: Script + Default>(
    api: *const HostApi,
    ctx: *const HostCtx,
) -> *mut c_void {
    // SAFETY: the host passes its table, which lives as long as the process
    // (the host never frees it while a script is loaded).
    let api: &'static HostApi = unsafe { &*api };
    super::filter::set_host(api);
    let ctx = CtxHandle::new(api, ctx);
    match catch_unwind(|| {
        Box::new(Instance {
            script: S::default(),
            api,
        })
    }) {
        Ok(instance) => Box::into_raw(instance).cast(),
        Err(payload) => {
            ctx.report_panic(&panic_message(&*payload));
            std::ptr::null_mut()
        }
    }
}

unsafe extern "C" fn destroy<S: Script>(instance: *mut c_void) {
    // SAFETY: `instance` came from `create::<S>` and the host destroys it once.
    let instance = unsafe { Box::from_raw(instance.cast::<Instance<S>>()) };
    // A panicking Drop must not unwind into the host.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(instance)));
}

unsafe extern "C" fn hook<S: Script>(
    instance: *mut c_void,
    ctx: *const HostCtx,
    event: u32,
    target: *mut c_void,
) -> u32 {
    // SAFETY: `instance` came from `create::<S>`, and the host runs one hook
    // of an instance at a time, so this is the only reference to it.
    let instance = unsafe { &mut *instance.cast::<Instance<S>>() };
    let api = instance.api;
    let ctx = CtxHandle::new(api, ctx);
    let context = Context::new(ctx);
    let script = &mut instance.script;
    run_hook(ctx, || {
        match event {
            abi::EVENT_START => {
                // SAFETY: for `start` the host passes null or a `StartArgs` whose
                // words are UTF-8 and live for this call.
                let argv: Vec<&str> = unsafe { start_args(target.cast::<StartArgs>()) };
                script.start(&context, &argv);
            }
            abi::EVENT_CLIENT_CONNECT => script.client_connect(
                &context,
                &Connection::new(ConnHandle::new(api, target.cast::<HostConn>())),
            ),
            abi::EVENT_SERVER_CONNECT => script.server_connect(
                &context,
                &Connection::new(ConnHandle::new(api, target.cast::<HostConn>())),
            ),
            abi::EVENT_CLIENT_DISCONNECT => script.client_disconnect(
                &context,
                &Connection::new(ConnHandle::new(api, target.cast::<HostConn>())),
            ),
            abi::EVENT_DONE => script.done(&context),
            abi::EVENT_REQUEST_HEADERS => script.request_headers(&context, &mut flow(api, target)),
            abi::EVENT_REQUEST => script.request(&context, &mut flow(api, target)),
            abi::EVENT_RESPONSE_HEADERS => {
                script.response_headers(&context, &mut flow(api, target))
            }
            abi::EVENT_RESPONSE => script.response(&context, &mut flow(api, target)),
            abi::EVENT_ERROR => script.error(&context, &mut flow(api, target)),
            abi::EVENT_WEBSOCKET_START => script.websocket_start(&context, &mut flow(api, target)),
            abi::EVENT_WEBSOCKET_MESSAGE => {
                script.websocket_message(&context, &mut flow(api, target))
            }
            abi::EVENT_WEBSOCKET_END => script.websocket_end(&context, &mut flow(api, target)),
            abi::EVENT_TCP_START => script.tcp_start(&context, &mut flow(api, target)),
            abi::EVENT_TCP_MESSAGE => script.tcp_message(&context, &mut flow(api, target)),
            abi::EVENT_TCP_END => script.tcp_end(&context, &mut flow(api, target)),
            abi::EVENT_TCP_ERROR => script.tcp_error(&context, &mut flow(api, target)),
            abi::EVENT_RUNNING => script.running(&context),
            abi::EVENT_CONFIGURE => {
                // SAFETY: for `configure` the host passes a `StartArgs` of
                // option names, UTF-8, living for this call.
                let updated: Vec<&str> = unsafe { start_args(target.cast::<StartArgs>()) };
                script.configure(&context, &updated);
            }
            abi::EVENT_HTTP_CONNECT => script.http_connect(&context, &mut flow(api, target)),
            abi::EVENT_HTTP_CONNECT_UPSTREAM => {
                script.http_connect_upstream(&context, &mut flow(api, target))
            }
            abi::EVENT_HTTP_CONNECTED => script.http_connected(&context, &mut flow(api, target)),
            abi::EVENT_HTTP_CONNECT_ERROR => {
                script.http_connect_error(&context, &mut flow(api, target))
            }
            abi::EVENT_SERVER_CONNECTED => script.server_connected(&context, &conn(api, target)),
            abi::EVENT_SERVER_DISCONNECTED => {
                script.server_disconnected(&context, &conn(api, target))
            }
            abi::EVENT_SERVER_CONNECT_ERROR => {
                script.server_connect_error(&context, &conn(api, target))
            }
            abi::EVENT_TLS_CLIENTHELLO => script.tls_clienthello(&context, &mut hello(api, target)),
            abi::EVENT_TLS_START_CLIENT => {
                script.tls_start_client(&context, &tls(api, target, abi::CONN_CLIENT))
            }
            abi::EVENT_TLS_START_SERVER => {
                script.tls_start_server(&context, &tls(api, target, abi::CONN_SERVER))
            }
            abi::EVENT_TLS_ESTABLISHED_CLIENT => {
                script.tls_established_client(&context, &tls(api, target, abi::CONN_CLIENT))
            }
            abi::EVENT_TLS_ESTABLISHED_SERVER => {
                script.tls_established_server(&context, &tls(api, target, abi::CONN_SERVER))
            }
            abi::EVENT_TLS_FAILED_CLIENT => {
                script.tls_failed_client(&context, &tls(api, target, abi::CONN_CLIENT))
            }
            abi::EVENT_TLS_FAILED_SERVER => {
                script.tls_failed_server(&context, &tls(api, target, abi::CONN_SERVER))
            }
            abi::EVENT_UPDATE => script.update(&context, &flow(api, target)),
            // An event from a newer host: this script has no hook for it.
            _ => {}
        }
    })
}

fn flow(api: &'static HostApi, target: *mut c_void) -> Flow {
    Flow::new(FlowHandle::new(api, target.cast::<HostFlow>()))
}

fn conn(api: &'static HostApi, target: *mut c_void) -> Connection {
    Connection::new(ConnHandle::new(api, target.cast::<HostConn>()))
}

fn hello(api: &'static HostApi, target: *mut c_void) -> ClientHello {
    ClientHello::new(TlsHandle::new(api, target.cast::<TlsArgs>()))
}

fn tls(api: &'static HostApi, target: *mut c_void, side: u32) -> TlsData {
    TlsData::new(TlsHandle::new(api, target.cast::<TlsArgs>()), side)
}

/// Reads `start`'s argv.
///
/// # Safety
/// `args` is null or points to a `StartArgs` whose words are valid UTF-8
/// and outlive the returned slices.
unsafe fn start_args<'a>(args: *const StartArgs) -> Vec<&'a str> {
    if args.is_null() {
        return Vec::new();
    }
    // SAFETY: non-null, so a valid `StartArgs` per this function's contract.
    let args = unsafe { &*args };
    if args.argc == 0 {
        return Vec::new();
    }
    // SAFETY: the host passes `argc` consecutive `RawBytes`.
    let words = unsafe { std::slice::from_raw_parts(args.argv, args.argc) };
    words
        .iter()
        .map(|w| {
            if w.len == 0 {
                return "";
            }
            // SAFETY: each word is a live run of `len` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(w.ptr, w.len) };
            std::str::from_utf8(bytes).unwrap_or("")
        })
        .collect()
}
