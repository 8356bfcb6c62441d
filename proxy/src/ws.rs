//! WebSocket without I/O: RFC 6455 framing and RFC 7692 permessage-deflate.
//! Bytes in, events out ([`Decoder`]); messages in, bytes out ([`Encoder`]).
//!
//! Why hand-written: tungstenite has no permessage-deflate, and its
//! protocol layer owns the socket and answers pings itself. A proxy relays
//! each side's frames, must see RSV1 (which messages are compressed) and
//! must decide itself what to answer, so a small sans-IO codec over flate2
//! is the fit. Nothing here reads a socket, spawns or sleeps.
//!
//! The codec reassembles fragmented messages and inflates compressed ones;
//! it writes every message back out as one frame, compressed with a fresh
//! context each time when permessage-deflate was agreed (RFC 7692 lets a
//! sender always act as if `no_context_takeover` were agreed).

use std::fmt;

mod decoder;
mod deflate;
mod encoder;
mod extensions;
mod frame;

pub use decoder::Decoder;
pub use encoder::Encoder;
pub use extensions::{Deflate, agreed_deflate};

/// Which peer a [`Decoder`] reads from, or an [`Encoder`] writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// The side that sent the upgrade request; its frames are masked.
    Client,
    /// The side that answered 101; its frames are not masked.
    Server,
}

impl Peer {
    /// The peer at the other end of the connection.
    pub fn other(self) -> Peer {
        match self {
            Peer::Client => Peer::Server,
            Peer::Server => Peer::Client,
        }
    }
}

/// What a [`Decoder`] reads: a whole message, or one control frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A whole data message: reassembled from its fragments and inflated.
    Message {
        /// A text message (valid UTF-8, checked) rather than a binary one.
        text: bool,
        /// The message's payload.
        payload: bytes::Bytes,
    },
    /// A ping and its payload (at most 125 bytes).
    Ping(bytes::Bytes),
    /// A pong and its payload (at most 125 bytes).
    Pong(bytes::Bytes),
    /// A close frame: code and reason if it carried them (an empty close
    /// frame is None).
    Close(Option<(u16, String)>),
}

/// Why a peer's frames were refused, or an extension header could not be
/// read. After an error the connection should be failed: send a close
/// frame with [`WsError::close_code`] and stop reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsError {
    /// The peer broke RFC 6455's framing rules; the text says which.
    Protocol(String),
    /// A text message or a close reason is not valid UTF-8.
    InvalidUtf8,
    /// A message is larger than the limit, in bytes.
    TooLarge {
        /// The limit the decoder was made with.
        limit: usize,
    },
    /// A compressed message is not valid deflate data; the text says why.
    Deflate(String),
    /// A `Sec-WebSocket-Extensions` header offers permessage-deflate with
    /// parameters that cannot be agreed; the text says which.
    Extension(String),
}

impl WsError {
    /// The close code to send for it: 1002 protocol error, 1007 invalid
    /// payload (bad UTF-8, bad deflate data), 1009 too big.
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::Protocol(_) | WsError::Extension(_) => 1002,
            WsError::InvalidUtf8 | WsError::Deflate(_) => 1007,
            WsError::TooLarge { .. } => 1009,
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Protocol(what) => write!(f, "a WebSocket peer broke the protocol: {what}"),
            WsError::InvalidUtf8 => {
                write!(
                    f,
                    "a WebSocket text message or close reason is not valid UTF-8"
                )
            }
            WsError::TooLarge { limit } => write!(
                f,
                "a WebSocket message is larger than websocket_max_message ({limit} bytes)"
            ),
            WsError::Deflate(what) => {
                write!(
                    f,
                    "a compressed WebSocket message could not be inflated: {what}"
                )
            }
            WsError::Extension(what) => write!(
                f,
                "the permessage-deflate parameters in Sec-WebSocket-Extensions are malformed: {what}"
            ),
        }
    }
}

impl std::error::Error for WsError {}

fn protocol(what: impl Into<String>) -> WsError {
    WsError::Protocol(what.into())
}

#[cfg(test)]
mod tests;
