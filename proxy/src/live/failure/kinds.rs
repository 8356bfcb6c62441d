//! The kinds inside a [`Failure`](super::Failure) that are not another
//! module's error: a request that cannot be served as sent, a server's
//! answer that is not one, a client that went away.

use std::fmt;
use std::io;

use crate::h1::{FramingError, HeadError};
use crate::live::wire::WireError;

/// Why a request cannot be served as the client sent it.
#[derive(Debug)]
pub enum RequestError {
    /// Its body's framing is ambiguous or wrong.
    Framing(FramingError),
    /// A CONNECT inside a CONNECT tunnel.
    NestedConnect,
    /// It cannot be put into an HTTP/2 request (a method or URL HTTP/2
    /// cannot carry).
    NotHttp2 { uri: String, why: http::Error },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Framing(e) => e.fmt(f),
            RequestError::NestedConnect => {
                f.write_str("CONNECT inside a CONNECT tunnel is not supported")
            }
            RequestError::NotHttp2 { uri, why } => {
                write!(f, "the request cannot go over HTTP/2 ({uri}): {why}")
            }
        }
    }
}

/// Why the server's answer is not a response the proxy can pass on.
#[derive(Debug)]
pub enum ResponseError {
    /// The response head does not parse.
    Head(HeadError),
    /// The response's body framing is wrong.
    Framing(FramingError),
    /// Reading the response head failed.
    Read(WireError),
    /// The server closed the connection without a response.
    Closed,
    /// The server failed the HTTP/2 stream.
    Stream(hyper::Error),
    /// An HTTP/2 server answered 101, which HTTP/2 does not have.
    SwitchedOverHttp2,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Head(e) => write!(f, "invalid response from the server: {e}"),
            ResponseError::Framing(e) => write!(f, "invalid response from the server: {e}"),
            ResponseError::Read(e) => write!(f, "reading the response failed: {e}"),
            ResponseError::Closed => {
                f.write_str("the server closed the connection without a response")
            }
            ResponseError::Stream(e) => write!(f, "the server failed the HTTP/2 stream: {e}"),
            ResponseError::SwitchedOverHttp2 => f.write_str("an HTTP/2 server answered 101"),
        }
    }
}

/// When the client went away, so that nobody is left to answer.
#[derive(Debug)]
pub enum Gone {
    /// Before the response head could be sent.
    BeforeResponse,
    /// Before the 101 that switches protocols could be sent.
    BeforeSwitch,
    /// While a streamed response body was being sent.
    DuringResponse(io::Error),
    /// While its streamed request body was being read.
    DuringRequest(WireError),
}

impl fmt::Display for Gone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gone::BeforeResponse => f.write_str("the client went away before the response"),
            Gone::BeforeSwitch => f.write_str("the client went away before the 101"),
            Gone::DuringResponse(e) => {
                write!(f, "the client went away during the streamed body: {e}")
            }
            Gone::DuringRequest(e) => {
                write!(f, "the client broke off the streamed request: {e}")
            }
        }
    }
}
