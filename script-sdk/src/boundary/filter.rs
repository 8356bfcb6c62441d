//! The host's filter functions, wrapped: compile, match, free. A filter
//! outlives the hook that made it, so the host's table is kept from the
//! first call that hands it over (`create`, `options`).

use std::sync::atomic::{AtomicPtr, Ordering};

use super::host::FlowHandle;
use crate::abi::{self, HostApi, HostFilter, RawBytes};

static HOST: AtomicPtr<HostApi> = AtomicPtr::new(std::ptr::null_mut());

/// Why there is no filter without a host.
const NO_HOST: &str = "filters are compiled by the Waylay host: Filter::parse works in a script \
                       the runner (or waylay_proxy::testing) loaded, from its constructor on";

/// Keeps the host's table for filters made outside a hook call.
pub(crate) fn set_host(api: &'static HostApi) {
    HOST.store(std::ptr::from_ref(api).cast_mut(), Ordering::Release);
}

fn host() -> Option<&'static HostApi> {
    let ptr = HOST.load(Ordering::Acquire);
    // SAFETY: only `set_host` stores here, and only tables that live as
    // long as the process; null until then.
    unsafe { ptr.as_ref() }
}

/// A filter the host compiled, freed when dropped.
#[derive(Debug)]
pub(crate) struct FilterHandle {
    api: &'static HostApi,
    raw: *const HostFilter,
}

// SAFETY: a host filter is immutable once compiled, the host matches with
// it from any thread (its filter type is `Sync`), and this handle frees it
// once, in `Drop`.
unsafe impl Send for FilterHandle {}
// SAFETY: as above; matching takes `&self` and changes nothing.
unsafe impl Sync for FilterHandle {}

impl FilterHandle {
    /// Compiles `expression`; the error is the host's one line and the
    /// character position (none without a host).
    pub(crate) fn compile(expression: &str) -> Result<FilterHandle, (String, Option<usize>)> {
        let Some(api) = host() else {
            return Err((NO_HOST.to_owned(), None));
        };
        let (mut raw, mut error, mut position) = (std::ptr::null(), RawBytes::EMPTY, 0usize);
        // SAFETY: the host copies `expression` before returning; the three
        // outs are locals.
        let status = unsafe {
            (api.filter_compile)(
                RawBytes::new(expression.as_bytes()),
                &mut raw,
                &mut error,
                &mut position,
            )
        };
        if status == abi::STATUS_OK && !raw.is_null() {
            return Ok(FilterHandle { api, raw });
        }
        let message = if error.len == 0 {
            Vec::new()
        } else {
            // SAFETY: the host's error text stays put until this thread's
            // next `filter_compile`, and it is copied here at once.
            unsafe { std::slice::from_raw_parts(error.ptr, error.len) }.to_vec()
        };
        Err((
            String::from_utf8_lossy(&message).into_owned(),
            Some(position),
        ))
    }

    /// Whether the flow of the current hook call matches.
    pub(crate) fn matches(&self, flow: &FlowHandle) -> bool {
        // SAFETY: `raw` is this handle's live filter; `flow` is the live
        // flow of the current call.
        unsafe { (self.api.filter_matches)(self.raw, flow.raw()) == abi::STATUS_OK }
    }
}

impl Drop for FilterHandle {
    fn drop(&mut self) {
        // SAFETY: `raw` came from `filter_compile` and is freed once, here.
        unsafe { (self.api.filter_free)(self.raw) }
    }
}
