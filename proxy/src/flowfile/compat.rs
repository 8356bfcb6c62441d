//! Flows written by older mitmproxy versions (format 0.11 to 20), brought
//! to format 21 as mitmproxy 11's `io/compat.py` does: one small function
//! per version step ([`steps`]), applied in turn, then the flow rebuilt in
//! the exact form mitmproxy 11 writes a flow of format 21 ([`canonical`]),
//! so that `-w` rewrites an old file byte for byte as `mitmdump -n -r OLD
//! -w NEW` does.
//!
//! Where mitmproxy 11 fails on an old flow with a raw Python exception
//! (a `KeyError` on a missing field), this says which field is missing.
//! Where it cannot load old TCP flows at all (it gives them a `websocket`
//! field its TCP flows refuse), this leaves TCP flows without one.

use std::collections::HashMap;
use std::fmt;

use crate::tnetstring::{Dict, Value};

mod canonical;
mod steps;

/// A flow format version as files store it: a release tuple (`[0, 11,
/// 3]`, only the first two numbers count) up to mitmproxy 2, an integer
/// from 3.0 on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Release(i64, i64),
    Int(i64),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Release(a, b) => write!(f, "{a}.{b}"),
            Version::Int(v) => write!(f, "{v}"),
        }
    }
}

/// Why an old flow could not be brought to format 21.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompatError {
    /// No version mitmproxy 11 reads either (0.10 and older, 1 to 3, a
    /// release tuple it never wrote).
    Unreadable(Version),
    /// A version that is not a number or a list of numbers.
    BadVersion(String),
    /// The flow lacks what its version must have.
    Malformed { version: Version, what: String },
    /// A version newer than 21 (under a key only old files use).
    Newer(i64),
}

impl fmt::Display for CompatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompatError::Unreadable(v) => write!(
                f,
                "flow format version {v} is older than any mitmproxy 11 reads (0.11 and newer); \
                 open the file with the mitmproxy that wrote it and save it again"
            ),
            CompatError::BadVersion(what) => write!(
                f,
                "the flow's format version is {what}, not a number; is this a mitmproxy flow file?"
            ),
            CompatError::Malformed { version, what } => write!(
                f,
                "a flow of format version {version} {what}; the file is damaged or was not written by mitmproxy"
            ),
            CompatError::Newer(v) => write!(f, "flow format version {v} is newer than 21"),
        }
    }
}

impl std::error::Error for CompatError {}

/// The version stored in a flow, if it is one: `b"version"` first, then
/// `"version"`, as mitmproxy looks.
pub fn version(flow: &Dict) -> Result<Version, CompatError> {
    let value = flow
        .iter()
        .find(|(k, _)| matches!(k, Value::Bytes(b) if &b[..] == b"version"))
        .or_else(|| flow.iter().find(|(k, _)| k.as_bytes() == Some(b"version")))
        .map(|(_, v)| v);
    match value {
        Some(Value::Int(v)) => Ok(Version::Int(*v)),
        Some(list @ Value::List(_)) => match list.as_list().unwrap_or_default() {
            [Value::Int(a), Value::Int(b), ..] => Ok(Version::Release(*a, *b)),
            other => Err(CompatError::BadVersion(format!("the list {other:?}"))),
        },
        Some(other) => Err(CompatError::BadVersion(format!("{other:?}"))),
        None => Err(CompatError::BadVersion("missing".into())),
    }
}

/// What migrating keeps between flows, as mitmproxy's module-wide caches
/// do: ids given to old connections (so flows of one connection share
/// one), and WebSocket handshakes waiting for their WebSocket flow.
#[derive(Debug, Default)]
pub struct Migrator {
    client_ids: HashMap<String, String>,
    server_ids: HashMap<String, String>,
    handshakes: HashMap<String, Dict>,
}

impl Migrator {
    /// Brings `flow`, of an older format, to format 21, in the form
    /// mitmproxy 11 writes.
    pub fn migrate(&mut self, flow: Dict) -> Result<Dict, CompatError> {
        let mut flow = one_version(flow);
        // Each step moves the version on; a flow whose version does not
        // move (hand-made) stops here rather than looping.
        for _ in 0..64 {
            let version = version(&flow)?;
            match version {
                Version::Int(crate::flow::FORMAT_VERSION) => {
                    return canonical::flow(flow)
                        .map_err(|what| CompatError::Malformed { version, what });
                }
                Version::Int(v) if v > crate::flow::FORMAT_VERSION => {
                    return Err(CompatError::Newer(v));
                }
                _ => {}
            }
            let step = steps::step(version).ok_or(CompatError::Unreadable(version))?;
            flow = step(self, flow).map_err(|what| CompatError::Malformed { version, what })?;
        }
        Err(CompatError::Malformed {
            version: version(&flow)?,
            what: "keeps its version through the steps".into(),
        })
    }
}

/// `flow` with only the version entry mitmproxy reads (a bytes key before
/// a text one), so that each step's new version is the one read next.
fn one_version(flow: Dict) -> Dict {
    let is_version = |k: &Value| k.as_bytes() == Some(b"version");
    let versions = flow.iter().filter(|(k, _)| is_version(k)).count();
    if versions < 2 {
        return flow;
    }
    let keep_bytes = flow
        .iter()
        .any(|(k, _)| matches!(k, Value::Bytes(_)) && is_version(k));
    let mut kept = false;
    let mut out = Dict::with_capacity(flow.len());
    for (k, v) in flow.iter() {
        if is_version(k) {
            if kept || (keep_bytes && !matches!(k, Value::Bytes(_))) {
                continue;
            }
            kept = true;
        }
        out.push_entry(k.clone(), v.clone());
    }
    out
}

#[cfg(test)]
mod tests;
