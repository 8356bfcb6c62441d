//! A migrated flow rebuilt as mitmproxy 11 writes a flow of format 21:
//! its fields in mitmproxy's order, text where mitmproxy keeps text and
//! bytes where it keeps bytes (old files wrote both as bytes). mitmproxy
//! gets the same by loading the migrated dict into its classes and saving
//! them again.

use crate::tnetstring::{Dict, Value};

/// A connection's fields after its own first ones (the client's
/// `proxy_mode` and `mitmcert`; the server's `via`, `timestamp_tcp_setup`
/// and `address`), in the order they are written.
const CONNECTION: [&str; 16] = [
    "timestamp_tls_setup",
    "timestamp_end",
    "timestamp_start",
    "sni",
    "tls_version",
    "cipher_list",
    "cipher",
    "alpn_offers",
    "alpn",
    "certificate_list",
    "tls",
    "error",
    "transport_protocol",
    "id",
    "sockname",
    "peername",
];

const CLIENT: [&str; 2] = ["proxy_mode", "mitmcert"];

const SERVER: [&str; 3] = ["via", "timestamp_tcp_setup", "address"];

/// A request's own first fields, in the order they are written.
const REQUEST: [&str; 6] = ["path", "authority", "scheme", "method", "port", "host"];

/// A response's own first fields.
const RESPONSE: [&str; 2] = ["reason", "status_code"];

/// A message's fields after its own first ones.
const MESSAGE: [&str; 6] = [
    "timestamp_end",
    "timestamp_start",
    "trailers",
    "content",
    "headers",
    "http_version",
];

const WEBSOCKET: [&str; 5] = [
    "timestamp_end",
    "close_reason",
    "close_code",
    "closed_by_client",
    "messages",
];

/// Every flow's own fields, after its kind's.
const COMMON: [&str; 13] = [
    "backup",
    "timestamp_created",
    "comment",
    "metadata",
    "marked",
    "is_replay",
    "intercepted",
    "server_conn",
    "client_conn",
    "error",
    "id",
    "type",
    "version",
];

/// Text (decoded, as mitmproxy's classes do) where `v` is bytes.
fn text(v: Value) -> Value {
    match v {
        Value::Bytes(b) => match std::str::from_utf8(&b) {
            Ok(_) => Value::Text(b),
            Err(_) => Value::text(&String::from_utf8_lossy(&b)),
        },
        other => other,
    }
}

/// Bytes where `v` is text.
fn bytes(v: Value) -> Value {
    match v {
        Value::Text(b) => Value::Bytes(b),
        other => other,
    }
}

/// `f` applied to each item of a list.
fn each(v: Value, f: fn(Value) -> Value) -> Value {
    match v.as_list() {
        Some(items) => Value::list(items.iter().cloned().map(f).collect()),
        None => v,
    }
}

/// A header list: each name and value bytes.
fn fields(v: Value) -> Value {
    each(v, |pair| each(pair, bytes))
}

/// An address: its host text.
fn address(v: Value) -> Value {
    match v.as_list() {
        Some([host, rest @ ..]) => {
            let mut items = vec![text(host.clone())];
            items.extend(rest.iter().cloned());
            Value::list(items)
        }
        _ => v,
    }
}

/// Takes `d`'s fields `order` in that order, each through `convert`; a
/// field it lacks is an error naming `what`.
fn rebuild<'k>(
    d: &Dict,
    order: impl IntoIterator<Item = &'k &'static str>,
    what: &str,
    convert: impl Fn(&str, Value) -> Value,
) -> Result<Value, String> {
    let mut out = Dict::with_capacity(20);
    for key in order {
        let v = d
            .get(key)
            .cloned()
            .ok_or_else(|| format!("has no {what}.{key}"))?;
        out.push(key, convert(key, v));
    }
    Ok(Value::Dict(out.into()))
}

/// A connection: its own first fields, then the ones both sides have.
fn connection(d: &Dict, first: &[&'static str], what: &str) -> Result<Value, String> {
    rebuild(
        d,
        first.iter().chain(&CONNECTION),
        what,
        |key, v| match key {
            "proxy_mode" | "sni" | "tls_version" | "cipher" | "error" | "transport_protocol"
            | "id" => text(v),
            "cipher_list" => each(v, text),
            "alpn" | "mitmcert" => bytes(v),
            "alpn_offers" | "certificate_list" => each(v, bytes),
            "sockname" | "peername" | "address" => address(v),
            _ => v,
        },
    )
}

/// A request or response: its own first fields, then the ones both have.
fn message(d: &Dict, first: &[&'static str], what: &str) -> Result<Value, String> {
    rebuild(d, first.iter().chain(&MESSAGE), what, |key, v| match key {
        "host" => text(v),
        "headers" | "trailers" => fields(v),
        "port" | "status_code" | "timestamp_end" | "timestamp_start" => v,
        _ => bytes(v),
    })
}

/// `flow[key]` through `f` where it is a dict; null where it is null.
fn part(
    flow: &Dict,
    key: &str,
    f: impl Fn(&Dict) -> Result<Value, String>,
) -> Result<Value, String> {
    match flow.get(key) {
        Some(Value::Dict(d)) => f(d),
        Some(Value::Null) | None if key != "client_conn" && key != "server_conn" => Ok(Value::Null),
        _ => Err(format!("has no {key}")),
    }
}

/// A dict whose keys are text, as mitmproxy's metadata after its keys
/// were converted.
fn text_keys(v: Value) -> Value {
    let Some(d) = v.as_dict() else {
        return v;
    };
    let mut out = Dict::with_capacity(d.len());
    for (k, v) in d.iter() {
        out.push_entry(text(k.clone()), v.clone());
    }
    Value::Dict(out.into())
}

/// The flow as mitmproxy 11 writes it.
pub(super) fn flow(flow: Dict) -> Result<Dict, String> {
    let kind = text(flow.get("type").cloned().ok_or("has no type")?);
    let mut out = Dict::with_capacity(16);
    match kind.as_str() {
        Some("http") => {
            out.push(
                "websocket",
                part(&flow, "websocket", |d| {
                    rebuild(d, &WEBSOCKET, "websocket", |k, v| {
                        if k == "close_reason" { text(v) } else { v }
                    })
                })?,
            );
            out.push(
                "response",
                part(&flow, "response", |d| message(d, &RESPONSE, "response"))?,
            );
            out.push(
                "request",
                part(&flow, "request", |d| message(d, &REQUEST, "request"))?,
            );
        }
        Some("dns") => {
            out.push(
                "response",
                flow.get("response").cloned().unwrap_or(Value::Null),
            );
            out.push(
                "request",
                flow.get("request").cloned().unwrap_or(Value::Null),
            );
        }
        Some("tcp" | "udp") => {
            out.push(
                "messages",
                flow.get("messages").cloned().ok_or("has no messages")?,
            );
        }
        _ => return Err(format!("has the unknown type {kind:?}")),
    }
    for key in COMMON {
        let v = match key {
            "backup" => flow.get(key).cloned().unwrap_or(Value::Null),
            "server_conn" => part(&flow, key, |d| connection(d, &SERVER, key))?,
            "client_conn" => part(&flow, key, |d| connection(d, &CLIENT, key))?,
            "error" => part(&flow, key, |d| {
                rebuild(d, &["timestamp", "msg"], "error", |k, v| {
                    if k == "msg" { text(v) } else { v }
                })
            })?,
            "metadata" => text_keys(flow.get(key).cloned().ok_or("has no metadata")?),
            "comment" | "marked" | "id" | "type" | "is_replay" => text(
                flow.get(key)
                    .cloned()
                    .ok_or_else(|| format!("has no {key}"))?,
            ),
            "version" => Value::Int(crate::flow::FORMAT_VERSION),
            _ => flow
                .get(key)
                .cloned()
                .ok_or_else(|| format!("has no {key}"))?,
        };
        out.push(key, v);
    }
    Ok(out)
}
