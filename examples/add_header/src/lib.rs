//! The seed's `add_header.py`: adds `newheader: foo` to every response.

use waylay_sdk::{Context, Flow, Script};

/// Adds `newheader: foo` to every response.
#[derive(Default)]
pub struct AddHeader;

impl Script for AddHeader {
    fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
        if let Some(response) = flow.response_mut() {
            response.headers_mut().set("newheader", "foo");
        }
    }
}

waylay_sdk::export_script!(AddHeader);
