//! Proxy modes, parsed from mitmproxy's spec syntax
//! `MODE[:DATA][@[HOST:]PORT]`: `regular`, `transparent`, `socks5`,
//! `upstream:http[s]://HOST[:PORT]` and `reverse:SCHEME://HOST[:PORT]`.
//! Each `--mode` is a listener; a flow records its spec, as the user wrote
//! it, in `client_conn.proxy_mode`. No I/O here.

use std::fmt;
use std::net::SocketAddr;

/// What a listener does with its connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A forward proxy: absolute-form requests and CONNECT.
    Regular,
    /// Connections redirected by the kernel (iptables `REDIRECT`): the
    /// destination is the socket's original one.
    Transparent,
    /// A SOCKS5 proxy (RFC 1928, RFC 1929 with `--proxyauth`).
    Socks5,
    /// A forward proxy that sends everything on through another proxy.
    Upstream(Server),
    /// Every connection goes to one server.
    Reverse(Server),
}

/// A server a mode names: scheme, host and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
}

/// The schemes a mode's server may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
    /// TLS with raw bytes inside (TCP flows).
    Tls,
    /// Raw bytes (TCP flows).
    Tcp,
}

impl Scheme {
    /// Whether the proxy speaks TLS to the server.
    pub fn tls(self) -> bool {
        matches!(self, Scheme::Https | Scheme::Tls)
    }

    /// Whether what flows is HTTP.
    pub fn http(self) -> bool {
        matches!(self, Scheme::Http | Scheme::Https)
    }
}

/// A parsed `--mode`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mode {
    /// The spec as the user wrote it (mitmproxy's `full_spec`).
    pub spec: String,
    pub kind: Kind,
    /// The address to listen on, if the spec names one.
    pub listen_host: Option<String>,
    /// The port to listen on, if the spec names one.
    pub listen_port: Option<u16>,
    /// The address its listener is bound to, once it listens: what the
    /// loop check compares targets with.
    pub bound: Option<SocketAddr>,
}

impl Default for Mode {
    fn default() -> Mode {
        Mode {
            spec: "regular".into(),
            kind: Kind::Regular,
            listen_host: None,
            listen_port: None,
            bound: None,
        }
    }
}

/// Why a mode spec does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeError {
    pub spec: String,
    /// The part that is wrong.
    pub part: String,
    pub why: String,
}

impl fmt::Display for ModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--mode {}: {} ({:?}); the forms are regular, transparent, socks5, \
             upstream:http[s]://HOST[:PORT] and reverse:SCHEME://HOST[:PORT] with SCHEME \
             http, https, tls or tcp, each optionally followed by @PORT or @HOST:PORT",
            self.spec, self.why, self.part
        )
    }
}

impl std::error::Error for ModeError {}

impl Mode {
    /// Parses a spec as mitmproxy does.
    pub fn parse(spec: &str) -> Result<Mode, ModeError> {
        let err = |part: &str, why: &str| ModeError {
            spec: spec.to_owned(),
            part: part.to_owned(),
            why: why.to_owned(),
        };
        // mitmproxy splits at the last '@'.
        let (head, listen) = match spec.rsplit_once('@') {
            Some((head, listen)) if !head.is_empty() => (head, Some(listen)),
            _ => (spec, None),
        };
        let (listen_host, listen_port) = match listen {
            None => (None, None),
            Some(at) => {
                let (host, port) = match at.rsplit_once(':') {
                    Some((host, port)) => (Some(host.trim_matches(['[', ']'])), port),
                    None => (None, at),
                };
                let port: u16 = port
                    .parse()
                    .map_err(|_| err(port, "the listen port is not a number from 0 to 65535"))?;
                if host.is_some_and(str::is_empty) {
                    return Err(err(at, "the listen address is empty"));
                }
                (host.map(str::to_owned), Some(port))
            }
        };
        let (name, data) = head.split_once(':').unwrap_or((head, ""));
        let no_data = |kind: Kind| {
            if data.is_empty() {
                Ok(kind)
            } else {
                Err(err(data, "this mode takes no argument"))
            }
        };
        let kind = match name.to_ascii_lowercase().as_str() {
            "regular" => no_data(Kind::Regular)?,
            "transparent" => no_data(Kind::Transparent)?,
            "socks5" => no_data(Kind::Socks5)?,
            "upstream" => {
                let server = server(data, Scheme::Http).map_err(|(part, why)| err(part, why))?;
                if !server.scheme.http() {
                    return Err(err(data, "an upstream proxy is http:// or https://"));
                }
                Kind::Upstream(server)
            }
            "reverse" => {
                Kind::Reverse(server(data, Scheme::Https).map_err(|(part, why)| err(part, why))?)
            }
            "local" | "wireguard" | "tun" | "dns" | "osproxy" => {
                return Err(err(name, "this mitmproxy mode is not supported by Waylay"));
            }
            "" => return Err(err(name, "the mode name is missing")),
            _ => return Err(err(name, "unknown mode")),
        };
        Ok(Mode {
            spec: spec.to_owned(),
            kind,
            listen_host,
            listen_port,
            bound: None,
        })
    }

    /// The port to listen on without one in the spec or on the command
    /// line: 8080, and 1080 for SOCKS5, as mitmproxy's.
    pub fn default_port(&self) -> u16 {
        if self.kind == Kind::Socks5 {
            1080
        } else {
            8080
        }
    }
}

/// A server spec, `[SCHEME://]HOST[:PORT][/]`, as mitmproxy's
/// `server_spec.parse`; the error is the wrong part and why.
fn server(data: &str, default: Scheme) -> Result<Server, (&str, &'static str)> {
    if data.is_empty() {
        return Err((data, "the server is missing"));
    }
    let (scheme, rest) = match data.split_once("://") {
        Some((scheme, rest)) => {
            let scheme = match scheme.to_ascii_lowercase().as_str() {
                "http" => Scheme::Http,
                "https" => Scheme::Https,
                "tls" => Scheme::Tls,
                "tcp" => Scheme::Tcp,
                "http3" | "dtls" | "udp" | "dns" | "quic" => {
                    return Err((scheme, "this scheme is not supported by Waylay"));
                }
                _ => return Err((scheme, "unknown scheme")),
            };
            (scheme, rest)
        }
        None => (default, data),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        return Err((rest, "a server takes no path"));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or((rest, "an unclosed [ in the host"))?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || !host.chars().all(valid) {
        return Err((host, "not a host name or address"));
    }
    let port = match port {
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err((p, "not a port from 1 to 65535")),
        },
        None => match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::Tls | Scheme::Tcp => return Err((rest, "the port is missing")),
        },
    };
    Ok(Server {
        scheme,
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(scheme: Scheme, host: &str, port: u16) -> Server {
        Server {
            scheme,
            host: host.into(),
            port,
        }
    }

    #[test]
    fn specs() {
        let ok = |spec: &str, kind: Kind, host: Option<&str>, port: Option<u16>| {
            let mode = Mode::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(mode.kind, kind, "{spec}");
            assert_eq!(mode.listen_host.as_deref(), host, "{spec}");
            assert_eq!(mode.listen_port, port, "{spec}");
            assert_eq!(mode.spec, spec);
        };
        ok("regular", Kind::Regular, None, None);
        ok("regular@8081", Kind::Regular, None, Some(8081));
        ok(
            "socks5@127.0.0.1:1080",
            Kind::Socks5,
            Some("127.0.0.1"),
            Some(1080),
        );
        ok(
            "transparent@[::1]:8080",
            Kind::Transparent,
            Some("::1"),
            Some(8080),
        );
        ok(
            "reverse:http://127.0.0.1:8000/",
            Kind::Reverse(server(Scheme::Http, "127.0.0.1", 8000)),
            None,
            None,
        );
        ok(
            "reverse:example.com",
            Kind::Reverse(server(Scheme::Https, "example.com", 443)),
            None,
            None,
        );
        ok(
            "reverse:tcp://[::1]:22@2222",
            Kind::Reverse(server(Scheme::Tcp, "::1", 22)),
            None,
            Some(2222),
        );
        ok(
            "upstream:https://proxy.example:3128",
            Kind::Upstream(server(Scheme::Https, "proxy.example", 3128)),
            None,
            None,
        );
        ok(
            "upstream:proxy.example:3128",
            Kind::Upstream(server(Scheme::Http, "proxy.example", 3128)),
            None,
            None,
        );
    }

    #[test]
    fn bad_specs_name_the_part() {
        for (spec, part, why) in [
            ("bogus", "bogus", "unknown mode"),
            ("regular:x", "x", "takes no argument"),
            ("reverse:", "", "missing"),
            ("reverse:ftp://x", "ftp", "unknown scheme"),
            ("reverse:quic://x:1", "quic", "not supported"),
            ("reverse:tcp://x", "x", "port is missing"),
            ("reverse:http://x:99999", "99999", "not a port"),
            ("reverse:http://x/path", "x/path", "no path"),
            ("upstream:tcp://x:1", "tcp://x:1", "http:// or https://"),
            ("regular@http", "http", "listen port"),
            ("wireguard", "wireguard", "not supported"),
            ("socks5@:1080", ":1080", "listen address is empty"),
        ] {
            let e = Mode::parse(spec).unwrap_err();
            assert_eq!(e.part, part, "{spec}");
            assert!(e.why.contains(why), "{spec}: {}", e.why);
            assert!(
                e.to_string().starts_with(&format!("--mode {spec}: ")),
                "{e}"
            );
        }
    }
}
