//! The live proxy: mitmproxy's regular mode, driving scripts through the
//! same dispatch as offline mode.
//!
//! `conn` is the connection driver; each layer below it (`http1`,
//! `tunnel`, `intercept`, `http2`, `websocket`) returns a `Handoff` saying
//! what comes next rather than calling the next layer. The HTTP flow's
//! lifecycle is `exchange`, written once for both HTTP versions; the
//! protocol logic without I/O is `h1`, `ws`, `live::record` and
//! `live::send`.

mod auth;
mod body;
mod capture;
mod conn;
mod convert;
mod detect;
mod dial;
mod exchange;
mod failure;
mod fuzz;
mod handoff;
mod http1;
mod http2;
mod intercept;
mod keep;
pub mod mode;
mod notify;
mod options;
pub mod pause;
pub mod record;
pub mod replay;
mod reverse;
mod send;
mod shards;
mod socks;
mod state;
mod tcp;
#[cfg(test)]
mod tests;
mod tunnel;
mod upstream;
mod via;
mod websocket;
mod wire;

pub use capture::{OnEncoded, OnFlow, Sinks};
pub use conn::{Listener, serve};
pub use dial::{Dial, Dialed, Dialer, Dialing};
pub use options::Options;
pub use state::Live;
pub use wire::{BoxIo, Io};

/// Raw client bytes through the real connection driver and exchange,
/// checked at an in-memory origin; for the fuzz target `client_bytes`.
#[doc(hidden)]
pub fn fuzz_client_bytes(data: &[u8]) {
    fuzz::client_bytes(data);
}
