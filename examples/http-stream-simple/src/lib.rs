//! mitmproxy's `http-stream-simple.py`: every response body is streamed,
//! passed on to the client as it arrives and not kept, the same as
//! `--set stream_large_bodies=1`. Live only: over flows read from a file
//! it changes nothing, as in mitmproxy.

use waylay_sdk::{Context, Flow, Script};

/// Streams every response.
#[derive(Default)]
pub struct StreamAll;

impl Script for StreamAll {
    fn response_headers(&mut self, _ctx: &Context, flow: &mut Flow) {
        if let Some(response) = flow.response_mut() {
            response.set_stream(true);
        }
    }
}

waylay_sdk::export_script!(StreamAll);
