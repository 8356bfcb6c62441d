//! A chat rewriter for WebSockets: `-s "examples/websocket-rewrite FROM TO"`.
//!
//! Text messages from the server get FROM replaced with TO (`hello` and
//! `hi` without arguments), messages that mention spam are dropped in
//! either direction, and the client is greeted when the WebSocket opens.
//! The greeting is live only: a flow read from a file has no one to send
//! to, so injecting into it is refused, and the script says so at debug
//! level (`-v`).

use waylay_sdk::{Context, Flow, Script};

/// What the client gets first when its WebSocket opens.
pub const GREETING: &str = "welcome to the rewritten chat";

/// Rewrites a chat as it passes.
pub struct ChatRewrite {
    from: String,
    to: String,
}

impl Default for ChatRewrite {
    fn default() -> ChatRewrite {
        ChatRewrite {
            from: "hello".to_owned(),
            to: "hi".to_owned(),
        }
    }
}

fn mentions_spam(content: &[u8]) -> bool {
    content.windows(4).any(|w| w.eq_ignore_ascii_case(b"spam"))
}

impl Script for ChatRewrite {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        match argv {
            [] => {}
            [from, to] if !from.is_empty() => {
                self.from = (*from).to_owned();
                self.to = (*to).to_owned();
            }
            _ => ctx.warn("usage: -s \"websocket-rewrite FROM TO\"; replacing hello with hi"),
        }
    }

    fn websocket_start(&mut self, ctx: &Context, flow: &mut Flow) {
        let Some(ws) = flow.websocket_mut() else {
            return;
        };
        if let Err(e) = ws.inject_to_client(GREETING, true) {
            ctx.debug(&format!("no greeting: {e}"));
        }
    }

    fn websocket_message(&mut self, _ctx: &Context, flow: &mut Flow) {
        let Some(mut message) = flow.websocket_mut().and_then(|ws| ws.last_message_mut()) else {
            return;
        };
        if message.is_injected() {
            return; // ours, or another script's: not chat
        }
        if mentions_spam(message.content()) {
            message.drop();
            return;
        }
        if message.from_client() {
            return;
        }
        let rewritten = match message.text() {
            Some(text) if text.contains(&self.from) => text.replace(&self.from, &self.to),
            _ => return,
        };
        // A text message (checked by `text()` above), so this cannot fail.
        let _ = message.set_text(&rewritten);
    }
}

waylay_sdk::export_script!(ChatRewrite);
