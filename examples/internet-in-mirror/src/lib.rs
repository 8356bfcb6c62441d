//! mitmproxy's `internet-in-mirror.py`: mirrors every web page, by adding
//! `<style>body {transform: scaleX(-1);}</style>` before `</head>` in
//! every response body ("useful if you are living down under").
//!
//! Like the original it works on the decoded body (Content-Encoding
//! undone, then applied again) and sets it back whenever there is one,
//! changed or not. A body that does not decode (an unknown or broken
//! Content-Encoding) is left alone, where mitmproxy's addon raises and
//! leaves the flow as it was.

use waylay_sdk::{Context, Flow, Script};

const MIRROR: &[u8] = b"<style>body {transform: scaleX(-1);}</style></head>";

/// Mirrors HTML pages.
#[derive(Default)]
pub struct Mirror;

impl Script for Mirror {
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        let Some(response) = flow.response_mut() else {
            return;
        };
        let body = match response.content() {
            Ok(Some(body)) if !body.is_empty() => replace(body, b"</head>", MIRROR),
            Ok(_) => return,
            Err(e) => {
                ctx.warn(&format!("cannot decode the response body: {e}"));
                return;
            }
        };
        if let Err(e) = response.set_content(body) {
            ctx.warn(&format!("cannot encode the response body: {e}"));
        }
    }
}

/// `haystack` with every `needle` replaced by `with`, as Python's
/// `bytes.replace`.
fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

waylay_sdk::export_script!(Mirror);

#[cfg(test)]
mod tests {
    use super::replace;

    #[test]
    fn replaces_every_occurrence() {
        assert_eq!(replace(b"a</head>b</head>", b"</head>", b"X"), b"aXbX");
        assert_eq!(replace(b"no head", b"</head>", b"X"), b"no head");
        assert_eq!(replace(b"", b"</head>", b"X"), b"");
    }
}
