//! mitmproxy's `examples/addons/websocket-simple.py` in Rust: each WebSocket
//! message is logged with its direction, a leading `Hello` becomes `HAPPY`,
//! and a message that says `FOOBAR` is dropped (the other side never gets
//! it).
//!
//! ```python
//! def websocket_message(flow: http.HTTPFlow):
//!     message = flow.websocket.messages[-1]
//!     if message.from_client:
//!         logging.info(f"Client sent a message: {message.content!r}")
//!     else:
//!         logging.info(f"Server sent a message: {message.content!r}")
//!     message.content = re.sub(rb"^Hello", b"HAPPY", message.content)
//!     if b"FOOBAR" in message.content:
//!         message.drop()
//! ```
//!
//! The log lines show the content as Python's `repr` of bytes does
//! (`b'it\'s'` is `b"it's"`), so they read as mitmdump's.

use waylay_sdk::{Context, Flow, Script};

/// Logs, rewrites and drops WebSocket messages.
#[derive(Debug, Default)]
pub struct WebSocketSimple;

/// `bytes` as Python's `repr(bytes)` writes them: `b'...'`, in double
/// quotes when there is a `'` and no `"`.
pub fn py_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..0x7f => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

impl Script for WebSocketSimple {
    fn websocket_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let Some(mut message) = flow.websocket_mut().and_then(|ws| ws.last_message_mut()) else {
            return;
        };
        let who = if message.from_client() {
            "Client"
        } else {
            "Server"
        };
        ctx.info(&format!(
            "{who} sent a message: {}",
            py_bytes_repr(message.content())
        ));
        // `re.sub(rb"^Hello", ...)`: `^` without MULTILINE is the start
        // only. Set whether it changed or not, as the original does.
        let content = match message.content().strip_prefix(b"Hello") {
            Some(rest) => [b"HAPPY".as_slice(), rest].concat(),
            None => message.content().to_vec(),
        };
        message.set_content(&content);
        if content.windows(6).any(|w| w == b"FOOBAR") {
            message.drop();
        }
    }
}

waylay_sdk::export_script!(WebSocketSimple);

#[cfg(test)]
mod tests {
    use super::py_bytes_repr;

    #[test]
    fn reprs_like_python() {
        assert_eq!(py_bytes_repr(b"hello"), "b'hello'");
        assert_eq!(py_bytes_repr(b"it's me"), "b\"it's me\"");
        assert_eq!(py_bytes_repr(b"'\""), "b'\\'\"'");
        assert_eq!(py_bytes_repr(b"a\\b\n\x00\xff"), "b'a\\\\b\\n\\x00\\xff'");
    }
}
