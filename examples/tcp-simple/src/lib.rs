//! mitmproxy's `examples/addons/tcp-simple.py` in Rust: every TCP message
//! gets FROM replaced with TO (`foo` and `bar` without arguments,
//! `-s "examples/tcp-simple FROM TO"`), and is logged with its direction.
//!
//! ```python
//! def tcp_message(flow: tcp.TCPFlow):
//!     message = flow.messages[-1]
//!     message.content = message.content.replace(b"foo", b"bar")
//!     logging.info(f"tcp_message[from_client={message.from_client}), content={strutils.bytes_to_escaped_str(message.content)}]")
//! ```
//!
//! TCP is a stream, not messages: a message is whatever one read returned,
//! so FROM split across two reads is not replaced. As mitmproxy says, good
//! enough for a quick hack.

use waylay_sdk::{Context, Flow, Script};

/// Replaces bytes in every TCP message.
pub struct TcpSimple {
    from: Vec<u8>,
    to: Vec<u8>,
}

impl Default for TcpSimple {
    fn default() -> TcpSimple {
        TcpSimple {
            from: b"foo".to_vec(),
            to: b"bar".to_vec(),
        }
    }
}

/// `haystack` with every `from` replaced by `to`, left to right, as
/// Python's `bytes.replace`; `None` when there is none.
pub fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    if from.is_empty() || !haystack.windows(from.len()).any(|w| w == from) {
        return None;
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    Some(out)
}

impl Script for TcpSimple {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        match argv {
            [] => {}
            [from, to] if !from.is_empty() => {
                self.from = from.as_bytes().to_vec();
                self.to = to.as_bytes().to_vec();
            }
            _ => ctx.warn("usage: -s \"tcp-simple FROM TO\"; replacing foo with bar"),
        }
    }

    fn tcp_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let Some(mut message) = flow.tcp_mut().and_then(|tcp| tcp.last_message_mut()) else {
            return;
        };
        if let Some(replaced) = replace(message.content(), &self.from, &self.to) {
            message.set_content(replaced);
        }
        ctx.info(&format!(
            "tcp_message[from_client={}, content={}]",
            message.from_client(),
            message.content().escape_ascii()
        ));
    }
}

waylay_sdk::export_script!(TcpSimple);

#[cfg(test)]
mod tests {
    use super::replace;

    #[test]
    fn replaces_like_python() {
        assert_eq!(replace(b"foofoo!", b"foo", b"bar").unwrap(), b"barbar!");
        assert_eq!(replace(b"aaa", b"aa", b"b").unwrap(), b"ba");
        assert_eq!(replace(b"none", b"foo", b"bar"), None);
        assert_eq!(replace(b"x", b"", b"y"), None);
    }
}
