//! [`ReadBack`]: why a flow could not be read back from the session file.

use std::io;

/// Why a flow could not be read back from the session file.
#[derive(Debug)]
pub enum ReadBack {
    /// No flow has that number.
    NoSuchFlow(usize),
    /// The file could not be read.
    Io(io::Error),
    /// The bytes there are not a sound flow: a damaged capture browsed in
    /// place (its index reads only a row's fields), or a file changed
    /// under us.
    Corrupt(String),
}

impl std::fmt::Display for ReadBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadBack::NoSuchFlow(n) => write!(f, "there is no flow {n} in this session"),
            ReadBack::Io(e) => write!(f, "cannot read the session file: {e}"),
            ReadBack::Corrupt(e) => write!(
                f,
                "this flow is damaged in the file ({e}); the other flows can still be read"
            ),
        }
    }
}

impl std::error::Error for ReadBack {}
