//! mitmproxy's `duplicate-modify-replay.py`: each request is copied, the
//! copy's path changed to `/changed`, and the copy sent again.
//!
//! ```text
//! runner -s examples/duplicate-modify-replay
//! ```

use waylay_sdk::{Context, Flow, Script};

#[derive(Default)]
pub struct DuplicateModifyReplay;

impl Script for DuplicateModifyReplay {
    fn request(&mut self, ctx: &Context, flow: &mut Flow) {
        // Replayed requests come through here too: leave them alone, or
        // every replay would make another.
        if flow.is_replay() == Some("request") {
            return;
        }
        let mut copy = match ctx.duplicate(flow) {
            Ok(copy) => copy,
            Err(e) => return ctx.warn(&format!("cannot copy flow {}: {e}", flow.id())),
        };
        copy.request_mut().set_path("/changed");
        if let Err(e) = ctx.replay(&copy) {
            ctx.warn(&format!("cannot replay flow {}: {e}", flow.id()));
        }
    }
}

waylay_sdk::export_script!(DuplicateModifyReplay);
