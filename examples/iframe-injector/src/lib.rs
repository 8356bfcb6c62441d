//! The seed's `iframe_injector.py` (mitmproxy's
//! `examples/iframe_injector.py`, deleted in 2016) in Rust: an invisible
//! iframe pointing at URL is put first in the `<body>` of every response
//! from a host that URL does not name,
//! `-s "examples/iframe-injector URL"`.
//!
//! ```python
//! # Usage: mitmdump -s "iframe_injector.py url"
//! # (this script works best with --anticache)
//! class Injector:
//!     def __init__(self, iframe_url):
//!         self.iframe_url = iframe_url
//!
//!     def response(self, flow):
//!         if flow.request.host in self.iframe_url:
//!             return
//!         html = BeautifulSoup(flow.response.content, "lxml")
//!         if html.body:
//!             iframe = html.new_tag(
//!                 "iframe",
//!                 src=self.iframe_url,
//!                 frameborder=0,
//!                 height=0,
//!                 width=0)
//!             html.body.insert(0, iframe)
//!             flow.response.content = str(html).encode("utf8")
//!
//! def start():
//!     if len(sys.argv) != 2:
//!         raise ValueError('Usage: -s "iframe_injector.py url"')
//!     return Injector(sys.argv[1])
//! ```
//!
//! What differs: the original parses the body with BeautifulSoup and lxml
//! and writes the whole document back out, re-serialised and in UTF-8;
//! lxml wraps any text at all in `<html><body>`, so every response with a
//! body got an iframe, JSON and images included. The SDK carries no HTML
//! parser, and this port keeps the body as it was: it looks for the first
//! `<body>` start tag (any case, with or without attributes) in the
//! decoded body and inserts
//! `<iframe src="URL" frameborder="0" height="0" width="0"></iframe>`
//! right after it; a body without one is left alone, as are its bytes and
//! charset. The body is decoded and encoded again as the response's
//! Content-Encoding says, and a body that cannot be decoded is left alone.
//! Where the original refuses to start without URL, this port uses
//! [`DEFAULT_URL`].

use waylay_sdk::{Context, Flow, Script};

/// The iframe's address when `-s` gives none.
pub const DEFAULT_URL: &str = "http://iframe.example/";

/// Puts an iframe first in every HTML body.
#[derive(Debug)]
pub struct IframeInjector {
    url: String,
}

impl Default for IframeInjector {
    fn default() -> IframeInjector {
        IframeInjector {
            url: DEFAULT_URL.to_owned(),
        }
    }
}

/// Where the first `<body ...>` start tag of `html` ends (just after its
/// `>`): `<body` in any case, then `>` or an HTML space (tab, line feed,
/// form feed, carriage return, space) and anything up to the next `>`.
pub fn after_body_tag(html: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = html[from..]
        .windows(5)
        .position(|w| w.eq_ignore_ascii_case(b"<body"))
    {
        let tag = from + at + 5;
        match html.get(tag) {
            Some(b'>') => return Some(tag + 1),
            Some(b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') => {
                let end = html[tag..].iter().position(|&b| b == b'>')?;
                return Some(tag + end + 1);
            }
            _ => from = tag,
        }
    }
    None
}

/// `text` escaped for a double-quoted attribute value.
fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IframeInjector {
    /// The iframe tag this script inserts.
    pub fn iframe(&self) -> String {
        format!(
            r#"<iframe src="{}" frameborder="0" height="0" width="0"></iframe>"#,
            escape_attribute(&self.url)
        )
    }
}

impl Script for IframeInjector {
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        match argv {
            [] => {}
            [url] => self.url = (*url).to_owned(),
            _ => ctx.warn(&format!(
                "usage: -s \"iframe-injector URL\"; injecting {DEFAULT_URL}"
            )),
        }
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        // A substring test, as the original's `host in iframe_url`.
        if self.url.contains(flow.request().host()) {
            return;
        }
        let iframe = self.iframe();
        let Some(response) = flow.response_mut() else {
            return;
        };
        let injected = match response.content() {
            Ok(Some(body)) => match after_body_tag(body) {
                Some(at) => [&body[..at], iframe.as_bytes(), &body[at..]].concat(),
                None => return,
            },
            Ok(None) => return,
            Err(e) => return ctx.warn(&format!("cannot decode the body: {e}")),
        };
        if let Err(e) = response.set_content(injected) {
            ctx.warn(&format!("cannot set the body: {e}"));
        }
    }
}

waylay_sdk::export_script!(IframeInjector);

#[cfg(test)]
mod tests {
    use super::after_body_tag;

    #[test]
    fn finds_the_body_start_tag() {
        assert_eq!(after_body_tag(b"<html><body>x"), Some(12));
        assert_eq!(after_body_tag(b"<BODY class=\"a\">x"), Some(16));
        assert_eq!(after_body_tag(b"<bodyx><body\n>"), Some(14));
        assert_eq!(after_body_tag(b"<tbody><p>"), None);
        assert_eq!(after_body_tag(b"<body"), None);
        assert_eq!(after_body_tag(b"<body class"), None);
        assert_eq!(after_body_tag(b""), None);
    }
}
