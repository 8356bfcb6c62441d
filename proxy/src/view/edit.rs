//! Changes the page makes to a stored or intercepted flow: a mark, a
//! comment, and the request's and response's method, URL, status,
//! headers and body, as mitmweb's flow editor sends them.

use serde_json::Value as Json;

use super::Invalid;
use crate::flow::Flow;
use crate::http::{self, Which, message, url};
use crate::tnetstring::Value;

/// Applies `edit` (`{"marked", "comment", "request": {"method", "url",
/// "http_version", "headers", "text"}, "response": {"status_code",
/// "reason", "http_version", "headers", "text"}}`, every field optional)
/// to `flow`. Nothing is changed when any field is wrong.
pub fn apply(flow: &mut Flow, edit: &Json) -> Result<(), Invalid> {
    let Some(fields) = edit.as_object() else {
        return Err(Invalid::Whole(
            "expected a JSON object of the fields to change".into(),
        ));
    };
    let mut changed = flow.clone();
    for (key, value) in fields {
        match key.as_str() {
            "marked" | "comment" => {
                let text = value
                    .as_str()
                    .ok_or_else(|| Invalid::at(key, "expected text"))?;
                changed.dict_mut().insert(key, Value::text(text));
            }
            "request" => message_edit(&mut changed, Which::Request, value)?,
            "response" => message_edit(&mut changed, Which::Response, value)?,
            // Escaped: a key can hold a line break, and the error is one line.
            other => {
                return Err(Invalid::at(
                    other.escape_debug().to_string(),
                    "not a field the view can change",
                ));
            }
        }
    }
    *flow = changed;
    Ok(())
}

fn text<'a>(value: &'a Json, what: &str) -> Result<&'a str, Invalid> {
    value
        .as_str()
        .ok_or_else(|| Invalid::at(what, "expected text"))
}

fn message_edit(flow: &mut Flow, which: Which, edit: &Json) -> Result<(), Invalid> {
    let name = which.key();
    let fields = edit
        .as_object()
        .ok_or_else(|| Invalid::at(name, "expected an object"))?;
    let msg = flow.message_mut(which).ok_or(Invalid::Missing(name))?;
    for (key, value) in fields {
        let what = format!("{name}.{}", key.escape_debug());
        match (which, key.as_str()) {
            (Which::Request, "method") => {
                let method = text(value, &what)?;
                if method.is_empty() || method.bytes().any(|b| !b.is_ascii_graphic()) {
                    return Err(Invalid::at(what, format!("{method:?} is not a method")));
                }
                msg.insert("method", Value::bytes(method.as_bytes()));
            }
            (Which::Request, "url") => {
                url::set_url(msg, text(value, &what)?)
                    .map_err(|e| Invalid::at(&what, e.to_string()))?;
            }
            (Which::Response, "status_code") => {
                let status = value
                    .as_u64()
                    .filter(|s| (100..1000).contains(s))
                    .ok_or_else(|| Invalid::at(&what, "expected a status from 100 to 999"))?;
                msg.insert("status_code", Value::Int(status as i64));
            }
            (Which::Response, "reason") => {
                msg.insert("reason", Value::bytes(text(value, &what)?.as_bytes()));
            }
            (_, "http_version") => {
                msg.insert("http_version", Value::bytes(text(value, &what)?.as_bytes()));
            }
            (_, "headers") => {
                let pairs = value
                    .as_array()
                    .ok_or_else(|| Invalid::at(&what, "expected [[name, value], ...]"))?;
                let mut list = Vec::with_capacity(pairs.len());
                for pair in pairs {
                    let (Some(n), Some(v)) = (
                        pair.get(0).and_then(Json::as_str),
                        pair.get(1).and_then(Json::as_str),
                    ) else {
                        return Err(Invalid::at(what, "expected [[name, value], ...]"));
                    };
                    if n.is_empty() || n.contains([':', '\r', '\n']) || v.contains(['\r', '\n']) {
                        return Err(Invalid::at(
                            what,
                            format!("{n:?}: {v:?} is not a header field"),
                        ));
                    }
                    list.push(Value::list(vec![
                        Value::bytes(n.as_bytes()),
                        Value::bytes(v.as_bytes()),
                    ]));
                }
                msg.insert("headers", Value::list(list));
            }
            (_, "text") => {
                message::set_text(msg, text(value, &what)?)
                    .map_err(|e| Invalid::at(&what, e.to_string()))?;
            }
            _ => return Err(Invalid::at(what, "not a field the view can change")),
        }
    }
    // A header edit may have left Content-Length behind the body.
    if fields.contains_key("headers")
        && !fields.contains_key("text")
        && http::header(msg, "content-length").is_some()
        && let Some(body) = http::raw_content(msg).cloned()
    {
        http::set_header(msg, b"content-length", body.len().to_string().as_bytes());
    }
    Ok(())
}
