//! The JSON the page reads: a window of rows, and one flow opened in the
//! detail pane. Bodies are not in it; the page asks for them by range.

use serde_json::{Map, Value as Json, json};

use crate::flow::Flow;
use crate::http::{self, Which};
use crate::tnetstring::{Dict, Value};

use super::Window;
use super::row::{self, Row};

/// How many WebSocket or TCP messages the detail carries; the page asks
/// for more by offset.
pub const MESSAGES_AT_ONCE: usize = 500;

/// A row as the list shows it.
pub fn row(n: usize, row: &Row, highlighted: bool) -> Json {
    let flag = |bit| row.flags & bit != 0;
    json!({
        "n": n,
        "type": &*row.kind,
        "time": row.time,
        "method": &*row.method,
        "url": &*row.url,
        "host": row.host(),
        "status": row.status,
        "size": row.size,
        "duration": row.duration,
        "tls": flag(row::TLS),
        "replay": flag(row::REPLAY),
        "intercepted": flag(row::INTERCEPTED),
        "killed": flag(row::KILLED),
        "error": flag(row::ERROR),
        "marked": &*row.mark,
        "highlighted": highlighted,
    })
}

/// A window of the list.
pub fn window(window: &Window) -> Json {
    json!({
        "total": window.total,
        "matched": window.matched,
        "start": window.start,
        "rows": window.rows.iter().map(|(n, r, lit)| row(*n, r, *lit)).collect::<Vec<_>>(),
    })
}

/// Bytes shown as text (undecodable bytes replaced).
fn text(bytes: &[u8]) -> Json {
    Json::String(String::from_utf8_lossy(bytes).into_owned())
}

/// A dict's field as JSON: text for bytes, numbers, booleans, null.
fn field(dict: &Dict, key: &str) -> Json {
    scalar(dict.get(key))
}

fn scalar(value: Option<&Value>) -> Json {
    match value {
        None | Some(Value::Null) => Json::Null,
        Some(Value::Bool(b)) => Json::Bool(*b),
        Some(Value::Int(i)) => json!(i),
        Some(Value::Float(f)) => json!(f),
        Some(Value::Bytes(b) | Value::Text(b)) => text(b),
        Some(Value::List(l)) => Json::Array(l.items().iter().map(|v| scalar(Some(v))).collect()),
        Some(Value::Dict(_)) => Json::Null,
    }
}

/// A request or response: its head, and what the body is.
fn message(msg: &Dict, which: Which) -> Json {
    let mut out = Map::new();
    for key in ["http_version", "timestamp_start", "timestamp_end"] {
        out.insert(key.into(), field(msg, key));
    }
    match which {
        Which::Request => {
            for key in ["method", "scheme", "host", "port", "path", "authority"] {
                out.insert(key.into(), field(msg, key));
            }
            out.insert("url".into(), json!(crate::summary::url(msg)));
        }
        Which::Response => {
            for key in ["status_code", "reason"] {
                out.insert(key.into(), field(msg, key));
            }
        }
    }
    let headers: Vec<Json> = http::fields(msg)
        .map(|(n, v)| json!([text(n), text(v)]))
        .collect();
    out.insert("headers".into(), Json::Array(headers));
    let trailers: Option<Vec<Json>> = msg.get("trailers").and_then(Value::as_list).map(|t| {
        t.iter()
            .filter_map(Value::as_list)
            .map(|p| json!([scalar(p.first()), scalar(p.get(1))]))
            .collect()
    });
    out.insert("trailers".into(), json!(trailers));
    let raw = http::raw_content(msg);
    out.insert("content_length".into(), json!(raw.map(|b| b.len())));
    let decoded = http::decoded_content(msg);
    out.insert(
        "decoded_length".into(),
        json!(
            decoded
                .as_ref()
                .ok()
                .and_then(|b| b.as_ref().map(|b| b.len()))
        ),
    );
    out.insert(
        "decode_error".into(),
        json!(decoded.err().map(|e| e.to_string())),
    );
    out.insert(
        "content_type".into(),
        json!(http::header(msg, "content-type").map(|v| String::from_utf8_lossy(v).into_owned())),
    );
    Json::Object(out)
}

/// A connection: addresses, TLS and timestamps.
fn connection(conn: &Dict) -> Json {
    let mut out = Map::new();
    for key in [
        "id",
        "peername",
        "sockname",
        "address",
        "sni",
        "tls_version",
        "cipher",
        "alpn",
        "tls_established",
        "timestamp_start",
        "timestamp_tcp_setup",
        "timestamp_tls_setup",
        "timestamp_end",
        "error",
    ] {
        if conn.get(key).is_some() {
            out.insert(key.into(), field(conn, key));
        }
    }
    let certificates: Vec<Json> = conn
        .get("certificate_list")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_bytes)
        .map(certificate)
        .collect();
    out.insert("certificates".into(), Json::Array(certificates));
    Json::Object(out)
}

/// A certificate's fields, from its PEM.
#[cfg(feature = "live")]
fn certificate(pem: &[u8]) -> Json {
    use x509_parser::prelude::*;
    let Ok((_, pem)) = parse_x509_pem(pem) else {
        return json!({"error": "not a PEM certificate"});
    };
    let Ok(cert) = pem.parse_x509() else {
        return json!({"error": "not an X.509 certificate"});
    };
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .map(|n| n.to_string())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "subject": cert.subject().to_string(),
        "issuer": cert.issuer().to_string(),
        "serial": cert.raw_serial_as_string(),
        "not_before": cert.validity().not_before.to_string(),
        "not_after": cert.validity().not_after.to_string(),
        "alt_names": names,
    })
}

#[cfg(not(feature = "live"))]
fn certificate(pem: &[u8]) -> Json {
    json!({"pem_length": pem.len()})
}

/// A message list's entries from `from` on (at most
/// [`MESSAGES_AT_ONCE`]): WebSocket `[type, from_client, content,
/// timestamp, dropped, injected]` or TCP `[from_client, content,
/// timestamp]`.
fn messages(list: &[Value], websocket: bool, from: usize) -> Json {
    let shown: Vec<Json> = list
        .iter()
        .skip(from)
        .take(MESSAGES_AT_ONCE)
        .filter_map(Value::as_list)
        .map(|m| {
            let at = |i: usize| m.get(i);
            if websocket {
                let text_type = at(0).and_then(Value::as_int) == Some(crate::flow::websocket::TEXT);
                json!({
                    "type": if text_type { "text" } else { "binary" },
                    "from_client": scalar(at(1)),
                    "content": scalar(at(2)),
                    "length": at(2).and_then(Value::as_bytes).map_or(0, <[u8]>::len),
                    "timestamp": scalar(at(3)),
                    "dropped": scalar(at(4)),
                    "injected": scalar(at(5)),
                })
            } else {
                json!({
                    "from_client": scalar(at(0)),
                    "content": scalar(at(1)),
                    "length": at(1).and_then(Value::as_bytes).map_or(0, <[u8]>::len),
                    "timestamp": scalar(at(2)),
                })
            }
        })
        .collect();
    json!({"total": list.len(), "from": from, "items": shown})
}

/// Flow `n` opened in the detail pane, its messages from `from`.
pub fn detail(n: usize, flow: &Flow, from: usize) -> Json {
    let dict = flow.dict();
    let mut out = Map::new();
    out.insert("n".into(), json!(n));
    out.insert("id".into(), json!(flow.id()));
    out.insert("type".into(), json!(flow.kind_name()));
    for key in [
        "comment",
        "marked",
        "is_replay",
        "intercepted",
        "timestamp_created",
    ] {
        out.insert(key.into(), field(dict, key));
    }
    out.insert(
        "request".into(),
        flow.request()
            .map_or(Json::Null, |r| message(r, Which::Request)),
    );
    out.insert(
        "response".into(),
        flow.response()
            .map_or(Json::Null, |r| message(r, Which::Response)),
    );
    for key in ["client_conn", "server_conn"] {
        out.insert(key.into(), flow.conn(key).map_or(Json::Null, connection));
    }
    let error = dict.get("error").and_then(Value::as_dict);
    out.insert(
        "error".into(),
        error.map_or(
            Json::Null,
            |e| json!({"msg": field(e, "msg"), "timestamp": field(e, "timestamp")}),
        ),
    );
    let websocket = dict.get("websocket").and_then(Value::as_dict);
    if let Some(ws) = websocket {
        let list = ws
            .get("messages")
            .and_then(Value::as_list)
            .unwrap_or_default();
        out.insert(
            "websocket".into(),
            json!({
                "messages": messages(list, true, from),
                "closed_by_client": field(ws, "closed_by_client"),
                "close_code": field(ws, "close_code"),
                "close_reason": field(ws, "close_reason"),
            }),
        );
    } else if let Some(list) = dict.get("messages").and_then(Value::as_list) {
        out.insert("messages".into(), messages(list, false, from));
    }
    Json::Object(out)
}

/// `limit` bytes of a body from `offset`: decoded per Content-Encoding
/// when `decoded` (the raw body when it cannot be), and the whole
/// length. `None` when the flow has no such message or it kept no body.
pub fn body(
    flow: &Flow,
    which: Which,
    decoded: bool,
    offset: usize,
    limit: usize,
) -> Option<(bytes::Bytes, usize)> {
    let msg = flow.message(which)?;
    let whole = if decoded {
        http::decoded_content(msg)
            .ok()
            .flatten()
            .or_else(|| http::raw_content(msg).cloned())?
    } else {
        http::raw_content(msg)?.clone()
    };
    let len = whole.len();
    let from = offset.min(len);
    let to = from.saturating_add(limit).min(len);
    Some((whole.slice(from..to), len))
}
