//! Write Waylay proxy scripts in Rust.
//!
//! A script is a crate built as a `cdylib` that implements [`Script`] and
//! exports it with [`export_script!`]. The runner builds the crate, loads
//! it and calls its hooks as traffic passes: live through the proxy
//! (`runner -s DIR`) or over saved flow files (`runner -n -r IN -s DIR -w OUT`).
//!
//! This is mitmproxy's scripting model. The seed's `add_header.py`,
//!
//! ```python
//! def response(context, flow):
//!     flow.response.headers["newheader"] = ["foo"]
//! ```
//!
//! reads in Rust as:
//!
//! ```
//! use waylay_sdk::{Context, Flow, Script};
//!
//! #[derive(Default)]
//! struct AddHeader;
//!
//! impl Script for AddHeader {
//!     fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
//!         if let Some(response) = flow.response_mut() {
//!             response.headers_mut().set("newheader", "foo");
//!         }
//!     }
//! }
//!
//! waylay_sdk::export_script!(AddHeader);
//! ```
//!
//! with this `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "add_header"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//!
//! [dependencies]
//! waylay-sdk = "0.7"
//! ```
//!
//! The runner pins `waylay-sdk` to the copy it carries when it builds a
//! script, so the version in `Cargo.toml` only has to match. This crate's
//! minor version is its ABI version ([`abi::ABI_VERSION`]): a script asking
//! for `"0.7"` builds with every runner whose SDK is 0.7.x. `runner new NAME` writes
//! such a crate, with a snapshot test over a saved flow.
//!
//! # What this crate is not
//! It has no dependencies and knows nothing of sockets, TLS or async: the
//! host owns the flow, and the types here are views into it, valid for one
//! hook call. Hooks are plain synchronous calls; waiting and threads belong
//! to the host.
#![deny(missing_docs)]

mod boundary;
mod certificate;
mod concurrent;
mod connection;
mod context;
mod cookie;
mod error;
mod filter;
mod flow;
mod headers;
mod message;
mod options;
mod pairs;
mod script;
mod tcp;
mod tls;
mod websocket;

#[doc(hidden)]
pub use boundary::abi;
#[doc(hidden)]
pub use boundary::export as __export;
pub use certificate::Certificate;
pub use concurrent::Concurrent;
pub use connection::Connection;
pub use context::{Context, FlowCopy, Level};
pub use cookie::SetCookie;
pub use error::Error;
pub use filter::{Filter, FilterError};
pub use flow::{Flow, FlowError, FlowKind};
pub use headers::Headers;
pub use message::{Message, Request, Response};
pub use options::{OptionKind, ScriptOption};
pub use pairs::{Pairs, PairsMut};
pub use script::Script;
pub use tcp::{Tcp, TcpMessage, TcpMessageMut};
pub use tls::{ClientHello, TlsData};
pub use websocket::{WebSocket, WebSocketMessage, WebSocketMessageMut};
