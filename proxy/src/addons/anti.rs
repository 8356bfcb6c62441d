//! `anticache` and `anticomp`: request header edits mitmproxy makes in
//! the `request` hook, before the scripts, for live flows and flows read
//! from a file alike.

use crate::flow::Flow;
use crate::http::{self, Which};
use crate::script::{Event, LogSink};

use super::Addon;

/// `Request.anticache()`: no If-Modified-Since or If-None-Match, so the
/// server cannot answer 304.
#[derive(Debug)]
pub(super) struct AntiCache;

impl Addon for AntiCache {
    fn name(&self) -> &'static str {
        "anticache"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, _: Event, flow: &mut Flow, _: bool, _: &dyn LogSink) {
        if let Some(req) = flow.message_mut(Which::Request) {
            for name in [&b"if-modified-since"[..], b"if-none-match"] {
                http::remove_header(req, name);
            }
        }
    }
}

/// `Request.anticomp()`: `accept-encoding: identity`.
#[derive(Debug)]
pub(super) struct AntiComp;

impl Addon for AntiComp {
    fn name(&self) -> &'static str {
        "anticomp"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, _: Event, flow: &mut Flow, _: bool, _: &dyn LogSink) {
        if let Some(req) = flow.message_mut(Which::Request) {
            http::set_header(req, b"accept-encoding", b"identity");
        }
    }
}
