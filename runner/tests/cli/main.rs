//! The runner end to end: the real binary, real cargo builds of real script
//! crates, real flow files, and mitmproxy itself as the peer.

mod cdp;
mod mitmdump;
mod origin;
mod reload;
mod support;
mod tcp_origin;
mod tls_origin;
mod ws_origin;

mod accessors;
mod bad_input;
mod browser;
mod client_replay;
mod concurrency;
mod event_order;
mod examples;
mod filters;
mod gallery;
mod gallery_live;
mod har;
mod hardening;
mod interop;
mod live;
mod long_tcp;
mod modes;
mod new;
mod offline;
mod offline_tcp;
mod offline_websocket;
mod options;
mod reverse_tls;
mod rewrite;
mod rewrite_live;
mod server_replay;
mod serving;
mod tls;
mod upgrade;
mod web;
mod web_browser;
mod web_export;
mod web_inflight;
mod web_intercept;
mod web_page;
mod websocket;
mod wire;
