//! What a layer hands the connection driver when it is done with the
//! connection: the next layer and what it needs. Layers never call each
//! other; they return one of these.

use super::failure::Failure;
use super::upstream::{Pool, Upstream};
use super::wire::{BoxIo, Reader};
use crate::flow::Flow;
use crate::h1::Head;
use crate::tnetstring::Value;

/// Where requests in a tunnel (CONNECT, SOCKS5, transparent) go unless
/// they say otherwise, or, in reverse mode, where every request goes.
#[derive(Clone, Debug)]
pub struct Tunnel {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Reverse mode: every request goes here, whatever its target says.
    pub reverse: bool,
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
    /// A SOCKS5 client: its handshake names where to go.
    Socks { client: Reader<BoxIo> },
    /// A connection to a reverse proxy: every flow goes to its server.
    Reverse { client: Reader<BoxIo> },
    /// A redirected connection (transparent mode) to `host:port`.
    Reach {
        client: Reader<BoxIo>,
        host: String,
        port: u16,
    },
    /// A tunnel is open to the server (its transport and `server_conn`):
    /// what runs in it is decided by the client's first bytes.
    Tunnel {
        client: Reader<BoxIo>,
        server: Reader<BoxIo>,
        server_conn: Value,
        tunnel: Tunnel,
    },
    /// Decrypted bytes in an intercepted tunnel: HTTP/1, or (by their
    /// first bytes, or `tcp` when forced) a TCP flow.
    Inside {
        client: Reader<BoxIo>,
        tunnel: Tunnel,
        pool: Pool,
        tcp: bool,
    },
    /// A TCP flow whose server could not be reached.
    TcpFailed {
        client: Reader<BoxIo>,
        failure: Failure,
    },
    /// Raw bytes both ways, as a TCP flow.
    Tcp {
        client: Reader<BoxIo>,
        server: Reader<BoxIo>,
        server_conn: Value,
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

impl Handoff {
    /// A tunnel just opened to `host:port` (by CONNECT, SOCKS5 or a
    /// transparent redirect): what runs in it is decided by the client's
    /// first bytes (`tunnel::enter`).
    pub fn tunnel(
        client: Reader<BoxIo>,
        server: BoxIo,
        server_conn: Value,
        host: String,
        port: u16,
    ) -> Handoff {
        Handoff::Tunnel {
            client,
            server: Reader::new(server),
            server_conn,
            tunnel: Tunnel {
                tls: false,
                host,
                port,
                reverse: false,
            },
        }
    }
}
