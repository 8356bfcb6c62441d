//! What a layer hands the connection driver when it is done with the
//! connection: the next layer and what it needs. Layers never call each
//! other; they return one of these.

use super::upstream::{Pool, Upstream};
use super::wire::{BoxIo, Reader};
use crate::flow::Flow;
use crate::h1::Head;
use crate::tnetstring::Value;

/// Where requests in a CONNECT tunnel go, unless they say otherwise.
#[derive(Clone, Debug)]
pub struct Tunnel {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Tunnel {
    /// The scheme of requests in the tunnel.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

/// The next layer for a connection.
#[derive(Debug)]
pub enum Handoff {
    /// The connection is over; close it.
    Close(Reader<BoxIo>),
    /// The connection is over and already closed.
    Done,
    /// A CONNECT was accepted: open the tunnel to `host:port`.
    Connect {
        client: Reader<BoxIo>,
        head: Head,
        host: String,
        port: u16,
    },
    /// HTTP/1 requests, in a tunnel or not.
    Http1 {
        client: Reader<BoxIo>,
        tunnel: Option<Tunnel>,
        pool: Pool,
    },
    /// HTTP/2 streams in an intercepted tunnel.
    Http2 {
        client: BoxIo,
        tunnel: Tunnel,
        pool: Pool,
    },
    /// A TLS hello in a tunnel: intercept it, with the server's transport
    /// and its `server_conn` dict.
    Intercept {
        client: Reader<BoxIo>,
        server: BoxIo,
        server_conn: Value,
        tunnel: Tunnel,
    },
    /// The server switched protocols: the HTTP flow goes on as a
    /// WebSocket, or as raw bytes for any other protocol.
    Upgrade {
        flow: Box<Flow>,
        client: Reader<BoxIo>,
        server: Upstream,
    },
    /// Bytes passed both ways, unrecorded.
    Pipe {
        client: Reader<BoxIo>,
        server: Reader<BoxIo>,
    },
}
