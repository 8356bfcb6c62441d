//! Safe wrappers over the host's function table, used by every view type.
//!
//! A [`FlowHandle`] or [`ConnHandle`] is only ever built by the export
//! trampolines from pointers the host passed to the current hook call, and
//! the views that hold one are only lent to the script by reference for the
//! length of that call. That is the whole safety argument of this file.

use crate::abi::{self, HostApi, HostConn, HostCtx, HostFlow, RawBytes, TlsArgs};

/// Turns host-owned bytes into a slice living as long as `_owner`.
fn slice<T: ?Sized>(_owner: &T, raw: RawBytes) -> &[u8] {
    if raw.len == 0 {
        return &[];
    }
    // SAFETY: the host returned `raw` for an object that lives for the whole
    // hook call and does not change until a `&mut` method of the same view
    // runs, which the borrow on `_owner` rules out.
    unsafe { std::slice::from_raw_parts(raw.ptr, raw.len) }
}

/// A flow lent by the host for one hook call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FlowHandle {
    api: &'static HostApi,
    raw: *mut HostFlow,
}

impl FlowHandle {
    pub(crate) fn new(api: &'static HostApi, raw: *mut HostFlow) -> FlowHandle {
        FlowHandle { api, raw }
    }

    /// The host's flow, for host functions outside this file (filters).
    pub(crate) fn raw(&self) -> *mut HostFlow {
        self.raw
    }

    pub(crate) fn flow_text(&self, field: u32) -> Option<&[u8]> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.flow_text)(self.raw, field, &mut out) };
        (status == abi::STATUS_OK).then(|| slice(self, out))
    }

    pub(crate) fn flow_set_text(&mut self, field: u32, value: &[u8]) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `value`.
        let status = unsafe { (self.api.flow_set_text)(self.raw, field, RawBytes::new(value)) };
        self.check(status)
    }

    pub(crate) fn flow_float(&self, field: u32) -> Option<f64> {
        let mut out = 0.0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.flow_float)(self.raw, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn flow_int(&self, field: u32) -> Option<i64> {
        let mut out = 0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.flow_int)(self.raw, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn kill(&mut self) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call.
        let status = unsafe { (self.api.flow_kill)(self.raw) };
        self.check(status)
    }

    pub(crate) fn metadata_get(&self, key: &str) -> Option<&[u8]> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status =
            unsafe { (self.api.metadata_get)(self.raw, RawBytes::new(key.as_bytes()), &mut out) };
        (status == abi::STATUS_OK).then(|| slice(self, out))
    }

    pub(crate) fn metadata_set(&mut self, key: &str, value: Option<&str>) -> Result<(), Vec<u8>> {
        let (value, remove) = match value {
            Some(v) => (RawBytes::new(v.as_bytes()), false),
            None => (RawBytes::EMPTY, true),
        };
        // SAFETY: `raw` is the live flow of this call; the host copies both runs.
        let status = unsafe {
            (self.api.metadata_set)(self.raw, RawBytes::new(key.as_bytes()), value, remove)
        };
        self.check(status)
    }

    pub(crate) fn msg_exists(&self, which: u32) -> bool {
        // SAFETY: `raw` is the live flow of this call.
        unsafe { (self.api.msg_exists)(self.raw, which) == abi::STATUS_OK }
    }

    pub(crate) fn msg_bytes(&self, which: u32, field: u32) -> Option<&[u8]> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.msg_bytes)(self.raw, which, field, &mut out) };
        (status == abi::STATUS_OK).then(|| slice(self, out))
    }

    pub(crate) fn msg_set_bytes(
        &mut self,
        which: u32,
        field: u32,
        value: &[u8],
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `value`.
        let status =
            unsafe { (self.api.msg_set_bytes)(self.raw, which, field, RawBytes::new(value)) };
        self.check(status)
    }

    pub(crate) fn msg_int(&self, which: u32, field: u32) -> Option<i64> {
        let mut out = 0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.msg_int)(self.raw, which, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn msg_set_int(
        &mut self,
        which: u32,
        field: u32,
        value: i64,
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call.
        let status = unsafe { (self.api.msg_set_int)(self.raw, which, field, value) };
        self.check(status)
    }

    pub(crate) fn msg_float(&self, which: u32, field: u32) -> Option<f64> {
        let mut out = 0.0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.msg_float)(self.raw, which, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn msg_decoded(&self, which: u32) -> Result<Option<&[u8]>, Vec<u8>> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.msg_decoded)(self.raw, which, &mut out) };
        match status {
            abi::STATUS_OK => Ok(Some(slice(self, out))),
            abi::STATUS_ABSENT => Ok(None),
            _ => Err(self.last_error()),
        }
    }

    pub(crate) fn msg_set_decoded(&mut self, which: u32, value: &[u8]) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `value`.
        let status = unsafe { (self.api.msg_set_decoded)(self.raw, which, RawBytes::new(value)) };
        self.check(status)
    }

    pub(crate) fn response_new(&mut self, status_code: u16) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call.
        let status = unsafe { (self.api.response_new)(self.raw, i64::from(status_code)) };
        self.check(status)
    }

    pub(crate) fn headers_len(&self, which: u32) -> usize {
        let mut out = 0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.headers_len)(self.raw, which, &mut out) };
        if status == abi::STATUS_OK { out } else { 0 }
    }

    pub(crate) fn header_at(&self, which: u32, index: usize) -> Option<(&[u8], &[u8])> {
        let (mut name, mut value) = (RawBytes::EMPTY, RawBytes::EMPTY);
        // SAFETY: `raw` is the live flow of this call; both outs are locals.
        let status = unsafe { (self.api.header_at)(self.raw, which, index, &mut name, &mut value) };
        (status == abi::STATUS_OK).then(|| (slice(self, name), slice(self, value)))
    }

    pub(crate) fn headers_edit(
        &mut self,
        which: u32,
        op: u32,
        index: usize,
        name: &[u8],
        value: &[u8],
    ) -> Result<usize, Vec<u8>> {
        let mut removed = 0;
        // SAFETY: `raw` is the live flow of this call; the host copies both
        // runs; `removed` is a local.
        let status = unsafe {
            (self.api.headers_edit)(
                self.raw,
                which,
                op,
                index,
                RawBytes::new(name),
                RawBytes::new(value),
                &mut removed,
            )
        };
        self.check(status).map(|()| removed)
    }

    pub(crate) fn ws_msg_bytes(&self, index: usize, field: u32) -> Option<&[u8]> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.ws_msg_bytes)(self.raw, index, field, &mut out) };
        (status == abi::STATUS_OK).then(|| slice(self, out))
    }

    pub(crate) fn ws_msg_set_bytes(
        &mut self,
        index: usize,
        field: u32,
        value: &[u8],
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `value`.
        let status =
            unsafe { (self.api.ws_msg_set_bytes)(self.raw, index, field, RawBytes::new(value)) };
        self.check(status)
    }

    pub(crate) fn ws_msg_int(&self, index: usize, field: u32) -> Option<i64> {
        let mut out = 0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.ws_msg_int)(self.raw, index, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn ws_msg_set_int(
        &mut self,
        index: usize,
        field: u32,
        value: i64,
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call.
        let status = unsafe { (self.api.ws_msg_set_int)(self.raw, index, field, value) };
        self.check(status)
    }

    pub(crate) fn ws_msg_float(&self, index: usize, field: u32) -> Option<f64> {
        let mut out = 0.0;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        let status = unsafe { (self.api.ws_msg_float)(self.raw, index, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn ws_inject(
        &mut self,
        to_client: bool,
        is_text: bool,
        content: &[u8],
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `content`.
        let status =
            unsafe { (self.api.ws_inject)(self.raw, to_client, is_text, RawBytes::new(content)) };
        self.check(status)
    }

    /// The TCP message at `index`: who sent it, its content and when.
    pub(crate) fn tcp_msg(&self, index: usize) -> Option<(bool, &[u8], Option<f64>)> {
        let (mut from_client, mut content, mut timestamp) = (false, RawBytes::EMPTY, f64::NAN);
        // SAFETY: `raw` is the live flow of this call; the three outs are locals.
        let status = unsafe {
            (self.api.tcp_msg)(
                self.raw,
                index,
                &mut from_client,
                &mut content,
                &mut timestamp,
            )
        };
        (status == abi::STATUS_OK).then(|| {
            let timestamp = (!timestamp.is_nan()).then_some(timestamp);
            (from_client, slice(self, content), timestamp)
        })
    }

    pub(crate) fn tcp_msg_set_content(
        &mut self,
        index: usize,
        content: &[u8],
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `content`.
        let status =
            unsafe { (self.api.tcp_msg_set_content)(self.raw, index, RawBytes::new(content)) };
        self.check(status)
    }

    pub(crate) fn tcp_inject(&mut self, to_client: bool, content: &[u8]) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `content`.
        let status = unsafe { (self.api.tcp_inject)(self.raw, to_client, RawBytes::new(content)) };
        self.check(status)
    }

    pub(crate) fn conn(&self, side: u32) -> Option<ConnHandle> {
        // SAFETY: `raw` is the live flow of this call.
        let raw = unsafe { (self.api.flow_conn)(self.raw, side) };
        (!raw.is_null()).then_some(ConnHandle { api: self.api, raw })
    }

    /// A view of message `which` (`abi::VIEW_*`), copied: `Ok(None)`
    /// when absent.
    pub(crate) fn msg_view(&self, which: u32, view: u32) -> Result<Option<Vec<u8>>, Vec<u8>> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local, and
        // the bytes are copied before the next host call.
        let status = unsafe { (self.api.msg_view)(self.raw, which, view, &mut out) };
        match status {
            abi::STATUS_OK => Ok(Some(slice(self, out).to_vec())),
            abi::STATUS_ABSENT => Ok(None),
            _ => Err(self.last_error()),
        }
    }

    /// [`msg_view`](FlowHandle::msg_view) of `abi::VIEW_TEXT`, as text.
    pub(crate) fn msg_text(&self, which: u32) -> Result<Option<String>, Vec<u8>> {
        Ok(self.msg_view(which, abi::VIEW_TEXT)?.map(|bytes| {
            // SAFETY: `abi::VIEW_TEXT` is UTF-8 the host checked
            // (`str::from_utf8`) or decoded into a `String`
            // (`http::message::text_bytes`); the handshake made sure the
            // host speaks this SDK's ABI. Checking again would read a large
            // body a second time.
            unsafe { String::from_utf8_unchecked(bytes) }
        }))
    }

    pub(crate) fn msg_set_view(
        &mut self,
        which: u32,
        view: u32,
        value: &[u8],
    ) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call; the host copies `value`.
        let status =
            unsafe { (self.api.msg_set_view)(self.raw, which, view, RawBytes::new(value)) };
        self.check(status)
    }

    pub(crate) fn msg_op(&mut self, which: u32, op: u32) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the live flow of this call.
        let status = unsafe { (self.api.msg_op)(self.raw, which, op) };
        self.check(status)
    }

    pub(crate) fn msg_replace(
        &mut self,
        which: u32,
        pattern: &str,
        repl: &[u8],
        count: usize,
    ) -> Result<usize, Vec<u8>> {
        let mut replaced = 0usize;
        // SAFETY: `raw` is the live flow of this call; the host copies the
        // pattern and the replacement; `replaced` is a local.
        let status = unsafe {
            (self.api.msg_replace)(
                self.raw,
                which,
                RawBytes::new(pattern.as_bytes()),
                RawBytes::new(repl),
                count,
                &mut replaced,
            )
        };
        self.check(status).map(|()| replaced)
    }

    pub(crate) fn last_error(&self) -> Vec<u8> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the live flow of this call; `out` is a local.
        unsafe { (self.api.last_error)(self.raw, &mut out) };
        slice(self, out).to_vec()
    }

    pub(crate) fn check(&self, status: i32) -> Result<(), Vec<u8>> {
        if status == abi::STATUS_OK {
            Ok(())
        } else {
            Err(self.last_error())
        }
    }
}

/// A client or server connection lent by the host for one hook call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnHandle {
    api: &'static HostApi,
    raw: *const HostConn,
}

impl ConnHandle {
    pub(crate) fn new(api: &'static HostApi, raw: *const HostConn) -> ConnHandle {
        ConnHandle { api, raw }
    }

    pub(crate) fn bytes(&self, field: u32, index: usize) -> Option<&[u8]> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is a live connection of this call; `out` is a local.
        let status = unsafe { (self.api.conn_bytes)(self.raw, field, index, &mut out) };
        (status == abi::STATUS_OK).then(|| slice(self, out))
    }

    pub(crate) fn int(&self, field: u32) -> Option<i64> {
        let mut out = 0;
        // SAFETY: `raw` is a live connection of this call; `out` is a local.
        let status = unsafe { (self.api.conn_int)(self.raw, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }

    pub(crate) fn float(&self, field: u32) -> Option<f64> {
        let mut out = 0.0;
        // SAFETY: `raw` is a live connection of this call; `out` is a local.
        let status = unsafe { (self.api.conn_float)(self.raw, field, &mut out) };
        (status == abi::STATUS_OK).then_some(out)
    }
}

/// The argument of a TLS event, lent by the host for one hook call.
#[derive(Debug)]
pub(crate) struct TlsHandle {
    api: &'static HostApi,
    raw: *mut TlsArgs,
}

impl TlsHandle {
    pub(crate) fn new(api: &'static HostApi, raw: *mut TlsArgs) -> TlsHandle {
        TlsHandle { api, raw }
    }

    /// The client connection (`side` `CONN_CLIENT`) or the server one.
    pub(crate) fn conn(&self, side: u32) -> Option<ConnHandle> {
        // SAFETY: `raw` is the live argument of this call.
        let args = unsafe { &*self.raw };
        let raw = if side == abi::CONN_CLIENT {
            args.client
        } else {
            args.server
        };
        (!raw.is_null()).then_some(ConnHandle { api: self.api, raw })
    }

    pub(crate) fn ignore_connection(&self) -> bool {
        // SAFETY: `raw` is the live argument of this call.
        unsafe { (*self.raw).ignore_connection != 0 }
    }

    pub(crate) fn set_ignore_connection(&mut self, ignore: bool) {
        // SAFETY: `raw` is the live argument of this call, lent mutably to
        // this hook alone.
        unsafe { (*self.raw).ignore_connection = u32::from(ignore) }
    }
}

/// The host context of one hook call, for logging.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CtxHandle {
    api: &'static HostApi,
    raw: *const HostCtx,
}

impl CtxHandle {
    pub(crate) fn new(api: &'static HostApi, raw: *const HostCtx) -> CtxHandle {
        CtxHandle { api, raw }
    }

    pub(crate) fn log(&self, level: u32, msg: &str) {
        // SAFETY: `raw` is the context of the current call; the host copies `msg`.
        unsafe { (self.api.log)(self.raw, level, RawBytes::new(msg.as_bytes())) }
    }

    pub(crate) fn declare_option(&self, name: &str, kind: u32, default: &str, help: &str) {
        let (name, default, help) = (
            RawBytes::new(name.as_bytes()),
            RawBytes::new(default.as_bytes()),
            RawBytes::new(help.as_bytes()),
        );
        // SAFETY: `raw` is the context of the current call; the host copies
        // all three runs.
        unsafe { (self.api.declare_option)(self.raw, name, kind, default, help) }
    }

    pub(crate) fn option(&self, name: &str) -> Option<&str> {
        let mut out = RawBytes::EMPTY;
        // SAFETY: `raw` is the context of the current call; `out` is a
        // local. The host's option values live as long as the run.
        let status =
            unsafe { (self.api.option_get)(self.raw, RawBytes::new(name.as_bytes()), &mut out) };
        (status == abi::STATUS_OK)
            .then(|| std::str::from_utf8(slice(self, out)).unwrap_or_default())
    }

    /// A copy of `flow` under a new id, for the rest of the hook call.
    pub(crate) fn duplicate(&self, flow: &FlowHandle) -> Result<FlowHandle, Vec<u8>> {
        // SAFETY: `raw` is the context of the current call and `flow` a flow
        // of it. The copy the host returns lives until the call returns.
        let copy = unsafe { (self.api.duplicate)(self.raw, flow.raw()) };
        if copy.is_null() {
            return Err(flow.last_error());
        }
        Ok(FlowHandle::new(self.api, copy))
    }

    /// Asks the host to send `flow`'s request again, as a new flow.
    pub(crate) fn replay(&self, flow: &FlowHandle) -> Result<(), Vec<u8>> {
        // SAFETY: `raw` is the context of the current call and `flow` a flow
        // of it.
        let status = unsafe { (self.api.replay)(self.raw, flow.raw()) };
        flow.check(status)
    }

    pub(crate) fn report_panic(&self, msg: &str) {
        // SAFETY: `raw` is the context of the current call; the host copies `msg`.
        unsafe { (self.api.report_panic)(self.raw, RawBytes::new(msg.as_bytes())) }
    }
}
