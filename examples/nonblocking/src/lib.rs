//! The seed's `nonblocking.py`: a concurrent `request` hook that logs,
//! sleeps, and logs again. Eight requests at once take about one sleep,
//! not eight: remove `concurrent = [request]` (and move the hook into
//! `impl Script`) to see the difference.
//!
//! `-s "examples/nonblocking SECONDS"` sets the sleep (default 1).
//!
//! It is also the port of mitmproxy 11's `examples/addons/nonblocking.py`,
//! which logs, sleeps 5 seconds and logs again in an `async def request`
//! hook (its other branch, `@concurrent` with `time.sleep`, is the seed's
//! script). What either shows is a hook that waits without holding up
//! other flows, and that is what `concurrent = [request]` does here: the
//! SDK has no async hooks (hooks are plain calls, with no event loop to
//! await on), so the wait blocks one of the proxy's worker threads instead
//! of yielding to an event loop, as `@concurrent` did. The log lines are
//! the original's; the sleep is 1 second by default rather than 5.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use waylay_sdk::{Concurrent, Context, Flow, Script};

/// Sleeps in `request`, concurrently.
#[derive(Default)]
pub struct NonBlocking {
    millis: AtomicU64,
}

impl Script for NonBlocking {
    fn start(&mut self, _ctx: &Context, argv: &[&str]) {
        let seconds: f64 = argv.first().and_then(|s| s.parse().ok()).unwrap_or(1.0);
        self.millis
            .store((seconds * 1000.0) as u64, Ordering::Relaxed);
    }
}

impl Concurrent for NonBlocking {
    fn request(&self, ctx: &Context, flow: &mut Flow) {
        let target = format!("{}{}", flow.request().host(), flow.request().path());
        ctx.info(&format!("handle request: {target}"));
        std::thread::sleep(Duration::from_millis(self.millis.load(Ordering::Relaxed)));
        ctx.info(&format!("start  request: {target}"));
    }
}

waylay_sdk::export_script!(NonBlocking, concurrent = [request]);
