//! What the TLS events see: [`ClientHello`] at `tls_clienthello` (and the
//! choice to leave the connection alone), [`TlsData`] at the others.

use crate::Connection;
use crate::abi;
use crate::boundary::host::TlsHandle;

/// A client's TLS ClientHello, before the proxy answers it
/// (mitmproxy's `ClientHelloData`).
///
/// Readable: the server name and the ALPN protocols the client offers,
/// and both connections. Settable: [`set_ignore_connection`], which makes
/// the connection a pass-through: its bytes go to the server and back
/// undecrypted, and no flow records it (mitmproxy's `ignore_connection`,
/// the basis of its `tls-passthrough.py`).
///
/// [`set_ignore_connection`]: ClientHello::set_ignore_connection
///
/// ```
/// # use waylay_sdk::{ClientHello, Context, Script};
/// # #[derive(Default)] struct S;
/// impl Script for S {
///     fn tls_clienthello(&mut self, _ctx: &Context, hello: &mut ClientHello) {
///         if hello.sni().is_some_and(|sni| sni.ends_with(".pinned.example")) {
///             hello.set_ignore_connection(true);
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct ClientHello {
    handle: TlsHandle,
    client: Connection,
    server: Option<Connection>,
}

/// The two connections of a TLS event's handshake.
fn sides(handle: &TlsHandle) -> (Connection, Option<Connection>) {
    let client = Connection::new(
        handle
            .conn(abi::CONN_CLIENT)
            .expect("the host always passes the client connection"),
    );
    (client, handle.conn(abi::CONN_SERVER).map(Connection::new))
}

impl ClientHello {
    pub(crate) fn new(handle: TlsHandle) -> ClientHello {
        let (client, server) = sides(&handle);
        ClientHello {
            handle,
            client,
            server,
        }
    }

    /// The server name the client asks for (SNI), if it sent one.
    ///
    /// ```
    /// # fn f(hello: &waylay_sdk::ClientHello) {
    /// let name = hello.sni().unwrap_or("(no SNI)");
    /// # }
    /// ```
    pub fn sni(&self) -> Option<&str> {
        self.client.sni()
    }

    /// The ALPN protocols the client offers, in its order (`b"h2"`,
    /// `b"http/1.1"`).
    ///
    /// ```
    /// # fn f(hello: &waylay_sdk::ClientHello) {
    /// let wants_h2 = hello.alpn_protocols().contains(&&b"h2"[..]);
    /// # }
    /// ```
    pub fn alpn_protocols(&self) -> Vec<&[u8]> {
        self.client.alpn_offers()
    }

    /// The client connection.
    ///
    /// ```
    /// # fn f(hello: &waylay_sdk::ClientHello) {
    /// let from = hello.client().peer();
    /// # }
    /// ```
    pub fn client(&self) -> &Connection {
        &self.client
    }

    /// The server connection, when the proxy has one: its `address` is
    /// where the connection goes (the CONNECT's target, a reverse mode's
    /// server).
    ///
    /// ```
    /// # fn f(hello: &waylay_sdk::ClientHello) {
    /// let to = hello.server().and_then(|s| s.address());
    /// # }
    /// ```
    pub fn server(&self) -> Option<&Connection> {
        self.server.as_ref()
    }

    /// Whether the connection will pass through untouched.
    ///
    /// ```
    /// # fn f(hello: &waylay_sdk::ClientHello) {
    /// let passing = hello.ignore_connection();
    /// # }
    /// ```
    pub fn ignore_connection(&self) -> bool {
        self.handle.ignore_connection()
    }

    /// Lets the connection pass through (`true`): the proxy neither
    /// answers the handshake nor decrypts, relays the bytes both ways, and
    /// records no flow. No later TLS or flow event fires for it.
    ///
    /// ```
    /// # fn f(hello: &mut waylay_sdk::ClientHello) {
    /// hello.set_ignore_connection(true);
    /// # }
    /// ```
    pub fn set_ignore_connection(&mut self, ignore: bool) {
        self.handle.set_ignore_connection(ignore);
    }
}

/// A TLS handshake with the client or the server (mitmproxy's `TlsData`):
/// the connection it is on ([`conn`](TlsData::conn)) and both sides.
///
/// At `tls_start_*` the connection's SNI and ALPN offers are set; at
/// `tls_established_*` its TLS version, cipher, ALPN and (server side)
/// certificates; at `tls_failed_*` its [`error`](Connection::error).
///
/// ```
/// # use waylay_sdk::{Context, Script, TlsData};
/// # #[derive(Default)] struct S;
/// impl Script for S {
///     fn tls_failed_client(&mut self, ctx: &Context, tls: &TlsData) {
///         let server = tls.server().and_then(|s| s.address());
///         ctx.warn(&format!("client refused our certificate for {server:?}"));
///     }
/// }
/// ```
#[derive(Debug)]
pub struct TlsData {
    client: Connection,
    server: Option<Connection>,
    side: u32,
}

impl TlsData {
    pub(crate) fn new(handle: TlsHandle, side: u32) -> TlsData {
        let (client, server) = sides(&handle);
        TlsData {
            client,
            server,
            side,
        }
    }

    /// The connection this handshake is on: the client's for
    /// `tls_*_client`, the server's for `tls_*_server`.
    ///
    /// ```
    /// # fn f(tls: &waylay_sdk::TlsData) {
    /// let version = tls.conn().tls_version();
    /// # }
    /// ```
    pub fn conn(&self) -> &Connection {
        match (&self.server, self.side) {
            (Some(server), abi::CONN_SERVER) => server,
            _ => &self.client,
        }
    }

    /// The client connection.
    ///
    /// ```
    /// # fn f(tls: &waylay_sdk::TlsData) {
    /// let from = tls.client().peer();
    /// # }
    /// ```
    pub fn client(&self) -> &Connection {
        &self.client
    }

    /// The server connection, when there is one: where the client's
    /// connection goes (`address`).
    ///
    /// ```
    /// # fn f(tls: &waylay_sdk::TlsData) {
    /// let to = tls.server().and_then(|s| s.address());
    /// # }
    /// ```
    pub fn server(&self) -> Option<&Connection> {
        self.server.as_ref()
    }
}
