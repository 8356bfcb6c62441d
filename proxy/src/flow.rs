//! [`Flow`]: one flow as mitmproxy's flow files hold it, with typed access to
//! the fields Waylay models and every other field kept as it was read.

use std::fmt;

use crate::http::{self, Which};
use crate::tnetstring::{Dict, Item, Node as _, Value};

mod copy;
pub mod spill;
pub mod tcp;
pub mod websocket;

pub use copy::new_id;

/// The flow format version Waylay reads and writes (mitmproxy 11–13).
pub const FORMAT_VERSION: i64 = 21;

/// One flow: the top-level dict of a flow file entry.
///
/// The dict is the single source of truth: typed accessors read and write
/// it in place, so fields Waylay does not model survive untouched and an
/// unchanged flow serializes to the bytes it was read from.
#[derive(Clone, PartialEq)]
pub struct Flow {
    root: Value,
    /// Request and response bodies to stream rather than keep (live only;
    /// not part of the file).
    streaming: [bool; 2],
    /// A long-lived stream's older messages, out of memory (live only;
    /// written in their place).
    spill: Option<Box<spill::Spill>>,
    /// A live stream's messages relayed without being kept, because
    /// nothing would ever read them (live only; see `live::keep`).
    unkept: usize,
}

/// What kind of flow (`type` in the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// An HTTP flow (maybe with a WebSocket).
    Http,
    /// A raw TCP flow.
    Tcp,
    /// A UDP flow.
    Udp,
    /// A DNS flow.
    Dns,
    /// A type this version does not know; passed through.
    Other,
}

impl Flow {
    /// Wraps a top-level dict. The reader has checked it is a dict.
    pub fn from_value(root: Value) -> Option<Flow> {
        root.as_dict().is_some().then_some(Flow {
            root,
            streaming: [false; 2],
            spill: None,
            unkept: 0,
        })
    }

    /// A flow with nothing in it, to hold a place.
    #[cfg(feature = "live")]
    pub(crate) fn empty() -> Flow {
        Flow {
            root: Value::Dict(Default::default()),
            streaming: [false; 2],
            spill: None,
            unkept: 0,
        }
    }

    /// Keeps the flow in its file form, for a flow that is about to sit
    /// (an idle WebSocket): the bytes `-w` would hold take about a third
    /// of the memory of the built dicts, and each dict is built again
    /// only when something reads it. A flow with spilled messages is left
    /// as it is.
    #[cfg(feature = "live")]
    pub(crate) fn compact(&mut self) {
        if self.spill.is_none() {
            self.root = self.root.file_form();
        }
    }

    /// The underlying value, for writing: without the messages in the
    /// [`spill`](Flow::spill), if there is one.
    pub fn as_value(&self) -> &Value {
        &self.root
    }

    /// The top-level dict.
    pub fn dict(&self) -> &Dict {
        self.root.as_dict().expect("a flow is always a dict")
    }

    /// The top-level dict, to change.
    pub fn dict_mut(&mut self) -> &mut Dict {
        self.root.as_dict_mut().expect("a flow is always a dict")
    }

    /// The kind, from `type`.
    pub fn kind(&self) -> FlowKind {
        match self.text("type") {
            Some("http") => FlowKind::Http,
            Some("tcp") => FlowKind::Tcp,
            Some("udp") => FlowKind::Udp,
            Some("dns") => FlowKind::Dns,
            _ => FlowKind::Other,
        }
    }

    /// The `type` text as written.
    pub fn kind_name(&self) -> &str {
        self.text("type").unwrap_or("?")
    }

    /// The flow's id.
    pub fn id(&self) -> &str {
        self.text("id").unwrap_or("")
    }

    /// A top-level text field. A flow still in its file form (one read
    /// lazily, or kept compact while it sits) is read without building
    /// its dict.
    pub fn text(&self, key: &str) -> Option<&str> {
        let dict = self.dict();
        match dict.unbuilt() {
            Some(raw) => Item::first(raw)?.0.get(key)?.str(),
            None => dict.get(key).and_then(Value::as_str),
        }
    }

    /// The request or response dict, if present (not null).
    pub fn message(&self, which: Which) -> Option<&Dict> {
        self.dict().get(which.key()).and_then(Value::as_dict)
    }

    /// The request or response dict, to change.
    pub fn message_mut(&mut self, which: Which) -> Option<&mut Dict> {
        self.dict_mut()
            .get_mut(which.key())
            .and_then(Value::as_dict_mut)
    }

    /// The request.
    pub fn request(&self) -> Option<&Dict> {
        self.message(Which::Request)
    }

    /// The response.
    pub fn response(&self) -> Option<&Dict> {
        self.message(Which::Response)
    }

    /// The error message, if the flow has an error.
    pub fn error_msg(&self) -> Option<&str> {
        self.dict()
            .get("error")
            .and_then(Value::as_dict)
            .and_then(|e| e.get("msg"))
            .and_then(Value::as_str)
    }

    /// Whether a message's body is to be streamed (see `Message::stream`
    /// in the SDK).
    pub fn streaming(&self, which: Which) -> bool {
        self.streaming[which as usize]
    }

    /// Chooses streaming for a message's body.
    pub fn set_streaming(&mut self, which: Which, stream: bool) {
        self.streaming[which as usize] = stream;
    }

    /// Records an error on the flow, as mitmproxy's `Error(msg)` does.
    pub fn set_error(&mut self, msg: &str, timestamp: f64) {
        let mut error = Dict::new();
        error.push("msg", Value::text(msg));
        error.push("timestamp", Value::Float(timestamp));
        self.dict_mut().insert("error", Value::Dict(error.into()));
    }

    /// Sets `metadata[key]` (making `metadata` a dict first if it is not
    /// one), as an addon marks the flows it acted on.
    pub fn set_metadata(&mut self, key: &str, value: Value) {
        let dict = self.dict_mut();
        if !matches!(dict.get("metadata"), Some(Value::Dict(_))) {
            dict.insert("metadata", Value::Dict(Default::default()));
        }
        if let Some(meta) = dict.get_mut("metadata").and_then(Value::as_dict_mut) {
            meta.insert(key, value);
        }
    }

    /// The client (`client_conn`) or server (`server_conn`) connection dict.
    pub fn conn(&self, key: &str) -> Option<&Dict> {
        self.dict().get(key).and_then(Value::as_dict)
    }

    /// Replaces the response with a fresh one, as mitmproxy's
    /// `Response.make(status)` builds it (no body yet).
    pub fn set_new_response(&mut self, status: u16, now: f64) {
        let response = http::new_response(status, now);
        self.dict_mut()
            .insert("response", Value::Dict(response.into()));
    }
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("type", &self.kind_name())
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}
