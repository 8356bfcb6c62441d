//! [`Connection`]: the client or server side of a flow (the seed's
//! ClientConnection and ServerConnection).

use crate::abi;
use crate::boundary::host::ConnHandle;

/// A client or server connection, read-only.
///
/// Offline, these are the connections recorded in the flow file. Fields the
/// file leaves empty read as `None`.
///
/// ```
/// # use waylay_sdk::{Context, Flow};
/// fn who(ctx: &Context, flow: &Flow) {
///     if let Some(client) = flow.client() {
///         ctx.info(&format!("{:?} via TLS: {}", client.peer(), client.tls()));
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Connection {
    handle: ConnHandle,
}

impl Connection {
    pub(crate) fn new(handle: ConnHandle) -> Connection {
        Connection { handle }
    }

    fn text(&self, field: u32, index: usize) -> Option<&str> {
        self.handle
            .bytes(field, index)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    fn addr(&self, host: u32, port: u32) -> Option<(&str, u16)> {
        let port = u16::try_from(self.handle.int(port)?).ok()?;
        Some((self.text(host, 0)?, port))
    }

    /// The connection's id (a UUID).
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let id: &str = c.id();
    /// # }
    /// ```
    pub fn id(&self) -> &str {
        self.text(abi::CONN_ID, 0).unwrap_or("")
    }

    /// The remote end: the client's address on the client side, the
    /// server's on the server side.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// if let Some((host, port)) = c.peer() {
    ///     println!("{host}:{port}");
    /// }
    /// # }
    /// ```
    pub fn peer(&self) -> Option<(&str, u16)> {
        self.addr(abi::CONN_PEER_HOST, abi::CONN_PEER_PORT)
    }

    /// The local end of the socket, on the proxy.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let local = c.sock();
    /// # }
    /// ```
    pub fn sock(&self) -> Option<(&str, u16)> {
        self.addr(abi::CONN_SOCK_HOST, abi::CONN_SOCK_PORT)
    }

    /// Server side: the address the proxy was asked to connect to (before
    /// name resolution). `None` on the client side.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let target = c.address();
    /// # }
    /// ```
    pub fn address(&self) -> Option<(&str, u16)> {
        self.addr(abi::CONN_ADDRESS_HOST, abi::CONN_ADDRESS_PORT)
    }

    /// Whether TLS was used on this connection.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let secure = c.tls();
    /// # }
    /// ```
    pub fn tls(&self) -> bool {
        self.handle.int(abi::CONN_TLS) == Some(1)
    }

    /// The TLS Server Name Indication.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let sni = c.sni().unwrap_or("-");
    /// # }
    /// ```
    pub fn sni(&self) -> Option<&str> {
        self.text(abi::CONN_SNI, 0)
    }

    /// The negotiated ALPN protocol, e.g. `b"h2"`.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let h2 = c.alpn() == Some(b"h2");
    /// # }
    /// ```
    pub fn alpn(&self) -> Option<&[u8]> {
        self.handle.bytes(abi::CONN_ALPN, 0)
    }

    /// The ALPN protocols offered in the handshake.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// for proto in c.alpn_offers() {
    ///     println!("{}", String::from_utf8_lossy(proto));
    /// }
    /// # }
    /// ```
    pub fn alpn_offers(&self) -> Vec<&[u8]> {
        let n = self.handle.int(abi::CONN_ALPN_OFFER_COUNT).unwrap_or(0);
        (0..n as usize)
            .filter_map(|i| self.handle.bytes(abi::CONN_ALPN_OFFER, i))
            .collect()
    }

    /// The TLS version, e.g. `"TLSv1.3"`.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let v = c.tls_version();
    /// # }
    /// ```
    pub fn tls_version(&self) -> Option<&str> {
        self.text(abi::CONN_TLS_VERSION, 0)
    }

    /// The negotiated cipher suite.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let cipher = c.cipher();
    /// # }
    /// ```
    pub fn cipher(&self) -> Option<&str> {
        self.text(abi::CONN_CIPHER, 0)
    }

    /// The peer's certificate chain as PEM, leaf first (server side: the
    /// server's certificates).
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// if let Some(leaf) = c.certificates().first() {
    ///     assert!(leaf.starts_with(b"-----BEGIN CERTIFICATE-----"));
    /// }
    /// # }
    /// ```
    pub fn certificates(&self) -> Vec<&[u8]> {
        let n = self.handle.int(abi::CONN_CERTIFICATE_COUNT).unwrap_or(0);
        (0..n as usize)
            .filter_map(|i| self.handle.bytes(abi::CONN_CERTIFICATE, i))
            .collect()
    }

    /// The peer's certificates, read: subject, issuer, names, validity,
    /// serial and fingerprint (mitmproxy's `certificate_list`). One that
    /// cannot be read is left out.
    ///
    /// ```
    /// # fn f(flow: &waylay_sdk::Flow, ctx: &waylay_sdk::Context) {
    /// let chain = flow.server().map(|s| s.certificate_list()).unwrap_or_default();
    /// if let Some(leaf) = chain.first() {
    ///     ctx.info(&format!("server certificate for {:?}", leaf.altnames()));
    /// }
    /// # }
    /// ```
    pub fn certificate_list(&self) -> Vec<crate::Certificate> {
        self.certificates()
            .into_iter()
            .filter_map(|pem| crate::Certificate::from_pem(pem).ok())
            .collect()
    }

    /// Why the connection failed, if it did.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// if let Some(e) = c.error() {
    ///     eprintln!("{e}");
    /// }
    /// # }
    /// ```
    pub fn error(&self) -> Option<&str> {
        self.text(abi::CONN_ERROR, 0)
    }

    /// Client side: the proxy mode that accepted it, e.g. `"regular"`.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let mode = c.proxy_mode();
    /// # }
    /// ```
    pub fn proxy_mode(&self) -> Option<&str> {
        self.text(abi::CONN_PROXY_MODE, 0)
    }

    /// When the connection started, in seconds since the Unix epoch.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let t = c.timestamp_start();
    /// # }
    /// ```
    pub fn timestamp_start(&self) -> Option<f64> {
        self.handle.float(abi::CONN_TIMESTAMP_START)
    }

    /// When the TLS handshake finished.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let t = c.timestamp_tls_setup();
    /// # }
    /// ```
    pub fn timestamp_tls_setup(&self) -> Option<f64> {
        self.handle.float(abi::CONN_TIMESTAMP_TLS_SETUP)
    }

    /// When the connection closed.
    ///
    /// ```
    /// # fn f(c: &waylay_sdk::Connection) {
    /// let t = c.timestamp_end();
    /// # }
    /// ```
    pub fn timestamp_end(&self) -> Option<f64> {
        self.handle.float(abi::CONN_TIMESTAMP_END)
    }
}
