//! Building the flow file's dicts for live traffic, with the keys in the
//! order mitmproxy writes them, so a captured flow reads like one of
//! mitmproxy's.

use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::flow::{FORMAT_VERSION, Flow};
use crate::h1::Head;
use crate::tnetstring::{Dict, Value};

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub use crate::flow::new_id;

fn addr(a: SocketAddr) -> Value {
    Value::list(vec![
        Value::text(&a.ip().to_string()),
        Value::Int(i64::from(a.port())),
    ])
}

/// An empty list, shared: every connection record has three, and none is
/// changed in place (a change copies it first).
fn empty_list() -> Value {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Value::list(Vec::new())).clone()
}

/// How many fields `common` adds.
const COMMON_FIELDS: usize = 16;

/// The connection fields client and server share, after the side-specific
/// ones; `None` for a connection never made; `id` a fresh one unless given.
fn common(
    d: &mut Dict,
    start: Option<f64>,
    peer: Option<SocketAddr>,
    sock: Option<SocketAddr>,
    id: Option<Value>,
) {
    d.push("timestamp_tls_setup", Value::Null);
    d.push("timestamp_end", Value::Null);
    d.push("timestamp_start", start.map_or(Value::Null, Value::Float));
    d.push("sni", Value::Null);
    d.push("tls_version", Value::Null);
    d.push("cipher_list", empty_list());
    d.push("cipher", Value::Null);
    d.push("alpn_offers", empty_list());
    d.push("alpn", Value::Null);
    d.push("certificate_list", empty_list());
    d.push("tls", Value::Bool(false));
    d.push("error", Value::Null);
    d.push("transport_protocol", Value::static_text("tcp"));
    d.push("id", id.unwrap_or_else(|| Value::text(&new_id())));
    d.push("sockname", sock.map_or(Value::Null, addr));
    d.push("peername", peer.map_or(Value::Null, addr));
}

/// A connection record in its file form (`Value::file_form`): built into
/// fields only when something reads more than an address (the capture
/// file copies the bytes; the flow line reads an address straight from
/// them, `summary::addr`). A connection lives as long as its client, an
/// idle WebSocket's two records included.
fn compact(d: Dict) -> Value {
    Value::Dict(d.into()).file_form()
}

/// A client connection accepted at `sock` from `peer`, by a listener of
/// mode `mode` (its spec, as the user wrote it).
pub fn client_conn(peer: SocketAddr, sock: SocketAddr, start: f64, mode: &str) -> Value {
    let mut d = Dict::with_capacity(2 + COMMON_FIELDS);
    d.push("proxy_mode", Value::text(mode));
    d.push("mitmcert", Value::Null);
    common(&mut d, Some(start), Some(peer), Some(sock), None);
    compact(d)
}

/// A server connection to `host:port`, connected from `sock` to `peer`;
/// its `id` the one `server_connect` saw, if a script saw one.
pub fn server_conn(
    host: &str,
    port: u16,
    (peer, sock): (SocketAddr, SocketAddr),
    (start, connected): (f64, f64),
    id: Option<Value>,
) -> Value {
    let mut d = Dict::with_capacity(3 + COMMON_FIELDS);
    d.push("via", Value::Null);
    d.push("timestamp_tcp_setup", Value::Float(connected));
    d.push(
        "address",
        Value::list(vec![Value::text(host), Value::Int(i64::from(port))]),
    );
    common(&mut d, Some(start), Some(peer), Some(sock), id);
    compact(d)
}

/// The server side of a flow before any connection is made (and of one
/// that never got one), as mitmproxy records it: all empty but the id.
pub fn unconnected_server() -> Value {
    let mut d = Dict::with_capacity(3 + COMMON_FIELDS);
    d.push("via", Value::Null);
    d.push("timestamp_tcp_setup", Value::Null);
    d.push("address", Value::Null);
    common(&mut d, None, None, None, None);
    compact(d)
}

/// A connection dict with `key` set (timestamps, errors).
pub fn with(conn: &Value, key: &str, value: Value) -> Value {
    let mut conn = conn.clone();
    if let Some(d) = conn.as_dict_mut() {
        d.insert(key, value);
    }
    conn
}

fn headers(head: &Head) -> Value {
    Value::list(
        head.headers
            .iter()
            .map(|(n, v)| Value::list(vec![Value::Bytes(n.clone()), Value::Bytes(v.clone())]))
            .collect(),
    )
}

/// Where a request goes: scheme, host, port and path, from an
/// absolute-form target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `http` (HTTPS arrives by CONNECT).
    pub scheme: String,
    /// Host name or address, without brackets.
    pub host: String,
    /// Port, defaulted from the scheme.
    pub port: u16,
    /// Path and query, `/` at least.
    pub path: Bytes,
}

/// Why a request target (or a CONNECT's) cannot be served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetError {
    /// The request target is not text.
    NotText,
    /// Not an absolute URL: a proxy needs one.
    NotAbsolute(String),
    /// A scheme other than http or https.
    Scheme(String),
    /// An IPv6 host's `[` is never closed.
    UnclosedBracket,
    /// The URL has no host.
    NoHost,
    /// The port is not a number from 0 to 65535.
    Port(String),
    /// The CONNECT target is not text.
    ConnectNotText,
    /// The CONNECT target is not `host:port`.
    NotHostPort(String),
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetError::NotText => f.write_str("the request target is not ASCII"),
            TargetError::NotAbsolute(text) => write!(
                f,
                "a proxy needs an absolute URL (http://host/path), got {text:?}"
            ),
            TargetError::Scheme(scheme) => write!(f, "unsupported scheme {scheme:?}"),
            TargetError::UnclosedBracket => f.write_str("unclosed [ in the host"),
            TargetError::NoHost => f.write_str("the request URL has no host"),
            TargetError::Port(p) => write!(f, "invalid port {p:?}"),
            TargetError::ConnectNotText => f.write_str("the CONNECT target is not ASCII"),
            TargetError::NotHostPort(text) => {
                write!(f, "a CONNECT target is host:port, got {text:?}")
            }
        }
    }
}

impl std::error::Error for TargetError {}

/// Splits an absolute-form request target (`http://host:port/path`).
pub fn parse_target(target: &Bytes) -> Result<Target, TargetError> {
    let text = std::str::from_utf8(target).map_err(|_| TargetError::NotText)?;
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| TargetError::NotAbsolute(text.to_owned()))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(TargetError::Scheme(scheme)),
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or(TargetError::UnclosedBracket)?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(TargetError::NoHost);
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| TargetError::Port(p.to_owned()))?,
        None => default_port,
    };
    let path = if path.is_empty() {
        Bytes::from_static(b"/")
    } else if path.starts_with('?') {
        Bytes::from(format!("/{path}"))
    } else {
        target.slice_ref(path.as_bytes())
    };
    Ok(Target {
        scheme,
        host: host.to_owned(),
        port,
        path,
    })
}

/// Whether `target` is the proxy itself, listening at `listening`:
/// forwarding it would loop until connections run out. A listener bound
/// to one address is reached only there (and, for a loopback one, as
/// `localhost` or `0.0.0.0`); a wildcard one at every local address.
pub fn is_self(target: &Target, listening: SocketAddr) -> bool {
    if target.port != listening.port() {
        return false;
    }
    let bound = listening.ip().to_canonical();
    let host = target.host.as_str();
    let Ok(ip) = host.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
        return host.eq_ignore_ascii_case("localhost")
            && (bound.is_loopback() || bound.is_unspecified());
    };
    if ip == bound {
        return true;
    }
    // Connecting to 0.0.0.0 or :: reaches this host's loopback.
    if ip.is_unspecified() {
        return bound.is_loopback() || bound.is_unspecified();
    }
    if !bound.is_unspecified() {
        return false;
    }
    // A wildcard for IPv4 takes no IPv6; one for IPv6 takes both.
    if bound.is_ipv4() && ip.is_ipv6() {
        return false;
    }
    ip.is_loopback() || local_addresses().contains(&ip)
}

/// The addresses of this host's interfaces (none when they can't be
/// listed).
fn local_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter_map(|a| {
            let a = a.address?;
            a.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
        })
        .collect()
}

/// A request dict as mitmproxy records it.
pub fn request(head: &Head, target: &Target, start: f64) -> Dict {
    request_dict(
        head.first.clone(),
        target,
        Bytes::new(),
        headers(head),
        head.third.clone(),
        start,
    )
}

/// Points a request's Host field at `target` (reverse mode, unless
/// `keep_host_header`): in place, or added first; the port left out
/// where it is the scheme's default, as mitmproxy's `url.hostport`.
pub fn set_host_header(request: &mut Dict, target: &Target) {
    crate::http::set_header(request, b"host", host_port(target).as_bytes());
}

/// `host[:port]` of a target, the port left out where it is the scheme's
/// default.
pub fn host_port(target: &Target) -> String {
    let default = if target.scheme == "https" { 443 } else { 80 };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    if target.port == default {
        host
    } else {
        format!("{host}:{}", target.port)
    }
}

/// A request dict from its parts (HTTP/2 has no head to parse):
/// `headers` is the list of `[name, value]` pairs.
pub fn request_dict(
    method: Bytes,
    target: &Target,
    authority: Bytes,
    headers: Value,
    version: Bytes,
    start: f64,
) -> Dict {
    let mut d = Dict::new();
    d.push("path", Value::Bytes(target.path.clone()));
    d.push("authority", Value::Bytes(authority));
    d.push(
        "scheme",
        match target.scheme.as_str() {
            "http" => Value::Bytes(Bytes::from_static(b"http")),
            "https" => Value::Bytes(Bytes::from_static(b"https")),
            other => Value::bytes(other.as_bytes()),
        },
    );
    d.push("method", Value::Bytes(method));
    d.push("port", Value::Int(i64::from(target.port)));
    d.push("host", Value::text(&target.host));
    d.push("timestamp_end", Value::Null);
    d.push("timestamp_start", Value::Float(start));
    d.push("trailers", Value::Null);
    d.push("content", Value::Null);
    d.push("headers", headers);
    d.push("http_version", Value::Bytes(version));
    d
}

/// A response dict as mitmproxy records it, body not read yet.
pub fn response(head: &Head, status: u16, start: f64) -> Dict {
    response_dict(
        status,
        head.third.clone(),
        headers(head),
        head.first.clone(),
        start,
    )
}

/// A response dict from its parts.
pub fn response_dict(
    status: u16,
    reason: Bytes,
    headers: Value,
    version: Bytes,
    start: f64,
) -> Dict {
    let mut d = Dict::new();
    d.push("reason", Value::Bytes(reason));
    d.push("status_code", Value::Int(i64::from(status)));
    d.push("timestamp_end", Value::Null);
    d.push("timestamp_start", Value::Float(start));
    d.push("trailers", Value::Null);
    d.push("content", Value::Null);
    d.push("headers", headers);
    d.push("http_version", Value::Bytes(version));
    d
}

/// A CONNECT target, `host:port` (the port required).
pub fn parse_authority(target: &[u8]) -> Result<(String, u16), TargetError> {
    let text = std::str::from_utf8(target).map_err(|_| TargetError::ConnectNotText)?;
    let bad = || TargetError::NotHostPort(text.to_owned());
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']').ok_or_else(bad)?,
        None => host,
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 || host.contains(['/', '@', ' ']) {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// Sets a message's body (and, when the body had trailers, those) and its
/// end time.
pub fn finish_message(msg: &mut Dict, body: Option<Bytes>, trailers: &[(Bytes, Bytes)], end: f64) {
    msg.insert("content", body.map_or(Value::Null, Value::Bytes));
    if !trailers.is_empty() {
        let fields = trailers
            .iter()
            .map(|(n, v)| Value::list(vec![Value::Bytes(n.clone()), Value::Bytes(v.clone())]));
        msg.insert("trailers", Value::list(fields.collect()));
    }
    msg.insert("timestamp_end", Value::Float(end));
}

/// Whether a protocol switch is to WebSocket, as mitmproxy decides it: a
/// 101 whose `Upgrade` says websocket, to a request of WebSocket version
/// 13.
pub fn is_websocket_switch(flow: &Flow) -> bool {
    let (Some(req), Some(resp)) = (flow.request(), flow.response()) else {
        return false;
    };
    resp.get("status_code").and_then(Value::as_int) == Some(101)
        && crate::http::header(resp, "upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case(b"websocket"))
        && crate::http::header(req, "sec-websocket-version") == Some(b"13")
}

/// A CONNECT to `host:port` as a flow (mitmproxy's for `http_connect`
/// and `http_connect_upstream`): its authority the CONNECT's target.
pub fn connect_flow(client_conn: Value, head: &Head, host: &str, port: u16) -> Flow {
    let start = now();
    let target = Target {
        scheme: "http".into(),
        host: host.to_owned(),
        port,
        path: Bytes::new(),
    };
    let mut request = request(head, &target, start);
    request.insert("authority", Value::Bytes(head.second.clone()));
    flow(client_conn, unconnected_server(), request, start)
}

/// A new HTTP flow from its client connection, the server record it
/// starts with (its connection's [`unconnected_server`], shared by every
/// flow there until one connects, as mitmproxy's context shares its
/// `Server`) and its request.
pub fn flow(client_conn: Value, server_conn: Value, request: Dict, created: f64) -> Flow {
    let mut d = Dict::new();
    d.push("websocket", Value::Null);
    d.push("response", Value::Null);
    d.push("request", Value::Dict(request.into()));
    d.push("backup", Value::Null);
    d.push("timestamp_created", Value::Float(created));
    d.push("comment", Value::static_text(""));
    d.push("metadata", Value::Dict(Dict::new().into()));
    d.push("marked", Value::static_text(""));
    d.push("is_replay", Value::Null);
    d.push("intercepted", Value::Bool(false));
    d.push("server_conn", server_conn);
    d.push("client_conn", client_conn);
    d.push("error", Value::Null);
    d.push("id", Value::text(&new_id()));
    d.push("type", Value::static_text("http"));
    d.push("version", Value::Int(FORMAT_VERSION));
    Flow::from_value(Value::Dict(d.into())).expect("a dict")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v4_uuids_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }

    #[test]
    fn requests_to_the_proxy_itself_are_spotted() {
        let target = |host: &str, port: u16| Target {
            scheme: "http".into(),
            host: host.into(),
            port,
            path: Bytes::from_static(b"/"),
        };
        let local = local_addresses()
            .into_iter()
            .find(|ip| ip.is_ipv4() && !ip.is_loopback())
            .map(|ip| ip.to_string());
        let mut cases = vec![
            ("127.0.0.1:8080", "127.0.0.1", 8080, true),
            ("127.0.0.1:8080", "localhost", 8080, true),
            ("127.0.0.1:8080", "0.0.0.0", 8080, true),
            ("127.0.0.1:8080", "127.0.0.1", 8081, false),
            ("127.0.0.1:8080", "example.com", 8080, false),
            // Another loopback address is another listener's.
            ("127.0.0.1:8080", "127.0.0.2", 8080, false),
            ("127.0.0.1:8080", "::1", 8080, false),
            ("[::1]:8080", "::1", 8080, true),
            ("[::1]:8080", "localhost", 8080, true),
            ("[::1]:8080", "127.0.0.1", 8080, false),
            ("0.0.0.0:8080", "127.0.0.2", 8080, true),
            ("0.0.0.0:8080", "localhost", 8080, true),
            ("0.0.0.0:8080", "::1", 8080, false),
            ("0.0.0.0:8080", "192.0.2.1", 8080, false),
            ("[::]:8080", "::1", 8080, true),
            ("[::]:8080", "127.0.0.1", 8080, true),
            ("[::]:8080", "example.com", 8080, false),
            // An IPv4-mapped IPv6 address is the IPv4 one.
            ("127.0.0.1:8080", "::ffff:127.0.0.1", 8080, true),
            ("0.0.0.0:8080", "::ffff:127.0.0.2", 8080, true),
        ];
        if let Some(local) = &local {
            cases.push(("0.0.0.0:8080", local, 8080, true));
            cases.push(("127.0.0.1:8080", local, 8080, false));
        }
        for (listening, host, port, looped) in cases {
            let listening: SocketAddr = listening.parse().unwrap();
            assert_eq!(
                is_self(&target(host, port), listening),
                looped,
                "{host}:{port} to {listening}"
            );
        }
    }

    #[test]
    fn connect_targets() {
        assert_eq!(
            parse_authority(b"example.com:443"),
            Ok(("example.com".into(), 443))
        );
        assert_eq!(parse_authority(b"[::1]:8443"), Ok(("::1".into(), 8443)));
        for bad in [
            &b"example.com"[..],
            b":443",
            b"a:0",
            b"a:http",
            b"a/b:1",
            b"[::1:1",
        ] {
            assert!(parse_authority(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets() {
        let t = |s: &str| parse_target(&Bytes::copy_from_slice(s.as_bytes()));
        let ok = |scheme: &str, host: &str, port: u16, path: &str| {
            Ok(Target {
                scheme: scheme.into(),
                host: host.into(),
                port,
                path: Bytes::copy_from_slice(path.as_bytes()),
            })
        };
        assert_eq!(
            t("http://example.com/a?b=1"),
            ok("http", "example.com", 80, "/a?b=1")
        );
        assert_eq!(
            t("http://127.0.0.1:8080"),
            ok("http", "127.0.0.1", 8080, "/")
        );
        assert_eq!(t("HTTP://[::1]:81/x"), ok("http", "::1", 81, "/x"));
        assert_eq!(t("http://u:p@h.test?q"), ok("http", "h.test", 80, "/?q"));
        assert_eq!(
            t("/relative"),
            Err(TargetError::NotAbsolute("/relative".into()))
        );
        assert_eq!(t("ftp://h/"), Err(TargetError::Scheme("ftp".into())));
        assert_eq!(t("http://h:x/"), Err(TargetError::Port("x".into())));
        assert_eq!(t("http://[::1/"), Err(TargetError::UnclosedBracket));
        assert_eq!(t("http:///x"), Err(TargetError::NoHost));
        assert_eq!(
            TargetError::NotAbsolute("/relative".into()).to_string(),
            "a proxy needs an absolute URL (http://host/path), got \"/relative\""
        );
    }
}
