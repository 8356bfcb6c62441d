//! What requests and responses share beyond fields: the body as text and
//! JSON, trailers, Content-Encoding undone and redone, and `replace`.

use super::Message;
use crate::abi;
use crate::{Error, Headers};

impl Message {
    /// The body as text (mitmproxy's `message.text`): Content-Encoding
    /// undone, then decoded in the charset of the Content-Type, else the
    /// document's own declaration (`<meta charset>` for HTML, `@charset`
    /// for CSS), else UTF-8 for JSON and Latin-1 for the rest. `Ok(None)`
    /// when the body was not kept (streamed); `Err` when it does not
    /// decode, or its charset is not one Waylay knows (UTF-8, Latin-1,
    /// ASCII, cp1252).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(text) = flow.response().map(|r| r.text()).transpose()?.flatten() {
    ///     println!("{} characters", text.chars().count());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn text(&self) -> Result<Option<String>, Error> {
        self.handle.msg_text(self.which).map_err(Error::from_host)
    }

    /// Sets the body from text (mitmproxy's `message.text = ...`): encoded
    /// in the message's charset (as [`text`](Message::text) finds it) and
    /// Content-Encoding applied again; when that charset lacks a character
    /// of `text`, the Content-Type gets `charset=utf-8` and the body is
    /// UTF-8.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.set_text("Bonjour, café")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn set_text(&mut self, text: &str) -> Result<(), Error> {
        self.set_view(abi::VIEW_TEXT, text.as_bytes())
    }

    /// The body as JSON text, ready for the script's own parser (the SDK
    /// has no JSON crate), decoded as mitmproxy's `message.json()` decodes
    /// it before parsing (Python's `json.loads` of the bytes): the
    /// Content-Encoding undone, then UTF-8 (a BOM dropped), or UTF-16 or
    /// UTF-32 when a BOM or the zero bytes of the first characters say so;
    /// the Content-Type's charset plays no part. `Err` when the body does
    /// not decode.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(json) = flow.request().json()? {
    ///     // serde_json::from_str::<MyType>(&json), in the script's crate
    ///     assert!(!json.is_empty());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn json(&self) -> Result<Option<String>, Error> {
        let Some(body) = self.content()? else {
            return Ok(None);
        };
        json_text(body)
            .map(Some)
            .ok_or_else(|| Error::new("the body is not UTF-8, UTF-16 or UTF-32 text".to_owned()))
    }

    /// The trailers: header fields sent after the body (HTTP/2, or chunked
    /// HTTP/1.1), empty when there are none (mitmproxy's
    /// `message.trailers`).
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow) {
    /// // mitmproxy's http-trailers example:
    /// if !flow.request().trailers().is_empty() {
    ///     println!("trailers: {}", flow.request().trailers().len());
    /// }
    /// # }
    /// ```
    pub fn trailers(&self) -> &Headers {
        &self.trailers
    }

    /// The trailers, to change; the first change makes the message have
    /// some. Over HTTP/1.1 they are sent only with a chunked body (set
    /// `Transfer-Encoding: chunked` and announce them in `Trailer`).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// if let Some(response) = flow.response_mut() {
    ///     response.headers_mut().set("trailer", "x-checked");
    ///     response.trailers_mut().set("x-checked", "yes");
    /// }
    /// # }
    /// ```
    pub fn trailers_mut(&mut self) -> &mut Headers {
        &mut self.trailers
    }

    /// Decodes the body in place: Content-Encoding undone and the header
    /// removed (mitmproxy's `message.decode()`). `Err` when it does not
    /// decode; the message is then as it was.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.decode()?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn decode(&mut self) -> Result<(), Error> {
        self.handle
            .msg_op(self.which, abi::OP_DECODE)
            .map_err(Error::from_host)
    }

    /// Encodes the body with `coding` (`gzip`, `deflate`, `br`, `zstd`,
    /// `identity`) and sets Content-Encoding, as mitmproxy's
    /// `message.encode(coding)`: the body as it is now is taken as the
    /// decoded one. `Err` for an unknown coding (nothing changes).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     response.encode("gzip")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn encode(&mut self, coding: &str) -> Result<(), Error> {
        self.set_view(abi::VIEW_CONTENT_ENCODING, coding.as_bytes())
    }

    /// Replaces every match of `pattern` (a `regex` crate expression) with
    /// `replacement` (`$1`, `${name}` for groups) in the decoded body and
    /// in each header field as `name: value`, as the seed's
    /// `message.replace` did; how many replacements were made.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// if let Some(response) = flow.response_mut() {
    ///     let n = response.replace("(?i)colou?r", "hue")?;
    ///     println!("{n} replaced");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn replace(&mut self, pattern: &str, replacement: &str) -> Result<usize, Error> {
        self.handle
            .msg_replace(self.which, pattern, replacement.as_bytes(), 0)
            .map_err(Error::from_host)
    }
}

/// JSON bytes as text, in the encoding Python's `json.detect_encoding`
/// finds; `None` when they do not decode.
fn json_text(b: &[u8]) -> Option<String> {
    let units = |size: usize, big: bool, skip: usize| -> Option<String> {
        let b = &b[skip..];
        if !b.len().is_multiple_of(size) {
            return None;
        }
        let chunks = b.chunks_exact(size);
        if size == 2 {
            let units = chunks.map(|c| {
                let c = [c[0], c[1]];
                if big {
                    u16::from_be_bytes(c)
                } else {
                    u16::from_le_bytes(c)
                }
            });
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        } else {
            chunks
                .map(|c| {
                    let c = [c[0], c[1], c[2], c[3]];
                    char::from_u32(if big {
                        u32::from_be_bytes(c)
                    } else {
                        u32::from_le_bytes(c)
                    })
                })
                .collect()
        }
    };
    match b {
        [0, 0, 0xfe, 0xff, ..] => units(4, true, 4),
        [0xff, 0xfe, 0, 0, ..] => units(4, false, 4),
        [0xfe, 0xff, ..] => units(2, true, 2),
        [0xff, 0xfe, ..] => units(2, false, 2),
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        [0, x, _, _, ..] => units(if *x == 0 { 4 } else { 2 }, true, 0),
        [_, 0, x, y, ..] => units(if *x == 0 && *y == 0 { 4 } else { 2 }, false, 0),
        [0, _] => units(2, true, 0),
        [_, 0] => units(2, false, 0),
        _ => String::from_utf8(b.to_vec()).ok(),
    }
}
