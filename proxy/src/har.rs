//! HAR (HTTP Archive 1.2) files, as mitmproxy 11 writes and reads them:
//! [`HarDump`] is its `savehar` addon (`hardump`, `save.har`) and
//! [`read_har`] its `io/har.py` (what `mitmdump -r FILE.har` loads).
//!
//! Export serialises each entry when its flow is added, so a run of any
//! length keeps one string per flow and [`HarDump::finish`] only
//! concatenates. The JSON is written as Python's `json.dumps(indent=4)`
//! writes it (ASCII only, floats as `repr`), so a HAR from Waylay and one
//! from mitmdump differ only where the flows do.
//!
//! Import builds flows in mitmproxy's layout, with its defaults (loopback
//! client, a server address only when the entry names one, HTTP versions
//! normalised), which `FlowWriter` writes and mitmproxy reads back. No I/O
//! here beyond the `Write` that `finish` is given.

use std::fmt;

mod export;
mod import;
mod json;
mod text;

pub use export::HarDump;
pub use import::{HarEntries, is_har, read_har};

/// Why a HAR file could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarError {
    /// The bytes are not JSON (or not UTF-8).
    Json {
        /// serde_json's reason, with line and column.
        reason: String,
    },
    /// The document has no `log.entries` list.
    NoEntries,
    /// An entry lacks a field mitmproxy requires, or has it in the wrong
    /// type.
    Field {
        /// The entry's index in `log.entries`, from 0.
        entry: usize,
        /// The field's path in the entry, as `request.headers[2].name`.
        field: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// A field is present but its value is unusable.
    Value {
        /// The entry's index in `log.entries`, from 0.
        entry: usize,
        /// The field's path in the entry.
        field: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for HarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarError::Json { reason } => write!(
                f,
                "this looks like a HAR file but is not valid JSON ({reason}); \
                 was it cut short? export it again from the browser or tool that wrote it"
            ),
            HarError::NoEntries => write!(
                f,
                "this JSON is not a HAR file: it has no log.entries list; \
                 Waylay reads HAR 1.2 files and mitmproxy flow files"
            ),
            HarError::Field {
                entry,
                field,
                expected,
            } => write!(
                f,
                "HAR entry {entry}: {field} is missing or not {expected}; \
                 fix or remove that entry (mitmproxy refuses it too)"
            ),
            HarError::Value {
                entry,
                field,
                reason,
            } => write!(
                f,
                "HAR entry {entry}: {field}: {reason}; fix or remove that entry (mitmproxy refuses it too)"
            ),
        }
    }
}

impl std::error::Error for HarError {}

#[cfg(test)]
mod tests;
