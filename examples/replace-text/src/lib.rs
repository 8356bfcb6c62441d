//! Replaces text in every text response: `-s "examples/replace-text FROM TO"`.
//!
//! Shows `start`'s argv and bodies through their decoded view: a gzip or
//! brotli response is decoded, changed and encoded again, and its
//! Content-Length follows.

use waylay_sdk::{Context, Flow, Script};

/// Replaces `from` with `to` in text response bodies.
#[derive(Default)]
pub struct ReplaceText {
    from: String,
    to: String,
}

impl Script for ReplaceText {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        match argv {
            [from, to] => {
                self.from = (*from).to_owned();
                self.to = (*to).to_owned();
            }
            _ => ctx.warn("usage: -s \"replace-text FROM TO\"; replacing nothing"),
        }
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        if self.from.is_empty() {
            return;
        }
        let Some(response) = flow.response_mut() else {
            return;
        };
        let is_text = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.starts_with("text/") || t.contains("javascript"));
        if !is_text {
            return;
        }
        let replaced = match response.content() {
            Ok(Some(body)) => String::from_utf8_lossy(body).replace(&self.from, &self.to),
            Ok(None) => return,
            Err(e) => return ctx.warn(&format!("cannot decode the body: {e}")),
        };
        if let Err(e) = response.set_content(replaced) {
            ctx.warn(&format!("cannot set the body: {e}"));
        }
    }
}

waylay_sdk::export_script!(ReplaceText);
