//! The function table the host lends every script: each entry turns the
//! pointers a script passes back into the Rust objects they stand for and
//! calls into [`FlowCell`] or the connection readers.
//!
//! Pointer contract, upheld by [`super::ScriptInstance::call`]: a
//! `HostFlow` is a `FlowCell` and a `HostConn` a connection `Value`, both
//! alive for the whole hook call; a `HostCtx` is a `CallCtx`. Hooks run one
//! at a time per flow, so no two calls overlap. Every entry catches panics,
//! which must not unwind into the script.

use std::panic::{AssertUnwindSafe, catch_unwind};

use waylay_sdk::abi::{self, HostApi, HostConn, HostCtx, HostFlow, RawBytes};
use waylay_sdk::{Level, OptionKind};

use super::{Acts, CallCtx};
use crate::script::cell::{self, FlowCell};
use crate::script::declared::DeclaredOption;
use crate::tnetstring::Value;

/// The table; lives as long as the process.
pub(crate) static HOST_API: HostApi = HostApi {
    size: size_of::<HostApi>(),
    log,
    report_panic,
    declare_option,
    option_get,
    flow_text,
    flow_set_text,
    flow_float,
    flow_int,
    flow_kill,
    metadata_get,
    metadata_set,
    last_error,
    msg_exists,
    msg_bytes,
    msg_set_bytes,
    msg_int,
    msg_set_int,
    msg_float,
    msg_decoded,
    msg_set_decoded,
    response_new,
    headers_len,
    header_at,
    headers_edit,
    flow_conn,
    conn_bytes,
    conn_int,
    conn_float,
    ws_msg_bytes,
    ws_msg_set_bytes,
    ws_msg_int,
    ws_msg_set_int,
    ws_msg_float,
    ws_inject,
    tcp_msg,
    tcp_msg_set_content,
    tcp_inject,
    filter_compile: super::filter_api::filter_compile,
    filter_matches: super::filter_api::filter_matches,
    filter_free: super::filter_api::filter_free,
    duplicate,
    replay,
    msg_view,
    msg_set_view,
    msg_op,
    msg_replace,
};

/// Runs `f`, turning a host panic into `STATUS_INVALID` rather than an
/// abort.
fn guard(f: impl FnOnce() -> i32) -> i32 {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(abi::STATUS_INVALID)
}

/// # Safety
/// `raw` must be null or a live run of `len` bytes.
unsafe fn bytes<'a>(raw: RawBytes) -> &'a [u8] {
    if raw.len == 0 || raw.ptr.is_null() {
        return &[];
    }
    // SAFETY: per this function's contract.
    unsafe { std::slice::from_raw_parts(raw.ptr, raw.len) }
}

/// # Safety
/// `out` must be writable; `value` must outlive the script's use of it.
unsafe fn put(out: *mut RawBytes, value: Option<&[u8]>) -> i32 {
    match value {
        Some(v) => {
            // SAFETY: the caller passes a pointer to its own local.
            unsafe { out.write(RawBytes::new(v)) };
            abi::STATUS_OK
        }
        None => abi::STATUS_ABSENT,
    }
}

/// # Safety
/// `out` must be writable.
unsafe fn put_copy<T>(out: *mut T, value: Option<T>) -> i32 {
    match value {
        Some(v) => {
            // SAFETY: the caller passes a pointer to its own local.
            unsafe { out.write(v) };
            abi::STATUS_OK
        }
        None => abi::STATUS_ABSENT,
    }
}

/// # Safety
/// `flow` must be the `FlowCell` of the current call.
unsafe fn cell_ref<'a>(flow: *const HostFlow) -> &'a FlowCell<'a> {
    // SAFETY: per this function's contract.
    unsafe { &*flow.cast::<FlowCell<'a>>() }
}

/// # Safety
/// `flow` must be the `FlowCell` of the current call, not otherwise
/// borrowed for the length of this call.
unsafe fn cell_mut<'a>(flow: *mut HostFlow) -> &'a mut FlowCell<'a> {
    // SAFETY: per this function's contract.
    unsafe { &mut *flow.cast::<FlowCell<'a>>() }
}

fn status(cell: &FlowCell<'_>, result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => abi::STATUS_OK,
        Err(e) => {
            cell.set_last_error(&e);
            abi::STATUS_INVALID
        }
    }
}

unsafe extern "C" fn log(ctx: *const HostCtx, level: u32, msg: RawBytes) {
    let _ = guard(|| {
        // SAFETY: `ctx` is the `CallCtx` of this call; `msg` is the script's
        // live string.
        let (ctx, msg) = unsafe { (&*ctx.cast::<CallCtx<'_>>(), bytes(msg)) };
        let level = match level {
            abi::LEVEL_DEBUG => Level::Debug,
            abi::LEVEL_WARN => Level::Warn,
            abi::LEVEL_ERROR => Level::Error,
            _ => Level::Info,
        };
        ctx.log
            .log(ctx.script, level, &String::from_utf8_lossy(msg));
        abi::STATUS_OK
    });
}

unsafe extern "C" fn report_panic(ctx: *const HostCtx, msg: RawBytes) {
    let _ = guard(|| {
        // SAFETY: as in `log`.
        let (ctx, msg) = unsafe { (&*ctx.cast::<CallCtx<'_>>(), bytes(msg)) };
        *ctx.panic.borrow_mut() = Some(String::from_utf8_lossy(msg).into_owned());
        abi::STATUS_OK
    });
}

unsafe extern "C" fn declare_option(
    ctx: *const HostCtx,
    name: RawBytes,
    kind: u32,
    default: RawBytes,
    help: RawBytes,
) {
    let _ = guard(|| {
        // SAFETY: `ctx` is the `CallCtx` of this call; the runs are the
        // script's live strings.
        let (ctx, name, default, help) = unsafe {
            (
                &*ctx.cast::<CallCtx<'_>>(),
                bytes(name),
                bytes(default),
                bytes(help),
            )
        };
        let kind = match kind {
            abi::OPTION_BOOL => OptionKind::Bool,
            abi::OPTION_INT => OptionKind::Int,
            _ => OptionKind::Str,
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        ctx.declared.borrow_mut().push(DeclaredOption {
            name: text(name),
            kind,
            default: text(default),
            help: text(help),
            script: ctx.script.to_owned(),
        });
        abi::STATUS_OK
    });
}

unsafe extern "C" fn option_get(ctx: *const HostCtx, name: RawBytes, out: *mut RawBytes) -> i32 {
    guard(|| {
        // SAFETY: `ctx` is the `CallCtx` of this call; `name` is live.
        let (ctx, name) = unsafe { (&*ctx.cast::<CallCtx<'_>>(), bytes(name)) };
        let value = std::str::from_utf8(name)
            .ok()
            .and_then(|n| ctx.options?.get(n));
        // SAFETY: `out` is the script's local; the values live as long as
        // the run's `Scripts`.
        unsafe { put(out, value.map(String::as_bytes)) }
    })
}

unsafe extern "C" fn flow_text(flow: *const HostFlow, field: u32, out: *mut RawBytes) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put(out, cell_ref(flow).flow_text(field)) })
}

unsafe extern "C" fn flow_set_text(flow: *mut HostFlow, field: u32, value: RawBytes) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `value` is live for the call.
        let (cell, value) = unsafe { (cell_mut(flow), bytes(value)) };
        let result = cell.set_flow_text(field, value);
        status(cell, result)
    })
}

unsafe extern "C" fn flow_float(flow: *const HostFlow, field: u32, out: *mut f64) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).flow_float(field)) })
}

unsafe extern "C" fn flow_int(flow: *const HostFlow, field: u32, out: *mut i64) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).flow_int(field)) })
}

unsafe extern "C" fn flow_kill(flow: *mut HostFlow) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_mut(flow) };
        let result = cell.kill();
        status(cell, result)
    })
}

unsafe extern "C" fn metadata_get(flow: *const HostFlow, key: RawBytes, out: *mut RawBytes) -> i32 {
    // SAFETY: `flow` is this call's cell, `key` live, `out` the script's local.
    guard(|| unsafe { put(out, cell_ref(flow).metadata_get(bytes(key))) })
}

unsafe extern "C" fn metadata_set(
    flow: *mut HostFlow,
    key: RawBytes,
    value: RawBytes,
    remove: bool,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `key` and `value` are live.
        let (cell, key, value) = unsafe { (cell_mut(flow), bytes(key), bytes(value)) };
        let result = cell.metadata_set(key, (!remove).then_some(value));
        status(cell, result)
    })
}

unsafe extern "C" fn last_error(flow: *const HostFlow, out: *mut RawBytes) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        let error = cell.last_error();
        // SAFETY: `out` is the script's local. The bytes stay put until the
        // next refused call, and the SDK copies them at once.
        unsafe { put(out, Some(&error[..])) }
    })
}

unsafe extern "C" fn msg_exists(flow: *const HostFlow, which: u32) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        if cell.msg_exists(which) {
            abi::STATUS_OK
        } else {
            abi::STATUS_ABSENT
        }
    })
}

unsafe extern "C" fn msg_bytes(
    flow: *const HostFlow,
    which: u32,
    field: u32,
    out: *mut RawBytes,
) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put(out, cell_ref(flow).msg_bytes(which, field)) })
}

unsafe extern "C" fn msg_set_bytes(
    flow: *mut HostFlow,
    which: u32,
    field: u32,
    value: RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `value` is live.
        let (cell, value) = unsafe { (cell_mut(flow), bytes(value)) };
        let result = cell.set_msg_bytes(which, field, value);
        status(cell, result)
    })
}

unsafe extern "C" fn msg_int(flow: *const HostFlow, which: u32, field: u32, out: *mut i64) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).msg_int(which, field)) })
}

unsafe extern "C" fn msg_set_int(flow: *mut HostFlow, which: u32, field: u32, value: i64) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_mut(flow) };
        let result = cell.set_msg_int(which, field, value);
        status(cell, result)
    })
}

unsafe extern "C" fn msg_float(
    flow: *const HostFlow,
    which: u32,
    field: u32,
    out: *mut f64,
) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).msg_float(which, field)) })
}

unsafe extern "C" fn msg_decoded(flow: *const HostFlow, which: u32, out: *mut RawBytes) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        match cell.decoded(which) {
            // SAFETY: `out` is the script's local; the decoded bytes are
            // cached in the cell until the next change.
            Ok(body) => unsafe { put(out, body) },
            Err(e) => {
                cell.set_last_error(&e.to_string());
                abi::STATUS_INVALID
            }
        }
    })
}

unsafe extern "C" fn msg_set_decoded(flow: *mut HostFlow, which: u32, value: RawBytes) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `value` is live.
        let (cell, value) = unsafe { (cell_mut(flow), bytes(value)) };
        let result = cell.set_decoded(which, value);
        status(cell, result)
    })
}

unsafe extern "C" fn response_new(flow: *mut HostFlow, status_code: i64) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_mut(flow) };
        let result = cell.new_response(status_code);
        status(cell, result)
    })
}

unsafe extern "C" fn headers_len(flow: *const HostFlow, which: u32, out: *mut usize) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).headers_len(which)) })
}

unsafe extern "C" fn header_at(
    flow: *const HostFlow,
    which: u32,
    index: usize,
    name: *mut RawBytes,
    value: *mut RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        match cell.header_at(which, index) {
            Some((n, v)) => {
                // SAFETY: `name` and `value` are the script's locals.
                unsafe {
                    put(name, Some(n));
                    put(value, Some(v))
                }
            }
            None => abi::STATUS_ABSENT,
        }
    })
}

unsafe extern "C" fn headers_edit(
    flow: *mut HostFlow,
    which: u32,
    op: u32,
    index: usize,
    name: RawBytes,
    value: RawBytes,
    removed: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `name` and `value` are live.
        let (cell, name, value) = unsafe { (cell_mut(flow), bytes(name), bytes(value)) };
        match cell.headers_edit(which, op, index, name, value) {
            // SAFETY: `removed` is the script's local.
            Ok(n) => unsafe { put_copy(removed, Some(n)) },
            Err(e) => status(cell, Err(e)),
        }
    })
}

unsafe extern "C" fn flow_conn(flow: *const HostFlow, side: u32) -> *const HostConn {
    let conn = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        cell.conn(side)
            .map_or(std::ptr::null(), |v| (v as *const Value).cast::<HostConn>())
    }));
    conn.unwrap_or(std::ptr::null())
}

/// # Safety
/// `conn` must be a connection value handed out for the current call.
unsafe fn conn_ref<'a>(conn: *const HostConn) -> &'a Value {
    // SAFETY: per this function's contract.
    unsafe { &*conn.cast::<Value>() }
}

unsafe extern "C" fn conn_bytes(
    conn: *const HostConn,
    field: u32,
    index: usize,
    out: *mut RawBytes,
) -> i32 {
    // SAFETY: `conn` is live for this call, `out` the script's local.
    guard(|| unsafe { put(out, cell::conn_bytes(conn_ref(conn), field, index)) })
}

unsafe extern "C" fn conn_int(conn: *const HostConn, field: u32, out: *mut i64) -> i32 {
    // SAFETY: `conn` is live for this call, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell::conn_int(conn_ref(conn), field)) })
}

unsafe extern "C" fn conn_float(conn: *const HostConn, field: u32, out: *mut f64) -> i32 {
    // SAFETY: `conn` is live for this call, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell::conn_float(conn_ref(conn), field)) })
}

unsafe extern "C" fn ws_msg_bytes(
    flow: *const HostFlow,
    index: usize,
    field: u32,
    out: *mut RawBytes,
) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put(out, cell_ref(flow).ws_msg_bytes(index, field)) })
}

unsafe extern "C" fn ws_msg_set_bytes(
    flow: *mut HostFlow,
    index: usize,
    field: u32,
    value: RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `value` is live.
        let (cell, value) = unsafe { (cell_mut(flow), bytes(value)) };
        let result = cell.set_ws_msg_bytes(index, field, value);
        status(cell, result)
    })
}

unsafe extern "C" fn ws_msg_int(
    flow: *const HostFlow,
    index: usize,
    field: u32,
    out: *mut i64,
) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).ws_msg_int(index, field)) })
}

unsafe extern "C" fn ws_msg_set_int(
    flow: *mut HostFlow,
    index: usize,
    field: u32,
    value: i64,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_mut(flow) };
        let result = cell.set_ws_msg_int(index, field, value);
        status(cell, result)
    })
}

unsafe extern "C" fn ws_msg_float(
    flow: *const HostFlow,
    index: usize,
    field: u32,
    out: *mut f64,
) -> i32 {
    // SAFETY: `flow` is this call's cell, `out` the script's local.
    guard(|| unsafe { put_copy(out, cell_ref(flow).ws_msg_float(index, field)) })
}

unsafe extern "C" fn ws_inject(
    flow: *mut HostFlow,
    to_client: bool,
    is_text: bool,
    content: RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `content` is live.
        let (cell, content) = unsafe { (cell_mut(flow), bytes(content)) };
        let result = cell.ws_inject(to_client, is_text, content);
        status(cell, result)
    })
}

unsafe extern "C" fn tcp_msg(
    flow: *const HostFlow,
    index: usize,
    from_client: *mut bool,
    content: *mut RawBytes,
    timestamp: *mut f64,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        let Some((client, bytes, at)) = cell.tcp_msg(index) else {
            return abi::STATUS_ABSENT;
        };
        // SAFETY: the three outs are the script's locals; the content lives
        // in the flow until the next change.
        unsafe {
            from_client.write(client);
            timestamp.write(at.unwrap_or(f64::NAN));
            put(content, Some(bytes))
        }
    })
}

unsafe extern "C" fn tcp_msg_set_content(
    flow: *mut HostFlow,
    index: usize,
    content: RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `content` is live.
        let (cell, content) = unsafe { (cell_mut(flow), bytes(content)) };
        let result = cell.set_tcp_msg_content(index, content);
        status(cell, result)
    })
}

unsafe extern "C" fn tcp_inject(flow: *mut HostFlow, to_client: bool, content: RawBytes) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `content` is live.
        let (cell, content) = unsafe { (cell_mut(flow), bytes(content)) };
        let result = cell.tcp_inject(to_client, content);
        status(cell, result)
    })
}

unsafe extern "C" fn duplicate(ctx: *const HostCtx, flow: *mut HostFlow) -> *mut HostFlow {
    let made = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is the `CallCtx` of this call, `flow` one of its
        // cells (the hook's flow or an earlier copy).
        let (ctx, cell) = unsafe { (&*ctx.cast::<CallCtx<'_>>(), cell_ref(flow)) };
        if let Err(e) = may_act(ctx) {
            cell.set_last_error(&e);
            return std::ptr::null_mut();
        }
        ctx.keep_copy(cell.flow().duplicate()).cast::<HostFlow>()
    }));
    made.unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn replay(ctx: *const HostCtx, flow: *mut HostFlow) -> i32 {
    guard(|| {
        // SAFETY: as in `duplicate`.
        let (ctx, cell) = unsafe { (&*ctx.cast::<CallCtx<'_>>(), cell_ref(flow)) };
        if let Err(e) = may_act(ctx) {
            return status(cell, Err(e));
        }
        if let Some(problem) = cell.flow().replay_problem() {
            return status(cell, Err(problem.into()));
        }
        ctx.keep_replay(cell);
        abi::STATUS_OK
    })
}

/// Whether the hook may make a copy or a replay; the reason it may not.
fn may_act(ctx: &CallCtx<'_>) -> Result<(), String> {
    match ctx.acts {
        Acts::Nowhere => Err(
            "copies and replays are not available here (only in a run of the runner, live or offline)"
                .into(),
        ),
        Acts::InCopy => Err(
            "this flow is another script's copy: its hooks cannot make copies or replays (scripts copying each other's copies would never end)"
                .into(),
        ),
        Acts::To(actions) => actions
            .ready()
            .map_err(|e| format!("cannot copy or replay here: {e}")),
    }
}

unsafe extern "C" fn msg_view(
    flow: *const HostFlow,
    which: u32,
    view: u32,
    out: *mut RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_ref(flow) };
        match cell.msg_view(which, view) {
            // SAFETY: `out` is the script's local; the view is cached in the
            // cell until the next change.
            Ok(bytes) => unsafe { put(out, bytes) },
            Err(e) => {
                cell.set_last_error(e);
                abi::STATUS_INVALID
            }
        }
    })
}

unsafe extern "C" fn msg_set_view(
    flow: *mut HostFlow,
    which: u32,
    view: u32,
    value: RawBytes,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `value` is live.
        let (cell, value) = unsafe { (cell_mut(flow), bytes(value)) };
        let result = cell.set_msg_view(which, view, value);
        status(cell, result)
    })
}

unsafe extern "C" fn msg_op(flow: *mut HostFlow, which: u32, op: u32) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell.
        let cell = unsafe { cell_mut(flow) };
        let result = cell.msg_op(which, op);
        status(cell, result)
    })
}

unsafe extern "C" fn msg_replace(
    flow: *mut HostFlow,
    which: u32,
    pattern: RawBytes,
    repl: RawBytes,
    count: usize,
    replaced: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: `flow` is this call's cell; `pattern` and `repl` are live.
        let (cell, pattern, repl) = unsafe { (cell_mut(flow), bytes(pattern), bytes(repl)) };
        match cell.msg_replace(which, pattern, repl, count) {
            // SAFETY: `replaced` is the script's local.
            Ok(n) => unsafe { put_copy(replaced, Some(n)) },
            Err(e) => status(cell, Err(e)),
        }
    })
}
