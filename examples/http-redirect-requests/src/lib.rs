//! mitmproxy's `http-redirect-requests.py`: requests for example.org go
//! to mitmproxy.org instead.

use waylay_sdk::{Context, Flow, Script};

#[derive(Default)]
pub struct RedirectRequests;

impl Script for RedirectRequests {
    fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
        // pretty_host reads the Host header, which is what counts in
        // transparent mode, where the address is all there is otherwise.
        if flow.request().pretty_host() == "example.org" {
            flow.request_mut().set_host("mitmproxy.org");
        }
    }
}

waylay_sdk::export_script!(RedirectRequests);
