//! Why a flow failed, or a request was refused, and what its client is
//! told: every status the proxy answers with on its own is decided here,
//! from the failure's kind.

use std::fmt;
use std::time::Duration;

mod kinds;

pub use kinds::{Gone, RequestError, ResponseError};

use super::wire::WireError;
use crate::h1::HeadError;
use crate::script::Event;
use crate::tls::TlsError;

/// A flow that could not go on, or a request the proxy will not serve.
#[derive(Debug)]
pub enum Failure {
    /// The request cannot be served as sent.
    BadRequest(RequestError),
    /// The request's target (or the CONNECT's) cannot be served.
    BadTarget(super::record::TargetError),
    /// The client's head was malformed, too large or too slow.
    Head(WireError),
    /// Reading the request body failed.
    RequestBody(WireError),
    /// The request is aimed at the proxy itself.
    Loop { host: String, port: u16 },
    /// The server could not be reached.
    Connect(Unreachable),
    /// TLS with the server failed (its certificate, its handshake).
    Tls(TlsError),
    /// Sending the request to the server failed.
    Send(std::io::Error),
    /// The server sent no response head in time.
    Timeout(Duration),
    /// The server's response is not HTTP, or it closed without one.
    BadResponse(ResponseError),
    /// Reading the response body failed.
    ResponseBody(WireError),
    /// A script's hook panicked.
    Panicked(Event),
    /// The server broke off a body that was being passed through.
    ServerBrokeOff(WireError),
    /// The client went away or broke off: nobody is left to answer.
    ClientGone(Gone),
}

/// Why a server could not be reached: the kind (the I/O error's, when
/// there was one) and the words for the person reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreachable {
    pub kind: std::io::ErrorKind,
    pub text: String,
}

impl Unreachable {
    /// Not an I/O error of the connection itself (a refused CONNECT, an
    /// upstream proxy's answer, a TLS failure remembered).
    pub fn other(text: impl Into<String>) -> Unreachable {
        Unreachable {
            kind: std::io::ErrorKind::Other,
            text: text.into(),
        }
    }

    /// What SOCKS5 answers a client whose server is out of reach this way
    /// (RFC 1928's REP field).
    pub fn socks_reply(&self) -> u8 {
        use crate::socks5::reply;
        use std::io::ErrorKind;
        match self.kind {
            ErrorKind::ConnectionRefused => reply::REFUSED,
            ErrorKind::NetworkUnreachable => reply::NETWORK_UNREACHABLE,
            _ => reply::HOST_UNREACHABLE,
        }
    }
}

impl Failure {
    /// The server could not be reached, for a reason that is not an I/O
    /// error of the connection itself.
    pub fn unreachable(text: String) -> Failure {
        Failure::Connect(Unreachable::other(text))
    }

    /// The page the client is answered with: the status and the text
    /// (`waylay: …`), written here once for HTTP/1, HTTP/2 and a refused
    /// CONNECT alike; `None` when nobody is waiting for an answer.
    pub fn page(&self) -> Option<(u16, String)> {
        self.status()
            .map(|status| (status, format!("waylay: {self}\n")))
    }

    /// Whether it is the server side that failed: reaching it, its TLS,
    /// its answer.
    pub fn is_upstream(&self) -> bool {
        matches!(
            self,
            Failure::Connect(_)
                | Failure::Tls(_)
                | Failure::Send(_)
                | Failure::Timeout(_)
                | Failure::BadResponse(_)
                | Failure::ResponseBody(_)
                | Failure::ServerBrokeOff(_)
        )
    }

    /// The status the client is answered with, or `None` when nobody is
    /// waiting for an answer.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            Failure::BadRequest(_) | Failure::BadTarget(_) => 400,
            Failure::Head(WireError::Head(HeadError::TooLarge | HeadError::TooManyHeaders)) => 431,
            Failure::Head(WireError::HeadTimeout(_)) => 408,
            Failure::Head(WireError::Head(_)) => 400,
            Failure::Head(_) => return None,
            Failure::RequestBody(WireError::TooLarge(_)) => 413,
            Failure::RequestBody(_) => 400,
            Failure::Loop { .. } => 508,
            Failure::Timeout(_) => 504,
            Failure::Connect(_)
            | Failure::Tls(_)
            | Failure::Send(_)
            | Failure::BadResponse(_)
            | Failure::ResponseBody(_)
            | Failure::Panicked(_) => 502,
            Failure::ServerBrokeOff(_) | Failure::ClientGone(_) => return None,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::BadRequest(e) => e.fmt(f),
            Failure::BadTarget(e) => e.fmt(f),
            Failure::Head(WireError::Head(HeadError::TooLarge)) => {
                f.write_str("request header fields too large")
            }
            Failure::Head(e) => e.fmt(f),
            Failure::RequestBody(e) => write!(f, "reading the request body failed: {e}"),
            Failure::Loop { host, port } => write!(
                f,
                "{host}:{port} is this proxy; forwarding the request would loop"
            ),
            Failure::Connect(why) => f.write_str(&why.text),
            Failure::Tls(e) => e.fmt(f),
            Failure::Send(e) => write!(f, "sending the request failed: {e}"),
            Failure::Timeout(limit) => {
                write!(f, "the server sent no response in {}s", limit.as_secs())
            }
            Failure::BadResponse(e) => e.fmt(f),
            Failure::ResponseBody(WireError::TooLarge(limit)) => write!(
                f,
                "the response body is larger than body_size_limit ({limit} bytes)"
            ),
            Failure::ResponseBody(e) => write!(f, "reading the response body failed: {e}"),
            Failure::Panicked(event) => {
                write!(f, "a script's `{}` hook panicked", event.hook_name())
            }
            Failure::ServerBrokeOff(e) => write!(f, "the server broke off the streamed body: {e}"),
            Failure::ClientGone(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_come_from_kinds() {
        let io = || std::io::Error::other("x");
        let cases: [(Failure, Option<u16>); 12] = [
            (Failure::BadRequest(RequestError::NestedConnect), Some(400)),
            (
                Failure::Head(WireError::Head(HeadError::TooLarge)),
                Some(431),
            ),
            (
                Failure::Head(WireError::Head(HeadError::TooManyHeaders)),
                Some(431),
            ),
            (
                Failure::Head(WireError::HeadTimeout(Duration::from_secs(1))),
                Some(408),
            ),
            (Failure::Head(WireError::Closed), None),
            (Failure::RequestBody(WireError::TooLarge(5)), Some(413)),
            (Failure::RequestBody(WireError::Closed), Some(400)),
            (
                Failure::Loop {
                    host: "h".into(),
                    port: 1,
                },
                Some(508),
            ),
            (Failure::Timeout(Duration::from_secs(1)), Some(504)),
            (Failure::Send(io()), Some(502)),
            (Failure::Panicked(Event::Request), Some(502)),
            (Failure::ClientGone(Gone::BeforeResponse), None),
        ];
        for (failure, status) in cases {
            assert_eq!(failure.status(), status, "{failure:?}");
        }
    }

    #[test]
    fn socks_replies_come_from_kinds_not_words() {
        use crate::socks5::reply;
        use std::io::ErrorKind;
        for (kind, text, code) in [
            (
                ErrorKind::ConnectionRefused,
                "cannot connect",
                reply::REFUSED,
            ),
            (
                ErrorKind::NetworkUnreachable,
                "cannot connect",
                reply::NETWORK_UNREACHABLE,
            ),
            (
                ErrorKind::TimedOut,
                "no answer in 10s",
                reply::HOST_UNREACHABLE,
            ),
            // Words that say "refused" do not make it a refusal.
            (
                ErrorKind::Other,
                "the upstream proxy refused CONNECT",
                reply::HOST_UNREACHABLE,
            ),
        ] {
            let why = Unreachable {
                kind,
                text: text.into(),
            };
            assert_eq!(why.socks_reply(), code, "{kind:?}");
            assert_eq!(Failure::Connect(why).status(), Some(502));
        }
    }
}
