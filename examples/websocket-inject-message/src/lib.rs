//! mitmproxy's `examples/addons/websocket-inject-message.py` in Rust, its
//! simple half: a text message that contains `secret` is dropped, and
//! `ssssssh` is injected in its place, back to the side that sent it (as
//! the original's `inject.websocket(flow, last_message.from_client,
//! b"ssssssh")`, whose second argument is `to_client`).
//!
//! ```python
//! def websocket_message(flow: http.HTTPFlow):
//!     last_message = flow.websocket.messages[-1]
//!     if last_message.is_text and "secret" in last_message.text:
//!         last_message.drop()
//!         ctx.master.commands.call(
//!             "inject.websocket", flow, last_message.from_client, b"ssssssh"
//!         )
//! ```
//!
//! Not ported: the original's "complex example", an asyncio task started
//! in `websocket_start` that injects `hello from mitmproxy! ` (rotated by
//! one character each time) to the client once a second until the
//! WebSocket closes. The SDK has no way to reach a flow outside its own
//! hook call: hooks are synchronous, a [`Flow`] is a view valid for one
//! call, and there is no timer event or flow handle a thread could keep to
//! inject later. Injection happens only from within a WebSocket hook.
//!
//! Injection is live only. Offline (flows read from a file) Waylay refuses
//! it, as there is no one to send to; the message is still dropped, and
//! the refusal is logged at debug level (`-v`).

use waylay_sdk::{Context, Flow, Script};

/// What replaces a secret.
pub const HUSH: &[u8] = b"ssssssh";

/// Drops secrets and hushes whoever sent them.
#[derive(Debug, Default)]
pub struct InjectMessage;

impl Script for InjectMessage {
    fn websocket_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let Some(ws) = flow.websocket_mut() else {
            return;
        };
        let Some(mut message) = ws.last_message_mut() else {
            return;
        };
        if !(message.is_text() && message.text().is_some_and(|t| t.contains("secret"))) {
            return;
        }
        let to_client = message.from_client();
        message.drop();
        // `inject.websocket(flow, to_client, message)`: the original's
        // `is_text` is left at its default, True.
        let injected = if to_client {
            ws.inject_to_client(HUSH, true)
        } else {
            ws.inject_to_server(HUSH, true)
        };
        if let Err(e) = injected {
            ctx.debug(&format!("cannot inject: {e}"));
        }
    }
}

waylay_sdk::export_script!(InjectMessage);
