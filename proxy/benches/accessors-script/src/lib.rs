//! The script `cargo bench -p waylay-proxy --bench accessors` loads: each
//! `request` or `response` hook makes exactly one accessor call, the one
//! named by argv (`query`, `set_url`, `text`), or none (no argv), so the
//! bench can subtract the cost of the hook itself.

use std::hint::black_box;

use waylay_sdk::{Context, Flow, Script};

/// Which accessor the hooks call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Call {
    /// None: the hooks return at once.
    #[default]
    Nothing,
    /// `flow.request().query()` in `request`.
    Query,
    /// `flow.request_mut().set_url(..)` in `request`, on two URLs in turn
    /// so that every call changes the flow.
    SetUrl,
    /// `flow.response().text()` in `response`.
    Text,
}

/// One accessor call per event.
#[derive(Debug, Default)]
pub struct Accessors {
    call: Call,
    flip: bool,
}

/// The two URLs `set_url` alternates between.
const URLS: [&str; 2] = [
    "https://example.org:8443/a/b?c=d",
    "https://example.org:8443/a/b?c=e",
];

impl Script for Accessors {
    fn start(&mut self, _ctx: &Context, argv: &[&str]) {
        self.call = match argv.first().copied() {
            Some("query") => Call::Query,
            Some("set_url") => Call::SetUrl,
            Some("text") => Call::Text,
            _ => Call::Nothing,
        };
    }

    fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
        match self.call {
            Call::Query => {
                black_box(flow.request().query());
            }
            Call::SetUrl => {
                self.flip = !self.flip;
                let url = URLS[usize::from(self.flip)];
                black_box(flow.request_mut().set_url(black_box(url))).expect("a valid URL");
            }
            Call::Nothing | Call::Text => {}
        }
    }

    fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
        if self.call == Call::Text {
            black_box(flow.response().map(|r| r.text()));
        }
    }
}

waylay_sdk::export_script!(Accessors);
