//! A request's URL as mitmproxy 11 reads and writes it: `host_header`,
//! `pretty_host`, `url`, `pretty_url` (what `~d` and `~u` match), and the
//! `Request.url` setter (what `map_remote` calls), down to the quirks of
//! `mitmproxy.net.http.url` and Python's `urllib.parse`.

use std::borrow::Cow;
use std::fmt::Write as _;

use bytes::Bytes;

use crate::tnetstring::{Dict, Value};

use super::{raw, set_header};

mod error;

pub use error::UrlError;

fn text<'a>(msg: &'a Dict, key: &str) -> Cow<'a, str> {
    String::from_utf8_lossy(raw(msg, key))
}

/// `url.default_port`.
pub fn default_port(scheme: &str) -> Option<i64> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `url.hostport`: the host, with `:port` unless it is the scheme's
/// default (IPv6 addresses are not bracketed, as in mitmproxy).
pub fn hostport(scheme: &str, host: &str, port: i64) -> String {
    if default_port(scheme) == Some(port) {
        host.to_owned()
    } else {
        // Sized once, without `format!`'s estimate: this runs for every
        // `set_url` and `host`/`port` change.
        let mut out = String::with_capacity(host.len() + 6);
        out.push_str(host);
        let _ = write!(out, ":{port}");
        out
    }
}

/// `url.unparse`.
pub fn unparse(scheme: &str, host: &str, port: i64, path: &str) -> String {
    let path = if path == "*" { "" } else { path };
    // Built by hand: this runs for every `~u` and `map_remote`.
    let mut out = String::with_capacity(scheme.len() + host.len() + path.len() + 10);
    out.push_str(scheme);
    out.push_str("://");
    out.push_str(host);
    if default_port(scheme) != Some(port) {
        let _ = write!(out, ":{port}");
    }
    out.push_str(path);
    out
}

/// `url.parse_authority(authority, check=False)`: host and port, or the
/// whole text and no port when it is not a valid `host[:port]`.
///
/// mitmproxy matches `^(?P<host>[^:]+|\[.+\])(?::(?P<port>\d+))?$`; this is
/// that regex by hand (it runs for every `~d` and `~u`).
pub fn parse_authority(authority: &str) -> (String, Option<i64>) {
    let (host, port) = split_authority(authority);
    (host.to_owned(), port)
}

/// [`parse_authority`], borrowing the host from `authority`.
pub fn split_authority(authority: &str) -> (&str, Option<i64>) {
    let whole = || (authority, None);
    // What may follow the host: nothing, or `:digits`, then an optional
    // final newline (Python's `$`). `Some(None)`: no port.
    fn port_part(rest: &str) -> Option<Option<&str>> {
        let rest = rest.strip_suffix('\n').unwrap_or(rest);
        if rest.is_empty() {
            return Some(None);
        }
        let digits = rest.strip_prefix(':')?;
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(Some(digits))
    }
    let colon = authority.find(':').unwrap_or(authority.len());
    let found = if colon > 0
        && let Some(port) = port_part(&authority[colon..])
    {
        Some((&authority[..colon], port))
    } else if authority.starts_with('[') {
        authority
            .char_indices()
            .rev()
            .filter(|(_, c)| *c == ']')
            .find_map(|(j, _)| {
                let inner = &authority[1..j];
                if inner.is_empty() || inner.contains('\n') {
                    return None;
                }
                port_part(&authority[j + 1..]).map(|port| (&authority[..=j], port))
            })
    } else {
        None
    };
    let Some((host, port)) = found else {
        return whole();
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if !is_valid_host(host) {
        return whole();
    }
    match port {
        None => (host, None),
        Some(port) => match port.parse::<i64>() {
            Ok(p) if (0..=65535).contains(&p) => (host, Some(p)),
            _ => whole(),
        },
    }
}

/// `check.is_valid_host`: a DNS name (letters, digits, `-`, `_`, labels
/// of 1 to 63, 255 in all) or an IP address. Non-ASCII labels count as
/// valid when made of letters and digits (their IDNA form would be).
pub fn is_valid_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 255 {
        return false;
    }
    // IDNA refuses empty labels and labels of 64 or more, but for an
    // empty last one (a trailing dot).
    let mut labels = host.split('.').peekable();
    while let Some(label) = labels.next() {
        let last = labels.peek().is_none();
        if label.len() >= 64 || (label.is_empty() && !last) {
            return false;
        }
    }
    let ascii = host.is_ascii();
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let label_ok = |label: &str| {
        let label = label.strip_suffix('\n').unwrap_or(label);
        let plain = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        !label.is_empty()
            && if ascii {
                label.bytes().all(plain)
            } else {
                label.chars().all(|c| {
                    u8::try_from(c).is_ok_and(plain) || (!c.is_ascii() && c.is_alphanumeric())
                })
            }
    };
    trimmed.split('.').all(label_ok) || host.parse::<std::net::IpAddr>().is_ok()
}

fn is_http2(req: &Dict) -> bool {
    matches!(raw(req, "http_version"), b"HTTP/2.0" | b"HTTP/3")
}

/// `Request.headers.get(name)`: every value of the field, joined by `, `.
pub(crate) fn header_joined<'a>(req: &'a Dict, name: &str) -> Option<Cow<'a, str>> {
    let mut values = super::fields(req).filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()));
    let first = String::from_utf8_lossy(values.next()?.1);
    let Some((_, second)) = values.next() else {
        return Some(first);
    };
    let mut joined = format!("{first}, {}", String::from_utf8_lossy(second));
    for (_, v) in values {
        joined.push_str(", ");
        joined.push_str(&String::from_utf8_lossy(v));
    }
    Some(Cow::Owned(joined))
}

/// `Request.host_header`: the `:authority` of HTTP/2 and 3 (or their
/// Host field), the Host field of HTTP/1.
pub fn host_header(req: &Dict) -> Option<Cow<'_, str>> {
    if is_http2(req) {
        let authority = String::from_utf8_lossy(raw(req, "authority"));
        if !authority.is_empty() {
            return Some(authority);
        }
    }
    header_joined(req, "host")
}

fn is_connect(req: &Dict) -> bool {
    raw(req, "method").eq_ignore_ascii_case(b"CONNECT")
}

fn port(req: &Dict) -> i64 {
    req.get("port").and_then(Value::as_int).unwrap_or(0)
}

/// `Request.pretty_host`: the host of the Host field (or `:authority`),
/// else `host`.
pub fn pretty_host(req: &Dict) -> Cow<'_, str> {
    match host_header(req).filter(|h| !h.is_empty()) {
        Some(Cow::Borrowed(authority)) => Cow::Borrowed(split_authority(authority).0),
        Some(Cow::Owned(authority)) => Cow::Owned(split_authority(&authority).0.to_owned()),
        None => String::from_utf8_lossy(raw(req, "host")),
    }
}

/// `Request.url`.
pub fn url(req: &Dict) -> String {
    if is_connect(req) {
        return format!("{}:{}", text(req, "host"), port(req));
    }
    unparse(
        &text(req, "scheme"),
        &text(req, "host"),
        port(req),
        &text(req, "path"),
    )
}

/// `Request.pretty_url`: the URL with the host (and port) of the Host
/// field, which `~u` and `map_remote` match.
pub fn pretty_url(req: &Dict) -> String {
    if is_connect(req) {
        return text(req, "authority").into_owned();
    }
    let Some(header) = host_header(req).filter(|h| !h.is_empty()) else {
        return url(req);
    };
    let scheme = text(req, "scheme");
    let (host, port) = split_authority(&header);
    let port = port.or(default_port(&scheme)).unwrap_or(443);
    unparse(&scheme, host, port, &text(req, "path"))
}

/// What `url.parse` makes of a URL: scheme, host, port and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Lower-cased.
    pub scheme: String,
    /// Lower-cased.
    pub host: String,
    /// The given one, or 443 for https and 80 for anything else.
    pub port: i64,
    /// Path, `;params`, `?query` and `#fragment`, starting with `/`.
    pub path: String,
}

/// mitmproxy's `url.parse` over Python's `urllib.parse.urlparse`; the
/// error says why mitmproxy would raise.
pub fn parse(url: &str) -> Result<Parts, UrlError> {
    let url = url.trim_start_matches(|c: char| c <= ' ');
    // Copied only when there are tabs or line breaks to drop.
    let url: std::borrow::Cow<'_, str> = if url.bytes().any(|b| matches!(b, b'\t' | b'\r' | b'\n'))
    {
        url.chars()
            .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
            .collect::<String>()
            .into()
    } else {
        url.into()
    };
    if !url.is_ascii() {
        return Err(UrlError::NotAscii(url.into_owned()));
    }
    let mut rest: &str = &url;
    let mut scheme = String::new();
    // The first `:` has only scheme characters before it exactly when it
    // is the first byte that is not one. Bytes, not chars: the URL is
    // ASCII, and these scans run for every `set_url`.
    let scheme_char = |b: &u8| b.is_ascii_alphanumeric() || b"+-.".contains(b);
    let i = rest.bytes().position(|b| !scheme_char(&b));
    if let Some(i) = i
        && i > 0
        && rest.as_bytes()[i] == b':'
        && rest.as_bytes()[0].is_ascii_alphabetic()
    {
        scheme = rest[..i].to_ascii_lowercase();
        rest = &rest[i + 1..];
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after
            .bytes()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        netloc = &after[..end];
        rest = &after[end..];
        if netloc.as_bytes().contains(&b'[') != netloc.as_bytes().contains(&b']') {
            return Err(UrlError::InvalidIpv6);
        }
    }
    let (rest, fragment) = split_at_byte(rest, b'#');
    let (mut path, query) = split_at_byte(rest, b'?');
    let mut params = "";
    if USES_PARAMS.contains(&scheme.as_str()) && path.contains(';') {
        let i = match path.rfind('/') {
            Some(slash) => path[slash..].find(';').map(|i| i + slash),
            None => path.find(';'),
        };
        if let Some(i) = i {
            params = &path[i + 1..];
            path = &path[..i];
        }
    }
    let (host, port) = hostinfo(netloc)?;
    let host = host.ok_or(UrlError::NoHostname)?;
    let port = match port {
        Some(p) if p != 0 => p,
        _ if scheme == "https" => 443,
        _ => 80,
    };
    // One string, its size known: `/`, path, `;params`, `?query`, `#fragment`.
    let mut full =
        String::with_capacity(path.len() + params.len() + query.len() + fragment.len() + 4);
    if !path.starts_with('/') {
        full.push('/');
    }
    full.push_str(path);
    for (mark, part) in [(';', params), ('?', query), ('#', fragment)] {
        if !part.is_empty() {
            full.push(mark);
            full.push_str(part);
        }
    }
    if !is_valid_host(&host) {
        return Err(UrlError::InvalidHost);
    }
    Ok(Parts {
        scheme,
        host,
        port,
        path: full,
    })
}

/// `urllib.parse`'s schemes whose paths may carry `;params`.
pub(crate) const USES_PARAMS: [&str; 15] = [
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtspu", "sip", "sips",
    "mms", "sftp", "tel",
];

/// `s.split_once(sep)` by byte, for an ASCII separator: the char
/// searcher's set-up costs more than these short scans.
fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// [`split_once_byte`] at the last `sep`.
fn rsplit_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// [`split_once_byte`], or all of `s` and nothing.
fn split_at_byte(s: &str, sep: u8) -> (&str, &str) {
    split_once_byte(s, sep).unwrap_or((s, ""))
}

/// `hostname` (lower-cased, a zone kept) and `port` of a netloc.
fn hostinfo(netloc: &str) -> Result<(Option<String>, Option<i64>), UrlError> {
    let info = rsplit_once_byte(netloc, b'@').map_or(netloc, |(_, h)| h);
    let (hostname, port) = match split_once_byte(info, b'[') {
        Some((before, bracketed)) => {
            let (host, after) = split_at_byte(bracketed, b']');
            if !before.is_empty() || (!after.is_empty() && !after.starts_with(':')) {
                return Err(UrlError::InvalidIpv6);
            }
            check_bracketed_host(host)?;
            (host, split_at_byte(after, b':').1)
        }
        None => split_at_byte(info, b':'),
    };
    let port = if port.is_empty() {
        None
    } else if port.bytes().all(|b| b.is_ascii_digit()) {
        let p: i64 = port.parse().map_err(|_| UrlError::PortOutOfRange)?;
        if !(0..=65535).contains(&p) {
            return Err(UrlError::PortOutOfRange);
        }
        Some(p)
    } else {
        return Err(UrlError::PortNotInteger(port.to_owned()));
    };
    // The URL is ASCII (checked by `parse`), so ASCII lower-casing is
    // Python's `str.lower`.
    let hostname = (!hostname.is_empty()).then(|| match hostname.split_once('%') {
        Some((h, zone)) => format!("{}%{zone}", h.to_ascii_lowercase()),
        None => hostname.to_ascii_lowercase(),
    });
    Ok((hostname, port))
}

/// `urllib.parse`'s check of a `[...]` host: IPv6 (with a zone), or
/// IPvFuture (`v1.x`).
fn check_bracketed_host(host: &str) -> Result<(), UrlError> {
    if let Some(future) = host.strip_prefix('v') {
        let ok = future.split_once('.').is_some_and(|(hex, rest)| {
            !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !rest.is_empty()
        });
        return if ok {
            Ok(())
        } else {
            Err(UrlError::InvalidIpvFuture)
        };
    }
    let address = host.split_once('%').map_or(host, |(a, _)| a);
    if address.parse::<std::net::Ipv6Addr>().is_ok() {
        Ok(())
    } else if address.parse::<std::net::Ipv4Addr>().is_ok() {
        Err(UrlError::Ipv4InBrackets)
    } else {
        Err(UrlError::NotAnAddress(host.to_owned()))
    }
}

/// `Request.url = url`: scheme, host, port and path from the URL; a Host
/// field and a non-empty authority follow the new host and port.
pub fn set_url(req: &mut Dict, url: &str) -> Result<(), UrlError> {
    let parts = parse(url)?;
    let hostport = hostport(&parts.scheme, &parts.host, parts.port);
    // The parsed strings become the values, without a copy.
    let scheme = match parts.scheme.as_str() {
        "https" => Value::Bytes(Bytes::from_static(b"https")),
        "http" => Value::Bytes(Bytes::from_static(b"http")),
        _ => Value::Bytes(parts.scheme.into_bytes().into()),
    };
    req.insert("scheme", scheme);
    req.insert("host", Value::Text(parts.host.into_bytes().into()));
    req.insert("port", Value::Int(parts.port));
    req.insert("path", Value::Bytes(parts.path.into_bytes().into()));
    follow_host(req, &hostport);
    Ok(())
}

/// The request fields [`set_url`] may change.
pub const SET_URL_FIELDS: [&str; 6] = ["scheme", "host", "port", "path", "authority", "headers"];

/// A Host field and a non-empty authority take `hostport`.
fn follow_host(req: &mut Dict, hostport: &str) {
    if super::header(req, "host").is_some() {
        set_header(req, b"Host", hostport.as_bytes());
    }
    if !raw(req, "authority").is_empty() {
        req.insert("authority", Value::bytes(hostport.as_bytes()));
    }
}

/// mitmproxy's `_update_host_and_authority`, after `request.host = ...` or
/// `request.port = ...`: a Host field and a non-empty authority follow the
/// request's host and port.
pub fn update_host_and_authority(req: &mut Dict) {
    let scheme = String::from_utf8_lossy(raw(req, "scheme")).into_owned();
    let host = req
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let port = req.get("port").and_then(Value::as_int).unwrap_or(0);
    follow_host(req, &hostport(&scheme, &host, port));
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_authority};

    #[test]
    fn authorities() {
        assert_eq!(
            parse_authority("example.com:8080"),
            ("example.com".into(), Some(8080))
        );
        assert_eq!(parse_authority("[::1]:443"), ("::1".into(), Some(443)));
        assert_eq!(parse_authority("Example.COM"), ("Example.COM".into(), None));
        assert_eq!(
            parse_authority("bad host!:80"),
            ("bad host!:80".into(), None)
        );
        assert_eq!(parse_authority("a:99999"), ("a:99999".into(), None));
    }

    #[test]
    fn urls() {
        let p = parse("HTTPS://User@Example.COM:8443/a;b?c#d").unwrap();
        assert_eq!(
            (p.scheme.as_str(), p.host.as_str(), p.port, p.path.as_str()),
            ("https", "example.com", 8443, "/a;b?c#d")
        );
        let p = parse("http://example.com").unwrap();
        assert_eq!((p.port, p.path.as_str()), (80, "/"));
        let p = parse("http://example.com/x?").unwrap();
        assert_eq!(p.path, "/x");
        assert!(parse("/just/a/path").is_err());
        assert!(parse("http://a:port/").is_err());
        assert!(parse("http://[::1/").is_err());
        assert!(parse("http://exämple.com/").is_err());
    }

    /// The byte scans give what `mitmproxy.net.http.url.parse` gives
    /// (each expectation printed by mitmproxy 11.0.2): a scheme only when
    /// every byte before the first `:` may be in one, the last `@`, and
    /// `#` before `?`.
    #[test]
    fn scans_split_as_urllib_does() {
        for (url, want) in [
            ("HTtp+x://h/p", Some(("http+x", "h", 80, "/p"))),
            ("ht^tp://h/", None),
            ("1http://h/", None),
            ("a.b-c+d:rest//x", None),
            ("http://h:80#frag?x", Some(("http", "h", 80, "/#frag?x"))),
            ("http://user@h@X:81/", Some(("http", "x", 81, "/"))),
            ("http://h/a;p?q#f", Some(("http", "h", 80, "/a;p?q#f"))),
            ("sip://H/a/b;c;d", Some(("sip", "h", 80, "/a/b;c;d"))),
            ("http://h?x#y", Some(("http", "h", 80, "/?x#y"))),
        ] {
            let got = parse(url).ok();
            let got = got
                .as_ref()
                .map(|p| (p.scheme.as_str(), p.host.as_str(), p.port, p.path.as_str()));
            assert_eq!(got, want, "{url}");
        }
    }

    /// Each refusal has its kind, as `urllib.parse` and mitmproxy raise it.
    #[test]
    fn refusals_have_kinds() {
        use super::UrlError;
        for (url, kind) in [
            (
                "http://exämple.com/",
                UrlError::NotAscii("http://exämple.com/".into()),
            ),
            ("http://[::1/", UrlError::InvalidIpv6),
            ("http://x[::1]/", UrlError::InvalidIpv6),
            ("/just/a/path", UrlError::NoHostname),
            ("http://a..b/", UrlError::InvalidHost),
            ("http://a:99999/", UrlError::PortOutOfRange),
            ("http://a:port/", UrlError::PortNotInteger("port".into())),
            ("http://[vz.1]/", UrlError::InvalidIpvFuture),
            ("http://[1.2.3.4]/", UrlError::Ipv4InBrackets),
            (
                "http://[nothing]/",
                UrlError::NotAnAddress("nothing".into()),
            ),
        ] {
            assert_eq!(parse(url).map(|p| p.host), Err(kind), "{url}");
        }
        assert_eq!(
            UrlError::PortNotInteger("port".into()).to_string(),
            "Port could not be cast to integer value as \"port\""
        );
    }
}
