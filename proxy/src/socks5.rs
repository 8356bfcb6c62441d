//! SOCKS5 without I/O (RFC 1928, with RFC 1929 username/password): the
//! client's greeting, credentials and request read from bytes, the
//! server's answers written as bytes. `live::socks` drives it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// "No authentication required".
pub const NO_AUTH: u8 = 0x00;
/// Username and password (RFC 1929).
pub const USER_PASS: u8 = 0x02;
/// "No acceptable methods".
pub const NO_METHOD: u8 = 0xff;

/// Reply codes (RFC 1928 §6).
pub mod reply {
    pub const SUCCEEDED: u8 = 0x00;
    pub const GENERAL_FAILURE: u8 = 0x01;
    pub const NOT_ALLOWED: u8 = 0x02;
    pub const NETWORK_UNREACHABLE: u8 = 0x03;
    pub const HOST_UNREACHABLE: u8 = 0x04;
    pub const REFUSED: u8 = 0x05;
    pub const COMMAND_NOT_SUPPORTED: u8 = 0x07;
    pub const ADDRESS_NOT_SUPPORTED: u8 = 0x08;
}

/// What the client asked to reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE; only CONNECT is served.
    pub command: u8,
    /// A host name (ATYP 3) or an address (1, 4), without brackets.
    pub host: String,
    pub port: u16,
}

/// Why the client's bytes are not SOCKS5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocksError {
    /// The version byte is not 5 (or 1, in the credentials).
    Version(u8),
    /// A greeting that offers no method.
    NoMethods,
    /// The reserved byte of a request is not 0.
    Reserved(u8),
    /// An address type other than 1, 3 and 4.
    AddressType(u8),
    /// A domain name that is empty or not text.
    BadName,
}

impl SocksError {
    /// The reply code to answer a bad request with.
    pub fn reply(&self) -> u8 {
        match self {
            SocksError::AddressType(_) => reply::ADDRESS_NOT_SUPPORTED,
            _ => reply::GENERAL_FAILURE,
        }
    }
}

impl fmt::Display for SocksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksError::Version(v) => write!(
                f,
                "not a SOCKS5 client (version byte {v:#04x}); is it speaking HTTP to the SOCKS5 listener?"
            ),
            SocksError::NoMethods => f.write_str("the SOCKS5 greeting offers no method"),
            SocksError::Reserved(r) => {
                write!(f, "the SOCKS5 request's reserved byte is {r:#04x}, not 0")
            }
            SocksError::AddressType(t) => write!(f, "unknown SOCKS5 address type {t:#04x}"),
            SocksError::BadName => {
                f.write_str("the SOCKS5 request's host name is empty or not text")
            }
        }
    }
}

impl std::error::Error for SocksError {}

/// A message read whole (and how many bytes it took), or more bytes
/// needed.
pub type Parsed<T> = Result<Option<(T, usize)>, SocksError>;

/// The greeting: the methods the client offers.
pub fn greeting(buf: &[u8]) -> Parsed<Vec<u8>> {
    let [version, count, rest @ ..] = buf else {
        return Ok(None);
    };
    if *version != 5 {
        return Err(SocksError::Version(*version));
    }
    let count = usize::from(*count);
    if count == 0 {
        return Err(SocksError::NoMethods);
    }
    Ok(rest
        .get(..count)
        .map(|methods| (methods.to_vec(), 2 + count)))
}

/// RFC 1929 credentials: user name and password.
pub fn credentials(buf: &[u8]) -> Parsed<(Vec<u8>, Vec<u8>)> {
    let [version, ulen, rest @ ..] = buf else {
        return Ok(None);
    };
    if *version != 1 {
        return Err(SocksError::Version(*version));
    }
    let ulen = usize::from(*ulen);
    let Some((user, rest)) = rest.split_at_checked(ulen) else {
        return Ok(None);
    };
    let Some((&plen, rest)) = rest.split_first() else {
        return Ok(None);
    };
    let plen = usize::from(plen);
    Ok(rest
        .get(..plen)
        .map(|pass| ((user.to_vec(), pass.to_vec()), 3 + ulen + plen)))
}

/// The request: command, host and port.
pub fn request(buf: &[u8]) -> Parsed<Request> {
    let [version, command, reserved, kind, rest @ ..] = buf else {
        return Ok(None);
    };
    if *version != 5 {
        return Err(SocksError::Version(*version));
    }
    if *reserved != 0 {
        return Err(SocksError::Reserved(*reserved));
    }
    let (host, used) = match kind {
        1 => match rest.get(..4) {
            Some(a) => (Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string(), 4),
            None => return Ok(None),
        },
        4 => match rest.get(..16).and_then(|a| <[u8; 16]>::try_from(a).ok()) {
            Some(a) => (Ipv6Addr::from(a).to_string(), 16),
            None => return Ok(None),
        },
        3 => {
            let Some((&len, name)) = rest.split_first() else {
                return Ok(None);
            };
            let Some(name) = name.get(..usize::from(len)) else {
                return Ok(None);
            };
            let name = std::str::from_utf8(name).map_err(|_| SocksError::BadName)?;
            if name.is_empty() || name.contains(['/', '@', ' ']) {
                return Err(SocksError::BadName);
            }
            (name.to_owned(), 1 + usize::from(len))
        }
        other => return Err(SocksError::AddressType(*other)),
    };
    let Some(port) = rest.get(used..used + 2) else {
        return Ok(None);
    };
    let request = Request {
        command: *command,
        host,
        port: u16::from_be_bytes([port[0], port[1]]),
    };
    Ok(Some((request, 4 + used + 2)))
}

/// The server's reply to a request: `code` and the address it bound.
pub fn reply(code: u8, bound: SocketAddr) -> Vec<u8> {
    let mut out = vec![5, code, 0];
    match bound.ip() {
        IpAddr::V4(ip) => {
            out.push(1);
            out.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
    }
    out.extend_from_slice(&bound.port().to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        assert_eq!(greeting(&[5, 2, 0, 2]), Ok(Some((vec![0, 2], 4))));
        assert_eq!(greeting(&[5, 2, 0]), Ok(None));
        assert_eq!(greeting(&[5]), Ok(None));
        assert_eq!(greeting(&[4, 1, 0]), Err(SocksError::Version(4)));
        assert_eq!(greeting(b"GET / HTTP/1.1"), Err(SocksError::Version(b'G')));
        assert_eq!(greeting(&[5, 0]), Err(SocksError::NoMethods));
    }

    #[test]
    fn credentials_by_rfc_1929() {
        let mut buf = vec![1, 4];
        buf.extend_from_slice(b"user");
        buf.push(4);
        buf.extend_from_slice(b"pass");
        assert_eq!(
            credentials(&buf),
            Ok(Some(((b"user".to_vec(), b"pass".to_vec()), 11)))
        );
        for cut in 0..buf.len() {
            assert_eq!(credentials(&buf[..cut]), Ok(None), "{cut}");
        }
        assert_eq!(credentials(&[5, 0, 0]), Err(SocksError::Version(5)));
    }

    #[test]
    fn requests_of_every_address_type() {
        let v4 = [5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
        assert_eq!(
            request(&v4),
            Ok(Some((
                Request {
                    command: 1,
                    host: "127.0.0.1".into(),
                    port: 8080
                },
                10
            )))
        );
        let mut v6 = vec![5, 1, 0, 4];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6.extend_from_slice(&[0, 80]);
        assert_eq!(request(&v6).unwrap().unwrap().0.host, "::1");
        let mut name = vec![5, 1, 0, 3, 11];
        name.extend_from_slice(b"example.com");
        name.extend_from_slice(&[1, 187]);
        let (req, used) = request(&name).unwrap().unwrap();
        assert_eq!(
            (req.host.as_str(), req.port, used),
            ("example.com", 443, name.len())
        );
        for cut in 0..name.len() {
            assert_eq!(request(&name[..cut]), Ok(None), "{cut}");
        }
        assert_eq!(
            request(&[5, 1, 0, 9, 0, 0]),
            Err(SocksError::AddressType(9))
        );
        assert_eq!(request(&[5, 1, 1, 1]), Err(SocksError::Reserved(1)));
        assert_eq!(request(&[5, 1, 0, 3, 0, 0, 80]), Err(SocksError::BadName));
    }

    #[test]
    fn replies() {
        let bound: SocketAddr = "127.0.0.1:1080".parse().unwrap();
        assert_eq!(
            reply(reply::SUCCEEDED, bound),
            [5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38]
        );
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(reply(reply::REFUSED, v6).len(), 4 + 16 + 2);
    }
}
