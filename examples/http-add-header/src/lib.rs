//! mitmproxy's `http-add-header.py`: every response gets a `count` header
//! numbering the responses seen so far (1, 2, 3, ...).

use waylay_sdk::{Context, Flow, Script};

/// Numbers the responses in a `count` header.
#[derive(Default)]
pub struct AddHeader {
    num: u64,
}

impl Script for AddHeader {
    fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
        self.num += 1;
        if let Some(response) = flow.response_mut() {
            response.headers_mut().set("count", self.num.to_string());
        }
    }
}

waylay_sdk::export_script!(AddHeader);
