//! One function per format step, each what mitmproxy 11's `compat.py`
//! does for that step (`convert_011_012` … `convert_20_21`). Keys are
//! looked up whether a file wrote them as bytes (Python 2 era) or text.
//! A new key goes where Python's assignment puts it ([`Dict::insert`]).

use bytes::Bytes;

use super::{Migrator, Version};
use crate::tnetstring::{Dict, Value};

/// One step: the flow at one version in, the flow at the next out, or
/// what it lacks.
pub(super) type Step = fn(&mut Migrator, Dict) -> Result<Dict, String>;

/// The step from `version`, if mitmproxy 11 has one.
pub(super) fn step(version: Version) -> Option<Step> {
    use Version::{Int, Release};
    Some(match version {
        Release(0, 11) => s011_012,
        Release(0, 12) => s012_013,
        Release(0, 13) => s013_014,
        Release(0, 14) => s014_015,
        Release(0, 15) => s015_016,
        Release(0, 16) => s016_017,
        Release(0, 17) => s017_018,
        Release(0, 18) => s018_019,
        Release(0, 19) => s019_100,
        Release(1, 0) => s100_200,
        Release(2, 0) => s200_300,
        Release(3, 0) => s300_4,
        Int(4) => s4_5,
        Int(5) => s5_6,
        Int(6) => s6_7,
        Int(7) => s7_8,
        Int(8) => s8_9,
        Int(9) => s9_10,
        Int(10) => s10_11,
        Int(11) => s11_12,
        Int(12) => s12_13,
        Int(13) => s13_14,
        Int(14) => s14_15,
        Int(15) => s15_16,
        Int(16) => s16_17,
        Int(17) => s17_18,
        Int(18) => s18_19,
        Int(19) => s19_20,
        Int(20) => s20_21,
        _ => return None,
    })
}

type R = Result<(), String>;

fn release(a: i64, b: i64) -> Value {
    Value::list(vec![Value::Int(a), Value::Int(b)])
}

fn release3(a: i64, b: i64, c: i64) -> Value {
    Value::list(vec![Value::Int(a), Value::Int(b), Value::Int(c)])
}

/// Python's truth value.
pub(super) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Bytes(b) | Value::Text(b) => !b.is_empty(),
        Value::List(_) => !v.as_list().unwrap_or_default().is_empty(),
        Value::Dict(d) => !d.is_empty(),
    }
}

/// `flow[key]`, a dict.
fn part<'a>(flow: &'a mut Dict, key: &str) -> Result<&'a mut Dict, String> {
    flow.get_mut(key)
        .and_then(Value::as_dict_mut)
        .ok_or_else(|| format!("has no {key}"))
}

/// `flow[key]` if it is a dict (not null).
fn part_if<'a>(flow: &'a mut Dict, key: &str) -> Option<&'a mut Dict> {
    flow.get_mut(key).and_then(Value::as_dict_mut)
}

/// `flow[key]` if Python holds it true (`if data[key]`): a dict that is
/// not empty.
fn part_true<'a>(flow: &'a mut Dict, key: &str) -> Option<&'a mut Dict> {
    part_if(flow, key).filter(|d| !d.is_empty())
}

/// Removes `key` of `what`, which must be there.
fn take(d: &mut Dict, key: &str, what: &str) -> Result<Value, String> {
    d.remove(key).ok_or_else(|| format!("has no {what}.{key}"))
}

/// Renames `from` to `to` in `d`, which must have it.
fn rename(d: &mut Dict, from: &str, to: &str, what: &str) -> R {
    let v = take(d, from, what)?;
    d.insert(to, v);
    Ok(())
}

/// Runs `f` on the client connection, the server connection and, where
/// `via` and the server has one, the old upstream-proxy connection in it.
fn conns(flow: &mut Dict, via: bool, mut f: impl FnMut(&mut Dict, &str) -> R) -> R {
    f(part(flow, "client_conn")?, "client_conn")?;
    let server = part(flow, "server_conn")?;
    f(server, "server_conn")?;
    if via && let Some(v) = part_true(server, "via") {
        f(v, "server_conn.via")?;
    }
    Ok(())
}

fn s011_012(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", release(0, 12));
    Ok(flow)
}

fn s012_013(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", release(0, 13));
    Ok(flow)
}

/// `[1, 1]` as `HTTP/1.1`.
fn http_version(v: &Value) -> Value {
    let parts: Vec<String> = v
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|p| p.as_int().map_or_else(String::new, |i| i.to_string()))
        .collect();
    Value::Bytes(Bytes::from(format!("HTTP/{}", parts.join("."))))
}

fn s013_014(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    let req = part(&mut flow, "request")?;
    rename(req, "form_in", "first_line_format", "request")?;
    let v = take(req, "httpversion", "request")?;
    req.insert("http_version", http_version(&v));
    let resp = part(&mut flow, "response")?;
    let v = take(resp, "httpversion", "response")?;
    resp.insert("http_version", http_version(&v));
    rename(resp, "code", "status_code", "response")?;
    rename(resp, "content", "body", "response")?;
    let server = part(&mut flow, "server_conn")?;
    take(server, "state", "server_conn")?;
    server.insert("via", Value::Null);
    flow.insert("version", release(0, 14));
    Ok(flow)
}

fn s014_015(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", release(0, 15));
    Ok(flow)
}

fn s015_016(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    for m in ["request", "response"] {
        if let Some(msg) = part_if(&mut flow, m)
            && let Some(body) = msg.remove("body")
        {
            msg.insert("content", body);
        }
    }
    if let Some(resp) = part_if(&mut flow, "response")
        && let Some(msg) = resp.remove("msg")
    {
        resp.insert("reason", msg);
    }
    if let Some(req) = part_if(&mut flow, "request") {
        req.remove("form_out");
    }
    flow.insert("version", release(0, 16));
    Ok(flow)
}

fn s016_017(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    part(&mut flow, "server_conn")?.insert("peer_address", Value::Null);
    flow.insert("version", release(0, 17));
    Ok(flow)
}

/// `convert_unicode`'s values: `type`, `id`, the request's
/// `first_line_format` and the error's `msg` become text. (Keys become
/// text when the flow is rebuilt at the end.)
fn to_text(flow: &mut Dict) -> R {
    fn text(d: &mut Dict, key: &str) -> R {
        if let Some(v) = d.get_mut(key)
            && let Value::Bytes(b) = v
        {
            std::str::from_utf8(b).map_err(|_| format!("has a {key} that is not UTF-8"))?;
            *v = Value::Text(b.clone());
        }
        Ok(())
    }
    text(flow, "type")?;
    text(flow, "id")?;
    if let Some(req) = part_if(flow, "request") {
        text(req, "first_line_format")?;
    }
    if let Some(error) = part_if(flow, "error") {
        text(error, "msg")?;
    }
    Ok(())
}

fn s017_018(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    to_text(&mut flow)?;
    let server = part(&mut flow, "server_conn")?;
    let peer = server.remove("peer_address").unwrap_or(Value::Null);
    server.insert("ip_address", peer);
    flow.insert("marked", Value::Bool(false));
    flow.insert("version", release(0, 18));
    Ok(flow)
}

fn s018_019(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    to_text(&mut flow)?;
    // (mitmproxy fails here on TCP flows, which have no request.)
    if let Some(req) = part_if(&mut flow, "request") {
        req.remove("stickyauth");
        req.remove("stickycookie");
    }
    let client = part(&mut flow, "client_conn")?;
    for key in ["sni", "alpn_proto_negotiated", "cipher_name", "tls_version"] {
        client.insert(key, Value::Null);
    }
    let server = part(&mut flow, "server_conn")?;
    server.insert("alpn_proto_negotiated", Value::Null);
    if let Some(via) = part_true(server, "via") {
        via.insert("alpn_proto_negotiated", Value::Null);
    }
    flow.insert("mode", Value::text("regular"));
    flow.insert("metadata", Value::Dict(Default::default()));
    flow.insert("version", release(0, 19));
    Ok(flow)
}

fn s019_100(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    to_text(&mut flow)?;
    flow.insert("version", release3(1, 0, 0));
    Ok(flow)
}

/// An old `{address: [host, port], use_ipv6}` as its address list.
fn flatten(d: &mut Dict, key: &str, what: &str, required: bool) -> R {
    let Some(v) = d.get_mut(key) else {
        return Err(format!("has no {what}.{key}"));
    };
    if !required && !truthy(v) {
        return Ok(());
    }
    let inner = v
        .as_dict()
        .and_then(|a| a.get("address"))
        .cloned()
        .ok_or_else(|| format!("has a {what}.{key} that is not an address"))?;
    *v = inner;
    Ok(())
}

fn s100_200(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", release3(2, 0, 0));
    flatten(
        part(&mut flow, "client_conn")?,
        "address",
        "client_conn",
        true,
    )?;
    let server = part(&mut flow, "server_conn")?;
    flatten(server, "address", "server_conn", true)?;
    flatten(server, "source_address", "server_conn", true)?;
    flatten(server, "ip_address", "server_conn", false)?;
    if let Some(via) = part_true(server, "via") {
        flatten(via, "address", "server_conn.via", true)?;
        flatten(via, "source_address", "server_conn.via", true)?;
        flatten(via, "ip_address", "server_conn.via", false)?;
    }
    Ok(flow)
}

fn s200_300(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", release3(3, 0, 0));
    part(&mut flow, "client_conn")?.insert("mitmcert", Value::Null);
    let server = part(&mut flow, "server_conn")?;
    server.insert("tls_version", Value::Null);
    if let Some(via) = part_true(server, "via") {
        via.insert("tls_version", Value::Null);
    }
    Ok(flow)
}

fn s300_4(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(4));
    Ok(flow)
}

/// The key mitmproxy's id caches use: the start time and an address.
fn conn_key(conn: &Dict, address: &str, what: &str) -> Result<String, String> {
    let start = conn.get("timestamp_start").cloned().unwrap_or(Value::Null);
    let addr = conn
        .get(address)
        .and_then(Value::as_list)
        .ok_or_else(|| format!("has no {what}.{address}"))?;
    Ok(format!("{start:?}{addr:?}"))
}

fn s4_5(m: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(5));
    let client = part(&mut flow, "client_conn")?;
    let key = conn_key(client, "address", "client_conn")?;
    let id = m.client_ids.entry(key).or_insert_with(crate::flow::new_id);
    client.insert("id", Value::text(id));
    let server = part(&mut flow, "server_conn")?;
    let key = conn_key(server, "source_address", "server_conn")?;
    let id = m.server_ids.entry(key).or_insert_with(crate::flow::new_id);
    server.insert("id", Value::text(id));
    // The old upstream connection shares the server's cache.
    if let Some(via) = part_true(server, "via") {
        let key = conn_key(via, "source_address", "server_conn.via")?;
        let id = m.server_ids.entry(key).or_insert_with(crate::flow::new_id);
        via.insert("id", Value::text(id));
    }
    Ok(flow)
}

fn s5_6(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    conns(&mut flow, true, |c, what| {
        rename(c, "ssl_established", "tls_established", what)?;
        rename(c, "timestamp_ssl_setup", "timestamp_tls_setup", what)
    })?;
    flow.insert("version", Value::Int(6));
    Ok(flow)
}

fn s6_7(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(7));
    part(&mut flow, "client_conn")?.insert("tls_extensions", Value::Null);
    Ok(flow)
}

fn s7_8(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(8));
    for m in ["request", "response"] {
        if let Some(msg) = part_if(&mut flow, m) {
            msg.insert("trailers", Value::Null);
        }
    }
    Ok(flow)
}

fn s8_9(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(9));
    let mut request_replay = false;
    if let Some(req) = part_if(&mut flow, "request") {
        take(req, "first_line_format", "request")?;
        req.insert("authority", Value::bytes(b""));
        request_replay = req.remove("is_replay").as_ref().is_some_and(truthy);
    }
    let mut response_replay = false;
    if let Some(resp) = part_if(&mut flow, "response") {
        response_replay = resp.remove("is_replay").as_ref().is_some_and(truthy);
    }
    let replay = match (request_replay, response_replay) {
        (true, _) => Value::text("request"),
        (false, true) => Value::text("response"),
        _ => Value::Null,
    };
    flow.insert("is_replay", replay);
    Ok(flow)
}

/// `[x]` for a truthy `x`, else null.
fn one_or_null(v: &Value) -> Value {
    if truthy(v) {
        Value::list(vec![v.clone()])
    } else {
        Value::Null
    }
}

/// What 9→10 does to every connection.
fn conv_conn(c: &mut Dict, what: &str) -> R {
    c.insert("state", Value::Int(0));
    c.insert("error", Value::Null);
    let tls = c
        .get("tls_established")
        .cloned()
        .ok_or_else(|| format!("has no {what}.tls_established"))?;
    c.insert("tls", tls);
    let alpn = c
        .get("alpn_proto_negotiated")
        .cloned()
        .ok_or_else(|| format!("has no {what}.alpn_proto_negotiated"))?;
    c.insert("alpn_offers", one_or_null(&alpn));
    let cipher = c
        .get("cipher_name")
        .cloned()
        .ok_or_else(|| format!("has no {what}.cipher_name"))?;
    c.insert("cipher_list", one_or_null(&cipher));
    Ok(())
}

/// 9→10 for a server connection (and the old upstream one).
fn conv_sconn(s: &mut Dict, what: &str) -> R {
    let cert = s.remove("cert").unwrap_or(Value::Null);
    let list = if truthy(&cert) { vec![cert] } else { vec![] };
    s.insert("certificate_list", Value::list(list));
    s.insert("cipher_name", Value::Null);
    s.insert("via2", Value::Null);
    conv_conn(s, what)
}

fn s9_10(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(10));
    let client = part(&mut flow, "client_conn")?;
    client.insert(
        "sockname",
        Value::list(vec![Value::text(""), Value::Int(0)]),
    );
    let cert = client.remove("clientcert").unwrap_or(Value::Null);
    let list = if truthy(&cert) { vec![cert] } else { vec![] };
    client.insert("certificate_list", Value::list(list));
    conv_conn(client, "client_conn")?;
    let server = part(&mut flow, "server_conn")?;
    conv_sconn(server, "server_conn")?;
    if let Some(via) = part_true(server, "via") {
        conv_sconn(via, "server_conn.via")?;
    }
    Ok(flow)
}

/// Bytes as UTF-8 text, each byte that is not part of valid UTF-8 escaped
/// as `\xNN` (Python's `decode(errors="backslashreplace")`).
fn utf8_escaped(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Bytes as ASCII text, other bytes escaped as `\xNN` (Python's
/// `backslashreplace`).
fn ascii_escaped(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c.is_ascii() {
                (c as char).to_string()
            } else {
                format!("\\x{c:02x}")
            }
        })
        .collect()
}

fn s10_11(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    conns(&mut flow, true, |c, what| {
        match c.get_mut("sni") {
            Some(v @ Value::Bytes(_)) => {
                *v = Value::text(&ascii_escaped(v.as_bytes().unwrap_or_default()));
            }
            // mitmproxy 11 fails here too (`sni: True` belongs to
            // format 11 files, which never take this step).
            Some(Value::Bool(_)) => {
                return Err(format!("has a {what}.sni that is not a name"));
            }
            Some(_) => {}
            None => return Err(format!("has no {what}.sni")),
        }
        let alpn = take(c, "alpn_proto_negotiated", what)?;
        c.insert("alpn", alpn);
        for key in ["alpn_offers", "cipher_list"] {
            if !c.get(key).is_some_and(truthy) {
                c.insert(key, Value::list(Vec::new()));
            }
        }
        Ok(())
    })?;
    flow.insert("version", Value::Int(11));
    Ok(flow)
}

/// The note mitmproxy adds to a WebSocket flow it merged into its
/// handshake.
pub(super) const DUPLICATED: &str = "This WebSocket flow has been migrated from an old file format version and may appear duplicated.";

/// What stands in for a WebSocket flow's handshake that was not read
/// first: mitmproxy's placeholder, `http://unknown/`.
fn placeholder(ws: &Dict) -> Dict {
    let get = |k: &str| ws.get(k).cloned().unwrap_or(Value::Null);
    let mut req = Dict::new();
    for (k, v) in [
        ("authority", Value::bytes(b"")),
        ("content", Value::Null),
        ("headers", Value::list(Vec::new())),
        ("host", Value::bytes(b"unknown")),
        ("http_version", Value::bytes(b"HTTP/1.1")),
        ("method", Value::bytes(b"GET")),
        ("path", Value::bytes(b"/")),
        ("port", Value::Int(80)),
        ("scheme", Value::bytes(b"http")),
        ("timestamp_end", Value::Int(0)),
        ("timestamp_start", Value::Int(0)),
        ("trailers", Value::Null),
    ] {
        req.insert(k, v);
    }
    let mut d = Dict::new();
    for (k, v) in [
        ("client_conn", get("client_conn")),
        ("error", get("error")),
        ("id", get("id")),
        ("intercepted", get("intercepted")),
        ("is_replay", get("is_replay")),
        ("marked", get("marked")),
        ("metadata", Value::Dict(Default::default())),
        ("mode", Value::text("transparent")),
        ("request", Value::Dict(req.into())),
        ("response", Value::Null),
        ("server_conn", get("server_conn")),
        ("type", Value::text("http")),
        ("version", Value::Int(12)),
    ] {
        d.insert(k, v);
    }
    d
}

fn s11_12(m: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(12));
    let metadata = part(&mut flow, "metadata")?;
    let handshake_of = metadata.get("websocket_handshake").cloned();
    if metadata.get("websocket").is_some() {
        let id = flow.get("id").and_then(Value::as_str).unwrap_or_default();
        m.handshakes.insert(id.to_owned(), flow.clone());
    }
    let Some(handshake_of) = handshake_of else {
        // (mitmproxy gives TCP flows a `websocket` too, and then cannot
        // load them.)
        if flow.get("type").and_then(Value::as_str) != Some("tcp") {
            flow.insert("websocket", Value::Null);
        }
        return Ok(flow);
    };
    let ws = flow;
    let handshake = handshake_of.as_str().and_then(|id| m.handshakes.remove(id));
    let mut data = handshake.unwrap_or_else(|| placeholder(&ws));
    part(&mut data, "metadata")?.insert("duplicated", Value::text(DUPLICATED));
    let get = |k: &str| ws.get(k).cloned().unwrap_or(Value::Null);
    let closed_by_client = ws.get("close_sender").and_then(Value::as_str) == Some("client");
    let end = data
        .get("server_conn")
        .and_then(Value::as_dict)
        .and_then(|s| s.get("timestamp_end"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut websocket = Dict::new();
    for (k, v) in [
        ("messages", get("messages")),
        ("closed_by_client", Value::Bool(closed_by_client)),
        ("close_code", get("close_code")),
        ("close_reason", get("close_reason")),
        ("timestamp_end", end),
    ] {
        websocket.insert(k, v);
    }
    data.insert("websocket", Value::Dict(websocket.into()));
    Ok(data)
}

fn s12_13(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(13));
    let marked = flow.get("marked").ok_or("has no marked")?;
    let marked = if truthy(marked) { ":default:" } else { "" };
    flow.insert("marked", Value::text(marked));
    Ok(flow)
}

fn s13_14(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(14));
    flow.insert("comment", Value::text(""));
    // mitmproxy issue #4576: a response without timestamps gets the
    // request's end, and that plus a second.
    let unset = part_true(&mut flow, "response")
        .is_some_and(|r| r.get("timestamp_start").is_none_or(Value::is_null));
    if unset {
        let end = part(&mut flow, "request")?
            .get("timestamp_end")
            .and_then(Value::as_float)
            .ok_or("has a response without timestamps and a request without an end")?;
        let resp = part(&mut flow, "response")?;
        resp.insert("timestamp_start", Value::Float(end));
        resp.insert("timestamp_end", Value::Float(end + 1.0));
    }
    Ok(flow)
}

fn s14_15(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(15));
    if let Some(ws) = part_true(&mut flow, "websocket")
        && let Some(messages) = ws.get_mut("messages").and_then(Value::as_list_mut)
    {
        for message in messages {
            if let Some(fields) = message.as_list_mut() {
                fields.push(Value::Bool(false));
            }
        }
    }
    Ok(flow)
}

fn s15_16(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(16));
    let from = if flow.get("request").is_some() {
        "request"
    } else {
        "client_conn"
    };
    let created = part(&mut flow, from)?
        .get("timestamp_start")
        .cloned()
        .ok_or_else(|| format!("has no {from}.timestamp_start"))?;
    flow.insert("timestamp_created", created);
    Ok(flow)
}

fn s16_17(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(17));
    flow.remove("mode");
    Ok(flow)
}

fn s17_18(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(18));
    part(&mut flow, "client_conn")?.insert("proxy_mode", Value::text("regular"));
    Ok(flow)
}

/// An address's host as text (bytes decoded, as Python's
/// `decode(errors="backslashreplace")`).
fn decode_host(c: &mut Dict, key: &str) {
    let Some(addr) = c.get_mut(key).and_then(Value::as_list_mut) else {
        return;
    };
    if let Some(host @ Value::Bytes(_)) = addr.first_mut() {
        let b = host.as_bytes().unwrap_or_default();
        *host = Value::text(&utf8_escaped(b));
    }
}

fn s18_19(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(19));
    let client = part(&mut flow, "client_conn")?;
    let peer = client.remove("address").unwrap_or(Value::Null);
    client.insert("peername", peer);
    if client.get("timestamp_start").is_none_or(Value::is_null) {
        client.insert("timestamp_start", Value::Float(0.0));
    }
    take(client, "tls_extensions", "client_conn")?;
    let server = part(&mut flow, "server_conn")?;
    for (from, to) in [
        ("ip_address", "peername"),
        ("source_address", "sockname"),
        ("via2", "via"),
    ] {
        let v = server.remove(from).unwrap_or(Value::Null);
        server.insert(to, v);
    }
    conns(&mut flow, false, |c, what| {
        take(c, "tls_established", what)?;
        let cipher = c.remove("cipher_name").unwrap_or(Value::Null);
        c.insert("cipher", cipher);
        if c.get("transport_protocol").is_none() {
            c.insert("transport_protocol", Value::text("tcp"));
        }
        for key in ["peername", "sockname", "address"] {
            decode_host(c, key);
        }
        Ok(())
    })?;
    let server = part(&mut flow, "server_conn")?;
    if matches!(server.get("sni"), Some(Value::Bool(true))) {
        let host = server
            .get("address")
            .and_then(Value::as_list)
            .and_then(|a| a.first())
            .cloned()
            .ok_or("has server_conn.sni true and no server address")?;
        server.insert("sni", host);
    }
    Ok(flow)
}

fn s19_20(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(20));
    conns(&mut flow, false, |c, _| {
        c.remove("state");
        Ok(())
    })?;
    Ok(flow)
}

fn s20_21(_: &mut Migrator, mut flow: Dict) -> Result<Dict, String> {
    flow.insert("version", Value::Int(21));
    conns(&mut flow, false, |c, what| {
        let version = c
            .get("tls_version")
            .ok_or_else(|| format!("has no {what}.tls_version"))?;
        if version.as_bytes() == Some(b"QUIC") {
            c.insert("tls_version", Value::text("QUICv1"));
        }
        Ok(())
    })?;
    Ok(flow)
}
