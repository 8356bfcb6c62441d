//! mitmproxy's `http-modify-query-string.py`: every request's query gets
//! `mitmproxy=rocks`.

use waylay_sdk::{Context, Flow, Script};

#[derive(Default)]
pub struct ModifyQueryString;

impl Script for ModifyQueryString {
    fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
        flow.request_mut().query_mut().insert("mitmproxy", "rocks");
    }
}

waylay_sdk::export_script!(ModifyQueryString);
