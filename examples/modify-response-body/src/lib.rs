//! The seed's `modify_response_body.py` (mitmproxy's
//! `examples/modify_response_body.py`, deleted in 2016) in Rust: every
//! response body gets OLD replaced with NEW,
//! `-s "examples/modify-response-body OLD NEW"` (`mitmproxy` and `bananas`
//! without arguments, the original's usage line).
//!
//! ```python
//! # Usage: mitmdump -s "modify_response_body.py mitmproxy bananas"
//! # (this script works best with --anticache)
//! def start():
//!     if len(sys.argv) != 3:
//!         raise ValueError('Usage: -s "modify_response_body.py old new"')
//!     state["old"], state["new"] = sys.argv[1].encode(), sys.argv[2].encode()
//!
//! def response(flow):
//!     flow.response.content = flow.response.content.replace(
//!         state["old"],
//!         state["new"]
//!     )
//! ```
//!
//! The body is the decoded one (gzip, brotli, ... undone, then done again),
//! and it is set whether anything was replaced or not, as the original
//! does: so every response with a body leaves with a Content-Length that
//! matches it (unless it has a Transfer-Encoding), as in mitmproxy. A body
//! with nothing to replace keeps its encoded bytes, as mitmproxy's
//! decoding cache keeps them. A body
//! that cannot be decoded, or was streamed and not kept, is left alone
//! (the original fails on it with an exception). Where the original
//! refuses to start without both words, this port uses its usage line's.

use waylay_sdk::{Context, Flow, Script};

/// Replaces bytes in every response body.
#[derive(Debug)]
pub struct ModifyResponseBody {
    old: Vec<u8>,
    new: Vec<u8>,
}

impl Default for ModifyResponseBody {
    fn default() -> ModifyResponseBody {
        ModifyResponseBody {
            old: b"mitmproxy".to_vec(),
            new: b"bananas".to_vec(),
        }
    }
}

/// `haystack` with every `old` replaced by `new`, left to right, as
/// Python's `bytes.replace`; an empty `old` matches between every two
/// bytes and at both ends, as there.
pub fn replace(haystack: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    if old.is_empty() {
        out.extend_from_slice(new);
        for &b in haystack {
            out.push(b);
            out.extend_from_slice(new);
        }
        return out;
    }
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(old) {
            out.extend_from_slice(new);
            rest = &rest[old.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

impl Script for ModifyResponseBody {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        match argv {
            [] => {}
            [old, new] => {
                self.old = old.as_bytes().to_vec();
                self.new = new.as_bytes().to_vec();
            }
            _ => ctx.warn(
                "usage: -s \"modify-response-body OLD NEW\"; replacing mitmproxy with bananas",
            ),
        }
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        let Some(response) = flow.response_mut() else {
            return;
        };
        let (replaced, unchanged) = match response.content() {
            Ok(Some(body)) => {
                let replaced = replace(body, &self.old, &self.new);
                let unchanged = replaced == body;
                (replaced, unchanged)
            }
            Ok(None) => return,
            Err(e) => return ctx.warn(&format!("cannot decode the body: {e}")),
        };
        if unchanged {
            // mitmproxy, given back the bytes it last decoded, keeps the
            // encoded bytes they came from rather than compress them again
            // (its encoder and ours write different zstd); it still sets
            // Content-Length.
            if !response.headers().contains("transfer-encoding") {
                let length = response.raw_content().map_or(0, <[u8]>::len);
                response
                    .headers_mut()
                    .set("content-length", length.to_string());
            }
            return;
        }
        if let Err(e) = response.set_content(replaced) {
            ctx.warn(&format!("cannot set the body: {e}"));
        }
    }
}

waylay_sdk::export_script!(ModifyResponseBody);

#[cfg(test)]
mod tests {
    use super::replace;

    #[test]
    fn replaces_like_python() {
        assert_eq!(replace(b"foofoo!", b"foo", b"bar"), b"barbar!");
        assert_eq!(replace(b"aaa", b"aa", b"b"), b"ba");
        assert_eq!(replace(b"none", b"foo", b"bar"), b"none");
        assert_eq!(replace(b"ab", b"", b"-"), b"-a-b-");
        assert_eq!(replace(b"", b"", b"-"), b"-");
    }
}
