//! mitmproxy 11's message accessors and setters over a flow's request and
//! response dicts: `Request.query`, `path_components`, `cookies`,
//! `urlencoded_form`, `multipart_form`, `anticache`, `anticomp`,
//! `constrain_encoding`; `Response.cookies`; `Message.text`; and the
//! seed's `Message.replace` (gone from mitmproxy 11). Pure functions, no
//! I/O: what the SDK's views call through the host.
//!
//! Python works on `str`; as in [`super::form`], a `str` that came from
//! bytes (a path, a form body) is its UTF-8 bytes with the undecodable
//! bytes of `surrogateescape` kept as they were, so those accessors give
//! `Vec<u8>`. Cookies are read from header text with undecodable bytes
//! replaced (U+FFFD), where mitmproxy keeps them as surrogates.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use bytes::Bytes;
use regex::bytes::Regex;

use super::cookies::{self, SetCookie};
use crate::tnetstring::{Dict, Value};

use super::form::{self, Errors};
use super::refresh::format_set_cookie;
use super::url::header_joined;
use super::{
    content_or_raw, fields, mitmproxy_content, raw, remove_header, set_decoded_content, set_header,
};

pub mod charset;

use charset::Charset;

/// Name and value pairs as `bytes` (the multipart form) or
/// surrogate-escaped `str` (query, urlencoded form).
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A Set-Cookie cookie's attributes in order, names as written; `None`:
/// no `=` (`HttpOnly`).
pub type Attrs = Vec<(String, Option<String>)>;

/// One cookie of `Response.cookies`: name, value (`None` without `=`),
/// attributes.
pub type ResponseCookie = (String, Option<String>, Attrs);

/// The parts of `urllib.parse.urlparse(request.url)` after the authority.
struct UrlTail {
    path: Vec<u8>,
    params: Vec<u8>,
    query: Vec<u8>,
    fragment: Vec<u8>,
}

impl UrlTail {
    /// What `urlparse(self.url)` makes of the request's URL after the
    /// authority. The URL is `scheme://host[:port]` and the path (`*`
    /// left out), a CONNECT request's `host:port`; tabs and line breaks
    /// are dropped; what precedes the first `/`, `?` or `#` after `//` is
    /// the authority; then come fragment, query and (for the schemes with
    /// them) the last segment's `;params`.
    fn of(req: &Dict) -> UrlTail {
        let keep = |b: &u8| !matches!(b, b'\t' | b'\r' | b'\n');
        let (scheme, mut rest) = if raw(req, "method").eq_ignore_ascii_case(b"CONNECT") {
            // No `//`: a scheme when the host looks like one, then a path.
            let url: Vec<u8> = super::url::url(req).bytes().filter(keep).collect();
            split_scheme(url)
        } else {
            let mut path: Vec<u8> = match raw(req, "path") {
                b"*" => Vec::new(),
                path => path.iter().copied().filter(keep).collect(),
            };
            let authority_end = path
                .iter()
                .position(|b| b"/?#".contains(b))
                .unwrap_or(path.len());
            path.drain(..authority_end);
            let scheme = String::from_utf8_lossy(raw(req, "scheme")).to_lowercase();
            (scheme, path)
        };
        let fragment = split_off_after(&mut rest, b'#');
        let query = split_off_after(&mut rest, b'?');
        let mut params = Vec::new();
        if super::url::USES_PARAMS.contains(&scheme.as_str()) && rest.contains(&b';') {
            let from = rest.iter().rposition(|&b| b == b'/').unwrap_or(0);
            if let Some(i) = rest[from..].iter().position(|&b| b == b';') {
                params = rest.split_off(from + i + 1);
                rest.pop();
            }
        }
        UrlTail {
            path: rest,
            params,
            query,
            fragment,
        }
    }

    /// `urlunparse(("", "", path, params, query, fragment))`: the empty
    /// parts go with their separators.
    fn write(self, req: &mut Dict) {
        let mut out = self.path;
        for (sep, part) in [
            (b';', self.params),
            (b'?', self.query),
            (b'#', self.fragment),
        ] {
            if !part.is_empty() {
                out.push(sep);
                out.extend_from_slice(&part);
            }
        }
        req.insert("path", Value::bytes(&out));
    }
}

/// `urlsplit`'s scheme: what precedes the first `:` when it starts with
/// a letter and holds only letters, digits, `+`, `-` and `.`, lowercased.
fn split_scheme(mut url: Vec<u8>) -> (String, Vec<u8>) {
    let scheme_char = |b: &u8| b.is_ascii_alphanumeric() || b"+-.".contains(b);
    match url.iter().position(|&b| b == b':') {
        Some(i) if i > 0 && url[0].is_ascii_alphabetic() && url[..i].iter().all(scheme_char) => {
            let rest = url.split_off(i + 1);
            url.pop();
            (String::from_utf8_lossy(&url).to_lowercase(), rest)
        }
        _ => (String::new(), url),
    }
}

/// What follows the first `sep`, taken off `s` with the `sep`; empty when
/// there is none.
fn split_off_after(s: &mut Vec<u8>, sep: u8) -> Vec<u8> {
    match s.iter().position(|&b| b == sep) {
        Some(i) => {
            let after = s.split_off(i + 1);
            s.pop();
            after
        }
        None => Vec::new(),
    }
}

/// `urllib.parse.quote` (`plus`: `quote_plus`) of UTF-8 (or
/// surrogate-escaped) bytes: letters, digits, `_.-~` and `safe` stay,
/// anything else is `%XX`.
fn quote(s: &[u8], safe: &[u8], plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.contains(&b) {
            out.push(char::from(b));
        } else if plus && b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `url.encode(pairs)`: `urlencode` with `quote_plus`.
fn urlencode(pairs: &[(Vec<u8>, Vec<u8>)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote(k, b"", true), quote(v, b"", true)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `Request.query`: the pairs of the path's query string, `+` and
/// `%xx` decoded, blank values kept, order and duplicates kept.
pub fn query(req: &Dict) -> Pairs {
    form::parse_qsl(&query_string(req), Errors::SurrogateEscape)
}

/// [`query`] the long way, through everything `urlparse` does: what the
/// fast path is held to (tests, fuzzing).
pub fn query_reference(req: &Dict) -> Pairs {
    form::parse_qsl(&UrlTail::of(req).query, Errors::SurrogateEscape)
}

/// [`query`] as the boundary carries it: name and value items, each a
/// 4-byte little-endian length and its bytes, written straight into `out`.
pub fn query_items(req: &Dict, out: &mut Vec<u8>) {
    form::parse_qsl_items(&query_string(req), Errors::SurrogateEscape, out);
}

/// The query string `urlparse(request.url)` finds: borrowed from the
/// path in the usual case (no CONNECT, no tab or line break to drop),
/// where it is what follows the first `?` before any `#`.
fn query_string(req: &Dict) -> Cow<'_, [u8]> {
    let path = raw(req, "path");
    let plain = !raw(req, "method").eq_ignore_ascii_case(b"CONNECT")
        && !path.iter().any(|b| matches!(b, b'\t' | b'\r' | b'\n'));
    if !plain {
        return Cow::Owned(UrlTail::of(req).query);
    }
    if path == b"*" {
        return Cow::Borrowed(b"");
    }
    let before_fragment = path.split(|&b| b == b'#').next().unwrap_or_default();
    match before_fragment.iter().position(|&b| b == b'?') {
        Some(i) => Cow::Borrowed(&before_fragment[i + 1..]),
        None => Cow::Borrowed(b""),
    }
}

/// `Request.query = pairs`: the path's query becomes the pairs
/// `quote_plus`'d (none: no `?`); path, params and fragment stay.
pub fn set_query(req: &mut Dict, pairs: &[(Vec<u8>, Vec<u8>)]) {
    let mut tail = UrlTail::of(req);
    tail.query = urlencode(pairs).into_bytes();
    tail.write(req);
}

/// `Request.path_components`: the path's non-empty segments (params,
/// query and fragment left out), `%xx` decoded.
pub fn path_components(req: &Dict) -> Vec<Vec<u8>> {
    UrlTail::of(req)
        .path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| form::unquote(c, Errors::SurrogateEscape))
        .collect()
}

/// `Request.path_components = components`: `/` and the components
/// quoted (`/` too) and joined by `/`; params, query and fragment stay.
pub fn set_path_components<C: AsRef<[u8]>>(req: &mut Dict, components: &[C]) {
    let mut tail = UrlTail::of(req);
    let quoted: Vec<String> = components
        .iter()
        .map(|c| quote(c.as_ref(), b"", false))
        .collect();
    tail.path = format!("/{}", quoted.join("/")).into_bytes();
    tail.write(req);
}

/// Every value of header `name`, in order, as text.
fn all_values<'a>(msg: &'a Dict, name: &str) -> impl Iterator<Item = Cow<'a, str>> {
    fields(msg)
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| String::from_utf8_lossy(v))
}

/// `Request.cookies`: the pairs of every Cookie field, in order.
pub fn request_cookies(req: &Dict) -> Vec<(String, String)> {
    all_values(req, "cookie")
        .flat_map(|v| cookies::parse_cookie_header(&v))
        .collect()
}

/// `Request.cookies = pairs`: one Cookie field (the first one's place
/// and case kept), values quoted where they hold anything special.
pub fn set_request_cookies(req: &mut Dict, pairs: &[(String, String)]) {
    let pairs: Vec<(String, Option<String>)> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    set_header(
        req,
        b"cookie",
        cookies::format_cookie_header(&pairs).as_bytes(),
    );
}

/// `Response.cookies`: every cookie of every Set-Cookie field (the
/// comma-separated form included), in order, duplicates kept.
pub fn response_cookies(resp: &Dict) -> Vec<ResponseCookie> {
    all_values(resp, "set-cookie")
        .flat_map(|v| cookies::parse_set_cookie(&v))
        .map(|c| (c.name, c.value, c.attrs))
        .collect()
}

/// `Response.cookies = cookies`: one Set-Cookie field per cookie, as
/// `Headers.set_all` writes them.
pub fn set_response_cookies(resp: &mut Dict, cookies: &[ResponseCookie]) {
    let values: Vec<Vec<u8>> = cookies
        .iter()
        .map(|(name, value, attrs)| {
            let cookie = SetCookie {
                name: name.clone(),
                value: value.clone(),
                attrs: attrs.clone(),
            };
            format_set_cookie(&[cookie]).into_bytes()
        })
        .collect();
    set_all(resp, b"set-cookie", values);
}

/// `Headers.set_all(name, values)`: the fields of that name take the
/// values in order, keeping their places and case; the surplus ones go;
/// the values left over are appended.
fn set_all(msg: &mut Dict, name: &[u8], values: Vec<Vec<u8>>) {
    let mut values = values.into_iter();
    let mut out = Vec::new();
    for (n, v) in fields(msg) {
        if !n.eq_ignore_ascii_case(name) {
            out.push(field(n, v));
        } else if let Some(value) = values.next() {
            out.push(field(n, &value));
        }
    }
    out.extend(values.map(|v| field(name, &v)));
    msg.insert("headers", Value::list(out));
}

fn field(name: &[u8], value: &[u8]) -> Value {
    Value::list(vec![Value::bytes(name), Value::bytes(value)])
}

/// `Headers.get(name, "")`: every value joined by `, `, as text.
fn joined(msg: &Dict, name: &str) -> String {
    header_joined(msg, name).unwrap_or_default().into_owned()
}

/// `Request.urlencoded_form`: the body's pairs when the Content-Type holds
/// `application/x-www-form-urlencoded` (any case), else none. The body is
/// read as `get_text(strict=False)` reads it (the charset, Latin-1 by
/// default; undecodable: the bytes).
pub fn urlencoded_form(req: &Dict) -> Pairs {
    let ct = joined(req, "content-type").to_lowercase();
    if !ct.contains("application/x-www-form-urlencoded") {
        return Vec::new();
    }
    match text_lossy(req) {
        Some(text) => form::parse_qsl(&text, Errors::SurrogateEscape),
        None => Vec::new(),
    }
}

/// `get_text(strict=False)`: the body (Content-Encoding undone, or raw
/// where it cannot be) decoded in its charset, or its bytes where that
/// fails (surrogate-escaped UTF-8); `None` when not kept.
fn text_lossy(msg: &Dict) -> Option<Vec<u8>> {
    let content = content_or_raw(msg)?;
    Some(match decode(msg, &content) {
        Ok(text) => text.into_bytes(),
        Err(_) => content.to_vec(),
    })
}

/// `Request.urlencoded_form = pairs`: Content-Type
/// `application/x-www-form-urlencoded`, the body the pairs `quote_plus`'d
/// (set as `content`, so encoded per Content-Encoding). When the old
/// body had a name without `=`, empty values lose their `=` too.
pub fn set_urlencoded_form(req: &mut Dict, pairs: &[(Vec<u8>, Vec<u8>)]) {
    set_header(req, b"content-type", b"application/x-www-form-urlencoded");
    let mut encoded = urlencode(pairs);
    // `similar_to`: the old body as text, now Latin-1 (the charset is gone).
    let old = content_or_raw(req).unwrap_or_default();
    if !old.is_empty() && old.split(|&b| b == b'&').any(|p| !p.contains(&b'=')) {
        encoded = encoded.replace("=&", "&");
        if encoded.ends_with('=') {
            encoded.pop();
        }
    }
    set_decoded_content(req, encoded.as_bytes());
}

/// `Request.multipart_form`: the parts when the Content-Type holds
/// `multipart/form-data` (any case), else none. Where mitmproxy raises
/// (a Content-Encoding it cannot undo), none.
pub fn multipart_form(req: &Dict) -> Pairs {
    let ct = joined(req, "content-type");
    match mitmproxy_content(req) {
        Ok(body) => form::multipart_form(ct.as_bytes(), body.as_deref()),
        Err(_) => Vec::new(),
    }
}

/// Why a multipart form could not be written: a value is the
/// delimiter line itself (mitmproxy's `ValueError`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundaryInValue;

impl fmt::Display for BoundaryInValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("boundary found in encoded string")
    }
}

impl std::error::Error for BoundaryInValue {}

/// `Request.multipart_form = parts`: unless the Content-Type starts with
/// `multipart/form-data`, it becomes that with a new boundary (20 `-`
/// and 32 random hex digits); then the body is `encode_multipart`'s. On
/// an error the Content-Type is already written, as in mitmproxy.
pub fn set_multipart_form(
    req: &mut Dict,
    parts: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), BoundaryInValue> {
    let mut ct = joined(req, "content-type");
    if !ct.to_lowercase().starts_with("multipart/form-data") {
        let boundary = format!("{}{}", "-".repeat(20), uuid::Uuid::new_v4().simple());
        ct = format!("multipart/form-data; boundary={boundary}");
        set_header(req, b"content-type", ct.as_bytes());
    }
    let body = encode_multipart(ct.as_bytes(), parts)?;
    set_decoded_content(req, &body);
    Ok(())
}

/// `multipart.encode_multipart`: for each part with a name, the
/// delimiter, a Content-Disposition with the name, `Content-Type:
/// text/plain; charset=utf-8` (mitmproxy guesses from `str(name)`, which
/// never has an extension), a blank line and the value; then the closing
/// delimiter; lines joined by CRLF. Empty when the Content-Type has no
/// ASCII `boundary` parameter (its value `quote`d, quotes included).
pub fn encode_multipart(
    content_type: &[u8],
    parts: &[(Vec<u8>, Vec<u8>)],
) -> Result<Vec<u8>, BoundaryInValue> {
    let boundary = form::parse_content_type(content_type)
        .and_then(|(_, _, params)| params.into_iter().find(|(n, _)| n == b"boundary"))
        .map(|(_, v)| v)
        .filter(|b| b.is_ascii());
    let Some(boundary) = boundary else {
        return Ok(Vec::new());
    };
    let delimiter = format!("--{}", quote(&boundary, b"/", false)).into_bytes();
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for (name, value) in parts {
        if !name.is_empty() {
            lines.push(delimiter.clone());
            let mut disposition = b"Content-Disposition: form-data; name=\"".to_vec();
            disposition.extend_from_slice(name);
            disposition.push(b'"');
            lines.push(disposition);
            lines.push(b"Content-Type: text/plain; charset=utf-8".to_vec());
            lines.push(Vec::new());
            lines.push(value.clone());
        }
        lines.push(Vec::new());
        // `re.search(rb"^--boundary$", value)`: `$` also before a final `\n`.
        if value.strip_suffix(b"\n").unwrap_or(value) == delimiter {
            return Err(BoundaryInValue);
        }
    }
    let mut closing = delimiter;
    closing.extend_from_slice(b"--\r\n");
    lines.push(closing);
    Ok(lines.join(&b"\r\n"[..]))
}

/// `Request.anticache()`: no If-Modified-Since or If-None-Match.
pub fn anticache(req: &mut Dict) {
    remove_header(req, b"if-modified-since");
    remove_header(req, b"if-none-match");
}

/// `Request.anticomp()`: `accept-encoding: identity`.
pub fn anticomp(req: &mut Dict) {
    set_header(req, b"accept-encoding", b"identity");
}

/// `Request.constrain_encoding()`: a non-empty Accept-Encoding becomes
/// those of `gzip`, `identity`, `deflate`, `br` and `zstd` it contains
/// (as substrings, any case not folded), joined by `, `. mitmproxy
/// iterates a Python set, so its order varies from run to run; this one
/// is always the order above.
pub fn constrain_encoding(req: &mut Dict) {
    let accept = joined(req, "accept-encoding");
    if accept.is_empty() {
        return;
    }
    let kept: Vec<&str> = ["gzip", "identity", "deflate", "br", "zstd"]
        .into_iter()
        .filter(|e| accept.contains(e))
        .collect();
    set_header(req, b"accept-encoding", kept.join(", ").as_bytes());
}

/// Why `Message.text` has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextError {
    /// The Content-Encoding cannot be undone (mitmproxy raises).
    Content(crate::encoding::EncodingError),
    /// The body is not valid in its charset (mitmproxy raises).
    Decode {
        /// The charset, as named.
        charset: String,
    },
    /// A charset other than UTF-8, Latin-1, ASCII and cp1252, which
    /// mitmproxy would read with Python's codec of that name, or fail
    /// on when Python has none.
    Unsupported {
        /// The charset, as named.
        charset: String,
    },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Content(e) => write!(f, "cannot decode the body: {e}"),
            TextError::Decode { charset } => write!(f, "the body is not valid {charset}"),
            TextError::Unsupported { charset } => {
                write!(
                    f,
                    "unsupported charset {charset:?} (Waylay knows utf-8, latin-1, ascii and cp1252)"
                )
            }
        }
    }
}

impl std::error::Error for TextError {}

/// `Message.text`: the body (Content-Encoding undone) decoded in the
/// charset [`charset::infer`] names; `Ok(None)` when not kept.
pub fn text(msg: &Dict) -> Result<Option<String>, TextError> {
    match mitmproxy_content(msg).map_err(TextError::Content)? {
        Some(content) => decode(msg, &content).map(Some),
        None => Ok(None),
    }
}

/// [`text`] as the boundary hands it on: UTF-8 content is the body's own
/// bytes, checked and not copied; other charsets are decoded to UTF-8.
pub fn text_bytes(msg: &Dict) -> Result<Option<Bytes>, TextError> {
    let Some(content) = mitmproxy_content(msg).map_err(TextError::Content)? else {
        return Ok(None);
    };
    let name = charset::infer(joined(msg, "content-type").as_bytes(), &content);
    match Charset::lookup(&name) {
        Charset::Utf8 if std::str::from_utf8(&content).is_ok() => Ok(Some(content)),
        Charset::Utf8 => Err(TextError::Decode { charset: name }),
        _ => decode(msg, &content).map(|text| Some(Bytes::from(text.into_bytes()))),
    }
}

/// `content` (the body, Content-Encoding undone) decoded in its charset.
fn decode(msg: &Dict, content: &[u8]) -> Result<String, TextError> {
    let name = charset::infer(joined(msg, "content-type").as_bytes(), content);
    match Charset::lookup(&name) {
        Charset::Other(charset) => Err(TextError::Unsupported { charset }),
        cs => cs
            .decode(content)
            .ok_or(TextError::Decode { charset: name }),
    }
}

/// `Message.text = text`: encoded in the Content-Type's charset (UTF-8
/// for JSON, Latin-1 without one) and set as `content`. When the charset
/// lacks a character of `text`, the Content-Type gets `charset=utf-8`
/// (`text/plain` when it had none that parses) and the body is UTF-8.
/// An [`TextError::Unsupported`] charset leaves the message as it was.
pub fn set_text(msg: &mut Dict, text: &str) -> Result<(), TextError> {
    let ct = joined(msg, "content-type");
    let name = charset::infer(ct.as_bytes(), b"");
    let cs = Charset::lookup(&name);
    if let Charset::Other(charset) = cs {
        return Err(TextError::Unsupported { charset });
    }
    if let Some(bytes) = cs.encode(text) {
        set_decoded_content(msg, &bytes);
        return Ok(());
    }
    let (main, sub, mut params) = form::parse_content_type(ct.as_bytes())
        .unwrap_or_else(|| (b"text".to_vec(), b"plain".to_vec(), Vec::new()));
    match params.iter_mut().find(|(n, _)| n == b"charset") {
        Some(slot) => slot.1 = b"utf-8".to_vec(),
        None => params.push((b"charset".to_vec(), b"utf-8".to_vec())),
    }
    let mut assembled = [main, b"/".to_vec(), sub].concat();
    for (k, v) in params {
        assembled.extend_from_slice(b"; ");
        assembled.extend_from_slice(&[k, b"=".to_vec(), v].concat());
    }
    set_header(msg, b"content-type", &assembled);
    set_decoded_content(msg, text.as_bytes());
    Ok(())
}

/// The seed's `Message.replace(pattern, repl, count)` (mitmproxy 4; gone
/// from 11): `pattern` replaced by `repl` in the body (Content-Encoding
/// undone and redone; an empty body is left alone), then in each header
/// field as the line `name: value` (a field whose replacement has no
/// `: ` left stays as it was). `count` is the most replacements in the
/// body, and in the headers (0: no limit). Returns how many were made.
///
/// `repl` is a `regex` replacement (`$1`, `${name}`), not Python's
/// (`\1`), and empty matches next to a match follow the `regex` crate.
/// mitmproxy 4 dropped the fields after the one that used up `count`;
/// here they stay.
pub fn replace(
    msg: &mut Dict,
    pattern: &Regex,
    repl: &[u8],
    count: usize,
) -> Result<usize, crate::encoding::EncodingError> {
    let subn = |haystack: &[u8], limit: usize| {
        let n = match limit {
            0 => pattern.find_iter(haystack).count(),
            _ => pattern.find_iter(haystack).take(limit).count(),
        };
        (pattern.replacen(haystack, limit, repl).into_owned(), n)
    };
    let mut total = 0;
    if let Some(body) = mitmproxy_content(msg)?
        && !body.is_empty()
    {
        let (new, n) = subn(&body, count);
        set_decoded_content(msg, &new);
        total += n;
    }
    let mut left = count;
    let mut out = Vec::new();
    let (mut done, mut changed) = (false, false);
    for (name, value) in fields(msg) {
        if done {
            out.push(field(name, value));
            continue;
        }
        let line = [name, b": ", value].concat();
        let (new, n) = subn(&line, left);
        match new.windows(2).position(|w| w == b": ") {
            Some(i) => {
                out.push(field(&new[..i], &new[i + 2..]));
                total += n;
                changed |= n > 0;
                if count > 0 {
                    left -= n;
                    done = left == 0;
                }
            }
            None => out.push(field(name, value)),
        }
    }
    if changed {
        msg.insert("headers", Value::list(out));
    }
    Ok(total)
}

#[cfg(test)]
mod tests;
