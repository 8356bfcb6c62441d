//! How the proxy reaches origins: [`Dialer`] opens TCP connections, or,
//! in tests, whatever [`Dial`] they hand in, so the exchange runs without
//! sockets. The live options hold one; `upstream` dials through it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use super::wire::BoxIo;

/// A transport to an origin, with its peer and local addresses.
pub type Dialed = (BoxIo, SocketAddr, SocketAddr);

/// What `Dial::dial` returns.
pub type Dialing<'a> = Pin<Box<dyn Future<Output = std::io::Result<Dialed>> + Send + 'a>>;

/// Opens transports to origins. The proxy's is TCP; tests hand in their
/// own, so the exchange runs without sockets.
pub trait Dial: Send + Sync + 'static {
    /// A transport to `host:port`.
    fn dial<'a>(&'a self, host: &'a str, port: u16) -> Dialing<'a>;
}

/// How the proxy reaches origins: TCP unless a test says otherwise.
#[derive(Clone, Default)]
pub struct Dialer(Option<Arc<dyn Dial>>);

impl Dialer {
    /// Origins reached through `dial`.
    pub fn new(dial: Arc<dyn Dial>) -> Dialer {
        Dialer(Some(dial))
    }

    /// The test's own dialer, if one was handed in (none: TCP).
    pub(super) fn custom(&self) -> Option<&Arc<dyn Dial>> {
        self.0.as_ref()
    }
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Dialer(custom)"
        } else {
            "Dialer(tcp)"
        })
    }
}
