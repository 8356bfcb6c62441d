//! The message views a script reads and sets through the boundary
//! (`abi::VIEW_*`, `abi::OP_*`): mitmproxy's `Request.url`, `query`,
//! `path_components`, `cookies`, `urlencoded_form`, `multipart_form`,
//! `Message.text` and friends, computed by `http::message` and
//! `http::url`. A view is handed over as bytes cached in the cell until
//! the next change, as the decoded body is; lists as items, each a 4-byte
//! little-endian length and its bytes.

use bytes::Bytes;
use waylay_sdk::abi;

use super::FlowCell;
use crate::http::{self, message, refresh, url};

/// Items as the boundary carries them.
pub(crate) fn encode_items<I, B>(items: I) -> Vec<u8>
where
    I: IntoIterator<Item = B>,
    B: AsRef<[u8]>,
{
    let mut out = Vec::new();
    for item in items {
        let item = item.as_ref();
        out.extend_from_slice(&(item.len() as u32).to_le_bytes());
        out.extend_from_slice(item);
    }
    out
}

/// The items of `bytes`, or why they are malformed.
pub(crate) fn decode_items(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut items = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or("a view's items are cut short")?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err("a view's items are cut short".into());
        }
        items.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Ok(items)
}

fn pairs(bytes: &[u8]) -> Result<message::Pairs, String> {
    let items = decode_items(bytes)?;
    if items.len() % 2 != 0 {
        return Err("pairs need an even number of items".into());
    }
    let mut it = items.into_iter();
    Ok(std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect())
}

fn flat<A: AsRef<[u8]>, B: AsRef<[u8]>>(pairs: &[(A, B)]) -> Vec<u8> {
    encode_items(pairs.iter().flat_map(|(a, b)| [a.as_ref(), b.as_ref()]))
}

/// A value that may be absent: a first byte 1 then the bytes, or a lone 0.
fn optional(value: Option<&str>) -> Vec<u8> {
    match value {
        Some(v) => [&[1u8][..], v.as_bytes()].concat(),
        None => vec![0],
    }
}

fn from_optional(item: &[u8]) -> Result<Option<String>, String> {
    match item.split_first() {
        Some((1, rest)) => Ok(Some(text(rest, "a cookie")?)),
        Some((0, [])) => Ok(None),
        _ => Err("a cookie's value is malformed".into()),
    }
}

/// `Response.cookies` for the boundary: per cookie its name, value and
/// attributes (see `abi::VIEW_SET_COOKIES`).
fn encode_cookies(cookies: &[message::ResponseCookie]) -> Vec<u8> {
    let mut items: Vec<Vec<u8>> = Vec::new();
    for (name, value, attrs) in cookies {
        items.push(name.as_bytes().to_vec());
        items.push(optional(value.as_deref()));
        items.push(encode_items(attrs.iter().flat_map(|(k, v)| {
            [k.as_bytes().to_vec(), optional(v.as_deref())]
        })));
    }
    encode_items(items)
}

fn decode_cookies(bytes: &[u8]) -> Result<Vec<message::ResponseCookie>, String> {
    let items = decode_items(bytes)?;
    if items.len() % 3 != 0 {
        return Err("cookies come as name, value and attributes".into());
    }
    items
        .chunks(3)
        .map(|c| {
            let attrs = decode_items(&c[2])?;
            if attrs.len() % 2 != 0 {
                return Err("a cookie's attributes come as pairs".into());
            }
            let attrs = attrs
                .chunks(2)
                .map(|a| Ok((text(&a[0], "a cookie")?, from_optional(&a[1])?)))
                .collect::<Result<_, String>>()?;
            Ok((text(&c[0], "a cookie")?, from_optional(&c[1])?, attrs))
        })
        .collect()
}

/// Whether `view` is one of message `code`'s: text and Content-Encoding
/// are both messages', Set-Cookie the response's, the rest the request's.
fn applies(code: u32, view: u32) -> Result<(), String> {
    match view {
        abi::VIEW_TEXT | abi::VIEW_CONTENT_ENCODING => Ok(()),
        abi::VIEW_SET_COOKIES if code != abi::MSG_RESPONSE => {
            Err("that view is the response's".into())
        }
        abi::VIEW_SET_COOKIES => Ok(()),
        _ if code != abi::MSG_REQUEST => Err("that view is the request's".into()),
        _ => Ok(()),
    }
}

fn text(bytes: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} must be UTF-8"))
}

impl FlowCell<'_> {
    /// A view of message `code`; `Ok(None)` when absent.
    pub(crate) fn msg_view(&self, code: u32, view: u32) -> Result<Option<&[u8]>, &str> {
        let slot = self
            .views
            .get_or_init(Box::default)
            .get(code as usize)
            .and_then(|v| v.get(view as usize))
            .ok_or("no such view")?;
        match slot.get_or_init(|| self.compute_view(code, view)) {
            Ok(bytes) => Ok(bytes.as_deref()),
            Err(e) => Err(e),
        }
    }

    fn compute_view(&self, code: u32, view: u32) -> Result<Option<Bytes>, String> {
        let Some(msg) = self.msg(code) else {
            return Ok(None);
        };
        applies(code, view)?;
        Ok(Some(Bytes::from(match view {
            // UTF-8 text is the body itself, checked, not copied.
            abi::VIEW_TEXT => return message::text_bytes(msg).map_err(|e| e.to_string()),
            abi::VIEW_URL => url::url(msg).into_bytes(),
            abi::VIEW_PRETTY_URL => url::pretty_url(msg).into_bytes(),
            abi::VIEW_PRETTY_HOST => url::pretty_host(msg).into_owned().into_bytes(),
            abi::VIEW_HOST_HEADER => match url::host_header(msg) {
                Some(host) => host.into_owned().into_bytes(),
                None => return Ok(None),
            },
            abi::VIEW_QUERY => {
                let mut out = Vec::with_capacity(256);
                message::query_items(msg, &mut out);
                out
            }
            abi::VIEW_PATH_COMPONENTS => encode_items(message::path_components(msg)),
            abi::VIEW_COOKIES => flat(&message::request_cookies(msg)),
            abi::VIEW_URLENCODED_FORM => flat(&message::urlencoded_form(msg)),
            abi::VIEW_MULTIPART_FORM => flat(&message::multipart_form(msg)),
            abi::VIEW_SET_COOKIES => encode_cookies(&message::response_cookies(msg)),
            _ => return Err("no such view".into()),
        })))
    }

    /// Sets a view of message `code`, as mitmproxy's setter does.
    pub(crate) fn set_msg_view(
        &mut self,
        code: u32,
        view: u32,
        value: &[u8],
    ) -> Result<(), String> {
        applies(code, view)?;
        match view {
            abi::VIEW_SET_COOKIES => {
                let cookies = decode_cookies(value)?;
                message::set_response_cookies(self.msg_mut(code)?, &cookies);
                Ok(())
            }
            abi::VIEW_CONTENT_ENCODING => {
                let coding = text(value, "a content coding")?;
                let msg = self.msg_mut(code)?;
                let raw = http::raw_content(msg).cloned().unwrap_or_default();
                let before = msg.clone();
                http::set_header(msg, b"content-encoding", coding.as_bytes());
                http::set_decoded_content(msg, &raw);
                if http::header(msg, "content-encoding").is_none() {
                    *msg = before;
                    return Err(format!("invalid content encoding {coding:?}"));
                }
                Ok(())
            }
            abi::VIEW_TEXT => {
                let value = text(value, "text")?;
                message::set_text(self.msg_mut(code)?, &value).map_err(|e| e.to_string())
            }
            abi::VIEW_URL => {
                let value = std::str::from_utf8(value).map_err(|_| "a URL must be UTF-8")?;
                let fields = url::SET_URL_FIELDS;
                url::set_url(self.msg_fields_mut(code, &fields)?, value).map_err(|e| e.to_string())
            }
            abi::VIEW_QUERY => {
                let pairs = pairs(value)?;
                message::set_query(self.msg_mut(code)?, &pairs);
                Ok(())
            }
            abi::VIEW_PATH_COMPONENTS => {
                let items = decode_items(value)?;
                message::set_path_components(self.msg_mut(code)?, &items);
                Ok(())
            }
            abi::VIEW_COOKIES => {
                let pairs: Vec<(String, String)> = pairs(value)?
                    .into_iter()
                    .map(|(n, v)| Ok((text(&n, "a cookie")?, text(&v, "a cookie")?)))
                    .collect::<Result<_, String>>()?;
                message::set_request_cookies(self.msg_mut(code)?, &pairs);
                Ok(())
            }
            abi::VIEW_URLENCODED_FORM => {
                let pairs = pairs(value)?;
                message::set_urlencoded_form(self.msg_mut(code)?, &pairs);
                Ok(())
            }
            abi::VIEW_MULTIPART_FORM => {
                let pairs = pairs(value)?;
                message::set_multipart_form(self.msg_mut(code)?, &pairs).map_err(|e| e.to_string())
            }
            _ => Err("that view cannot be set".into()),
        }
    }

    /// `Message.replace`: how many replacements were made.
    pub(crate) fn msg_replace(
        &mut self,
        code: u32,
        pattern: &[u8],
        repl: &[u8],
        count: usize,
    ) -> Result<usize, String> {
        let pattern = std::str::from_utf8(pattern).map_err(|_| "the pattern must be UTF-8")?;
        let pattern = regex::bytes::Regex::new(pattern)
            .map_err(|e| format!("the pattern is not a regular expression: {e}"))?;
        message::replace(self.msg_mut(code)?, &pattern, repl, count).map_err(|e| e.to_string())
    }

    /// One of mitmproxy's changes to message `code`.
    pub(crate) fn msg_op(&mut self, code: u32, op: u32) -> Result<(), String> {
        let request = code == abi::MSG_REQUEST;
        match (op, request) {
            (abi::OP_ANTICACHE, true) => message::anticache(self.msg_mut(code)?),
            (abi::OP_ANTICOMP, true) => message::anticomp(self.msg_mut(code)?),
            (abi::OP_CONSTRAIN_ENCODING, true) => {
                message::constrain_encoding(self.msg_mut(code)?);
            }
            (abi::OP_REFRESH, false) => refresh::refresh(self.msg_mut(code)?, super::now()),
            (abi::OP_DECODE, _) => {
                let msg = self.msg_mut(code)?;
                let decoded = http::mitmproxy_content(msg).map_err(|e| e.to_string())?;
                http::remove_header(msg, b"content-encoding");
                if let Some(body) = decoded {
                    http::set_decoded_content(msg, &body);
                }
            }
            _ => return Err("that change does not apply to this message".into()),
        }
        Ok(())
    }
}
