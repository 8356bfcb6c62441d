//! Waylay's engine: mitmproxy's flow files, the flow model, and the host
//! that drives compiled scripts through their events.
//!
//! The I/O sits at the edges: [`flowfile`] reads and writes byte streams,
//! [`script::build`] runs cargo, [`live`] is the proxy's tokio shell
//! (sockets, TLS, the layers) and [`view`] keeps the web view's session
//! file. The flow model, [`filter`], [`http`], [`addons`], [`har`],
//! [`script`]'s dispatch and the view's model work on values and are
//! tested without sockets.

pub mod addons;
mod dates;
pub mod encoding;
pub mod event;
pub mod filter;
pub mod flow;
pub mod flowfile;
#[cfg(feature = "live")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "live")]
pub mod h1;
pub mod har;
pub mod http;
#[cfg(feature = "live")]
pub mod live;
pub mod offline;
pub mod script;
pub mod socks5;
pub mod summary;
pub mod testing;
#[cfg(feature = "live")]
pub mod tls;
pub mod tnetstring;
pub mod view;
#[cfg(feature = "live")]
pub mod ws;

#[cfg(test)]
mod test_support;

pub use flow::Flow;
