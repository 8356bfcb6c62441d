//! The runner end to end: the real binary, real cargo builds of real script
//! crates, real flow files, and mitmproxy itself as the peer.

mod origin;
mod reload;
mod support;
mod tls_origin;
mod ws_origin;

mod bad_input;
mod browser;
mod concurrency;
mod examples;
mod hardening;
mod interop;
mod live;
mod new;
mod offline;
mod offline_websocket;
mod options;
mod tls;
mod websocket;
