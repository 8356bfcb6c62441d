//! `anticache` and `anticomp`: request header edits mitmproxy makes in
//! the `request` hook, before the scripts, for live flows and flows read
//! from a file alike.

use crate::event::{Event, LogSink};
use crate::flow::Flow;
use crate::http::{self, Which};

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
        const NAMES: [&str; 2] = ["if-modified-since", "if-none-match"];
        // A flow is changed (and copied, when shared) only when it must be.
        let present = flow
            .request()
            .is_some_and(|req| NAMES.iter().any(|n| http::header(req, n).is_some()));
        if present && let Some(req) = flow.message_mut(Which::Request) {
            for name in NAMES {
                http::remove_header(req, name.as_bytes());
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
        let done = flow.request().is_some_and(|req| {
            let mut values =
                http::fields(req).filter(|(n, _)| n.eq_ignore_ascii_case(b"accept-encoding"));
            values.next().is_some_and(|(_, v)| v == b"identity") && values.next().is_none()
        });
        if !done && let Some(req) = flow.message_mut(Which::Request) {
            http::set_header(req, b"accept-encoding", b"identity");
        }
    }
}
