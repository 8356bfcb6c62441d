//! [`ReadBack`]: why a flow could not be read back from the session file;
//! [`Invalid`]: why what the page sent (an edit, a draft, a rule, a run)
//! cannot be taken.

use std::io;

/// Why what the page sent cannot be taken: where it is wrong and why, or
/// what the flow lacks. Nothing is changed when any part is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// One field (`request.url`, `rule 2: args`) or line (`line 3`) is
    /// not what it must be.
    At { at: String, why: String },
    /// The whole of it is not what the call takes (what it should be).
    Whole(String),
    /// The flow lacks what the change needs (`response`, `request to
    /// compose from`).
    Missing(&'static str),
}

impl Invalid {
    /// A field or line that is not what it must be.
    pub fn at(at: impl Into<String>, why: impl Into<String>) -> Invalid {
        Invalid::At {
            at: at.into(),
            why: why.into(),
        }
    }

    /// The same, one level further in (`rule 2` around `args: …`).
    pub fn within(self, outer: &str) -> Invalid {
        match self {
            Invalid::At { at, why } => Invalid::at(format!("{outer}: {at}"), why),
            Invalid::Whole(why) => Invalid::at(outer, why),
            missing => missing,
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::At { at, why } => write!(f, "{at}: {why}"),
            Invalid::Whole(why) => f.write_str(why),
            Invalid::Missing(what) => write!(f, "this flow has no {what}"),
        }
    }
}

impl std::error::Error for Invalid {}

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
