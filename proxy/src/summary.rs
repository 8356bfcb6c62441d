//! One line per flow, the way mitmdump shows a flow: client, method, URL,
//! then status, reason and size, or the error.

use crate::flow::{Flow, FlowKind};
use crate::http;
use crate::tnetstring::{Dict, Node, Tree, Value};

/// mitmproxy's `human.pretty_size`: `24b`, `1.2k`, `340k`, `3.4m`.
pub fn pretty_size(size: u64) -> String {
    if size < 1024 {
        return format!("{size}b");
    }
    let mut s = size as f64;
    for suffix in ["k", "m", "g", "t"] {
        s /= 1024.0;
        if s < 99.95 {
            return format!("{s:.1}{suffix}");
        }
        if s < 1024.0 || suffix == "t" {
            return format!("{s:.0}{suffix}");
        }
    }
    unreachable!("the loop returns at \"t\"")
}

/// mitmproxy's `human.pretty_duration`: `1.23ms`, `45.6ms`, `789ms`,
/// `1.23s`, `12.3s`, `123s`.
pub fn pretty_duration(secs: f64) -> String {
    if secs >= 100.0 {
        format!("{secs:.0}s")
    } else if secs >= 10.0 {
        format!("{secs:.1}s")
    } else if secs >= 1.0 {
        format!("{secs:.2}s")
    } else {
        let ms = secs * 1000.0;
        if ms >= 100.0 {
            format!("{ms:.0}ms")
        } else if ms >= 10.0 {
            format!("{ms:.1}ms")
        } else {
            format!("{ms:.2}ms")
        }
    }
}

/// How long a flow took: from the request's first byte to the response's
/// last, or to the error.
fn duration(flow: &Flow, req: &Dict) -> Option<String> {
    let start = req.get("timestamp_start")?.as_float()?;
    let end = match flow.response() {
        Some(resp) => resp.get("timestamp_end")?.as_float()?,
        None => flow
            .dict()
            .get("error")?
            .as_dict()?
            .get("timestamp")?
            .as_float()?,
    };
    (end >= start).then(|| pretty_duration(end - start))
}

/// A connection's `peername`, `sockname` or `address` as `host:port`.
pub fn addr(conn: Option<&Dict>, key: &str) -> Option<String> {
    // A record still in its file form is read without being built
    // (`Tree` reads it from its bytes).
    addr_of(Tree::Dict(conn?), key)
}

/// [`addr`] of a built or unbuilt connection.
pub fn addr_of<'a>(conn: impl Node<'a>, key: &str) -> Option<String> {
    let parts = conn.get(key)?;
    let host = parts.nth(0)?.str()?;
    let port = parts.nth(1)?.int()?;
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

fn text(msg: &Dict, key: &str) -> String {
    crate::http::field_bytes(msg, key)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The request's URL as mitmproxy's `request.pretty_url` would show it.
pub fn url(req: &Dict) -> String {
    url_of(Tree::Dict(req))
}

/// The request fields [`url_from`] reads, in its order.
pub const URL_FIELDS: [&str; 6] = ["scheme", "host", "port", "authority", "method", "path"];

/// [`url`] of a built or unbuilt request.
pub fn url_of<'a>(req: impl Node<'a>) -> String {
    url_from(req.fields(URL_FIELDS))
}

/// [`url`] from a request's [`URL_FIELDS`], read by the caller (with
/// others it needs, in one walk over the request).
pub fn url_from<'a, N: Node<'a>>(fields: [Option<N>; 6]) -> String {
    let [scheme, host, port, authority, method, path] = fields;
    let bytes = |n: Option<_>| n.and_then(Node::bytes).unwrap_or_default();
    let authority = bytes(authority);
    if method.and_then(Node::bytes) == Some(b"CONNECT") && !authority.is_empty() {
        return String::from_utf8_lossy(authority).into_owned();
    }
    let scheme = String::from_utf8_lossy(bytes(scheme));
    let host = host.and_then(Node::str).unwrap_or("");
    let port = port.and_then(Node::int).unwrap_or(0);
    let path = String::from_utf8_lossy(bytes(path));
    // One allocation: this runs for every flow the view lists.
    let mut url = String::with_capacity(scheme.len() + host.len() + path.len() + 30);
    url.push_str(&scheme);
    url.push_str("://");
    if host.contains(':') {
        url.push('[');
        url.push_str(host);
        url.push(']');
    } else {
        url.push_str(host);
    }
    if !matches!((&*scheme, port), ("http", 80) | ("https", 443)) {
        url.push(':');
        url.push_str(itoa::Buffer::new().format(port));
    }
    url.push_str(&path);
    url
}

/// A message's header fields and body, indented, as `render` and
/// `--flow-detail` show them. Text bodies up to `quote_up_to` bytes (all of
/// them for `None`) are quoted whole; longer ones are summarized.
pub fn message_lines(out: &mut String, msg: &Dict, quote_up_to: Option<usize>) {
    use std::fmt::Write as _;
    for i in 0..http::headers(msg).len() {
        if let Some((name, value)) = http::header_at(msg, i) {
            let _ = writeln!(
                out,
                "    {}: {}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(value)
            );
        }
    }
    let body = match http::raw_content(msg) {
        None => "(not kept)".to_owned(),
        Some(b) if b.is_empty() => "(empty)".to_owned(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) if quote_up_to.is_none_or(|limit| text.len() <= limit) => format!("{text:?}"),
            Ok(text) => format!(
                "{} bytes, starting {:?}",
                b.len(),
                &text[..text.floor_char_boundary(64)]
            ),
            Err(_) => format!("{} bytes of binary", b.len()),
        },
    };
    let _ = writeln!(out, "    body: {body}");
}

/// mitmdump's `--flow-detail`: 0 nothing, 1 the flow's line, 2 with
/// header fields, 3 with bodies (long ones summarized), 4 with whole
/// bodies. Returns `None` at 0.
pub fn flow_detail(flow: &Flow, detail: u8) -> Option<String> {
    use std::fmt::Write as _;
    if detail == 0 {
        return None;
    }
    let mut out = flow_line(flow);
    if detail < 2 || flow.kind() != FlowKind::Http {
        return Some(out);
    }
    out.push('\n');
    for (mark, msg) in [(">", flow.request()), ("<", flow.response())] {
        let Some(msg) = msg else { continue };
        let mut lines = String::new();
        message_lines(&mut lines, msg, if detail >= 4 { None } else { Some(4096) });
        for line in lines
            .lines()
            .filter(|l| detail >= 3 || !l.starts_with("    body: "))
        {
            let _ = writeln!(out, "  {mark} {}", line.trim_start());
        }
    }
    out.pop();
    Some(out)
}

/// The flow's line.
pub fn flow_line(flow: &Flow) -> String {
    let client = addr(flow.conn("client_conn"), "peername").unwrap_or_else(|| "-".into());
    match flow.kind() {
        FlowKind::Http => {
            let Some(req) = flow.request() else {
                return format!("{client}: http flow without a request");
            };
            let mut line = format!("{client}: {} {}", text(req, "method"), url(req));
            // As mitmdump: versions shown only beyond HTTP/1.x, or where
            // the two sides differ.
            let h1 = |v: &str| v == "HTTP/1.0" || v == "HTTP/1.1";
            let req_version = text(req, "http_version");
            if !h1(&req_version) {
                line += &format!(" {req_version}");
            }
            if let Some(resp) = flow.response() {
                let status = resp.get("status_code").and_then(Value::as_int).unwrap_or(0);
                let size = match http::raw_content(resp) {
                    Some(body) => pretty_size(body.len() as u64),
                    None => "(content missing)".into(),
                };
                let resp_version = text(resp, "http_version");
                let version = if !h1(&resp_version) || resp_version != req_version {
                    format!("{resp_version} ")
                } else {
                    String::new()
                };
                // HTTP/2 has no reason phrase: mitmdump shows the usual one.
                let reason = if resp_version.starts_with("HTTP/2") {
                    u16::try_from(status)
                        .map_or("", http::reason_phrase)
                        .to_owned()
                } else {
                    text(resp, "reason")
                };
                line += &format!(" << {version}{status} {reason} {size}");
            }
            // As mitmdump: an error after the response too (a client that
            // hung up mid-body), on the same line.
            if let Some(msg) = flow.error_msg() {
                line += &format!(" << {msg}");
            }
            if let Some(took) = duration(flow, req) {
                line += &format!(" in {took}");
            }
            line
        }
        _ => {
            let server = addr(flow.conn("server_conn"), "address").unwrap_or_else(|| "-".into());
            // Those relayed without being kept count too.
            let messages = flow.spilled_count()
                + flow.unkept_count()
                + flow
                    .dict()
                    .get("messages")
                    .and_then(Value::as_list)
                    .map_or(0, <[Value]>::len);
            format!(
                "{client}: {} flow to {server}, {messages} messages",
                flow.kind_name()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowfile::FlowReader;
    use crate::test_support::golden;

    #[test]
    fn sizes_read_like_mitmproxy() {
        for (n, want) in [
            (0, "0b"),
            (24, "24b"),
            (1023, "1023b"),
            (1024, "1.0k"),
            (1536, "1.5k"),
            (102_350, "100k"),
            (5 << 20, "5.0m"),
        ] {
            assert_eq!(pretty_size(n), want);
        }
    }

    #[test]
    fn durations_read_like_mitmproxy() {
        for (secs, want) in [
            (0.00123, "1.23ms"),
            (0.0456, "45.6ms"),
            (0.789, "789ms"),
            (1.234, "1.23s"),
            (12.34, "12.3s"),
            (123.4, "123s"),
        ] {
            assert_eq!(pretty_duration(secs), want);
        }
    }

    #[test]
    fn flow_detail_levels() {
        let flow = FlowReader::new(&golden("get.mitm")[..])
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(flow_detail(&flow, 0), None);
        assert_eq!(flow_detail(&flow, 1).unwrap(), flow_line(&flow));
        insta::assert_snapshot!(flow_detail(&flow, 2).unwrap());
        let three = flow_detail(&flow, 3).unwrap();
        assert!(
            three.ends_with("  < body: \"hello from local server\\n\""),
            "{three}"
        );
    }

    #[test]
    fn golden_lines() {
        let mut all = golden("all.mitm");
        all.extend(golden("tcp.mitm"));
        all.extend(golden("websocket.mitm"));
        let lines: Vec<String> = FlowReader::new(&all[..])
            .map(|f| flow_line(&f.unwrap()))
            .collect();
        insta::assert_snapshot!(lines.join("\n"));
    }
}
