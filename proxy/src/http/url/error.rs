//! [`UrlError`]: why mitmproxy's `url.parse` (over Python's
//! `urllib.parse`) would raise, by kind, in mitmproxy's words.

use std::fmt;

/// Why a URL cannot be a request's URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// The URL has characters outside ASCII (the URL, as given).
    NotAscii(String),
    /// An unbalanced `[` or `]`, or text around a bracketed host.
    InvalidIpv6,
    /// No host after `//`.
    NoHostname,
    /// A host mitmproxy refuses (spaces, empty labels, …).
    InvalidHost,
    /// A port outside 0–65535.
    PortOutOfRange,
    /// A port that is not digits (the port, as given).
    PortNotInteger(String),
    /// A `[v…]` host that is not IPvFuture.
    InvalidIpvFuture,
    /// An IPv4 address in brackets.
    Ipv4InBrackets,
    /// A bracketed host that is no address (the host, as given).
    NotAnAddress(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::NotAscii(url) => write!(f, "{url:?} is not ASCII"),
            UrlError::InvalidIpv6 => f.write_str("Invalid IPv6 URL"),
            UrlError::NoHostname => f.write_str("No hostname given"),
            UrlError::InvalidHost => f.write_str("Invalid Host"),
            UrlError::PortOutOfRange => f.write_str("Port out of range 0-65535"),
            UrlError::PortNotInteger(port) => {
                write!(f, "Port could not be cast to integer value as {port:?}")
            }
            UrlError::InvalidIpvFuture => f.write_str("IPvFuture address is invalid"),
            UrlError::Ipv4InBrackets => f.write_str("An IPv4 address cannot be in brackets"),
            UrlError::NotAnAddress(host) => {
                write!(f, "{host:?} does not appear to be an IPv4 or IPv6 address")
            }
        }
    }
}

impl std::error::Error for UrlError {}
