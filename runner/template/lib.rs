//! A Waylay script.
//!
//! Run it over saved flows: `runner -n -r tests/data/sample.mitm -s . -w out.mitm`
//! Test it: `cargo test` (then `cargo insta review` after a change).

use waylay_sdk::{Context, Flow, Script};

/// The script's state; the runner makes one per `-s`.
#[derive(Default)]
pub struct MyScript;

impl Script for MyScript {
    fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
        if let Some(response) = flow.response_mut() {
            response.headers_mut().set("x-waylay", "seen");
        }
    }
}

waylay_sdk::export_script!(MyScript);
