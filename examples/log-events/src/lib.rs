//! mitmproxy's `log-events.py`: posts messages to the event log when the
//! script loads, one at each level.
//!
//! Differences: mitmproxy's `ALERT` level (as urgent as info, and shown in
//! mitmproxy's status bar) has no counterpart in the SDK, whose levels are
//! debug, info, warn and error, and Waylay has no status bar: the alert
//! is logged at info. And mitmdump stops when an error is logged during
//! start-up ("Error logged during startup, exiting..."), so the original
//! never gets to the flows; the runner logs the error and goes on.

use waylay_sdk::{Context, Script};

/// Logs a line at each level when loaded.
#[derive(Default)]
pub struct LogEvents;

impl Script for LogEvents {
    fn start(&mut self, ctx: &Context, _argv: &[&str]) {
        ctx.info("This is some informative text.");
        ctx.warn("This is a warning.");
        ctx.error("This is an error.");
        // mitmproxy's ALERT: info's urgency, also popped up in its status bar.
        ctx.info(
            "This is an alert. It has the same urgency as info, but will also pop up in the status bar.",
        );
    }
}

waylay_sdk::export_script!(LogEvents);
