//! mitmproxy's `http-reply-from-proxy.py`: a request for
//! `http://example.com/path` is answered by the proxy ("Hello World"), not
//! sent to the server.

use waylay_sdk::{Context, Flow, Script};

#[derive(Default)]
pub struct ReplyFromProxy;

impl Script for ReplyFromProxy {
    fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
        if flow.request().pretty_url() == "http://example.com/path" {
            flow.respond_with(200, &[("Content-Type", "text/html")], "Hello World");
        }
    }
}

waylay_sdk::export_script!(ReplyFromProxy);
