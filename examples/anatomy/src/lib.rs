//! mitmproxy's `anatomy.py`, the basic skeleton of an addon: a script
//! that keeps state between events, here a count of the requests it has
//! seen, logged at each one.

use waylay_sdk::{Context, Flow, Script};

/// Counts requests.
#[derive(Default)]
pub struct Counter {
    num: u64,
}

impl Script for Counter {
    fn request(&mut self, ctx: &Context, _flow: &mut Flow) {
        self.num += 1;
        ctx.info(&format!("We've seen {} flows", self.num));
    }
}

waylay_sdk::export_script!(Counter);
