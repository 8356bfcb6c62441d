//! The host's filter functions in the table scripts get: compile an
//! expression into a boxed [`Filter`], match it against the flow of the
//! current call, free it. Unlike the rest of the table these are called
//! outside hook calls too (a script compiles in its constructor), so they
//! touch no per-call state; the last compile error is kept per thread.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use waylay_sdk::abi::{self, HostFilter, HostFlow, RawBytes};

use crate::filter::Filter;
use crate::script::cell::FlowCell;

thread_local! {
    /// The message of this thread's last failed compile, which a script
    /// reads (and copies) right after the call.
    static LAST_ERROR: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

pub(super) unsafe extern "C" fn filter_compile(
    expression: RawBytes,
    filter: *mut *const HostFilter,
    error: *mut RawBytes,
    position: *mut usize,
) -> i32 {
    let compiled = catch_unwind(AssertUnwindSafe(|| {
        let text = if expression.len == 0 || expression.ptr.is_null() {
            &[][..]
        } else {
            // SAFETY: the script passes a live run of `len` bytes for the
            // length of this call.
            unsafe { std::slice::from_raw_parts(expression.ptr, expression.len) }
        };
        match std::str::from_utf8(text) {
            Ok(text) => Filter::parse(text).map_err(|e| (e.to_string(), e.position())),
            Err(e) => Err((
                format!("filter expression is not UTF-8 (byte {})", e.valid_up_to()),
                e.valid_up_to(),
            )),
        }
    }));
    let failed = match compiled {
        Ok(Ok(compiled)) => {
            let raw = Box::into_raw(Box::new(compiled))
                .cast_const()
                .cast::<HostFilter>();
            // SAFETY: `filter` is the script's local.
            unsafe { filter.write(raw) };
            return abi::STATUS_OK;
        }
        Ok(Err(failed)) => failed,
        Err(_) => (
            "the filter compiler panicked; please report the expression".to_owned(),
            0,
        ),
    };
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        *last = failed.0.into_bytes();
        // SAFETY: `error` and `position` are the script's locals; the bytes
        // stay put until this thread's next compile, and the SDK copies
        // them at once.
        unsafe {
            error.write(RawBytes::new(&last));
            position.write(failed.1);
        }
    });
    abi::STATUS_INVALID
}

pub(super) unsafe extern "C" fn filter_matches(
    filter: *const HostFilter,
    flow: *const HostFlow,
) -> i32 {
    let matched = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `filter` came from `filter_compile` and is not yet freed;
        // `flow` is the `FlowCell` of the current call.
        let (filter, cell) = unsafe { (&*filter.cast::<Filter>(), &*flow.cast::<FlowCell<'_>>()) };
        filter.matches(cell.flow())
    }));
    match matched {
        Ok(true) => abi::STATUS_OK,
        Ok(false) => abi::STATUS_ABSENT,
        Err(_) => abi::STATUS_INVALID,
    }
}

pub(super) unsafe extern "C" fn filter_free(filter: *const HostFilter) {
    if filter.is_null() {
        return;
    }
    // SAFETY: `filter` came from `filter_compile` as a boxed `Filter`, and
    // the SDK frees each once.
    let boxed = unsafe { Box::from_raw(filter.cast_mut().cast::<Filter>()) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}
