//! [`Error`]: why the host refused a change.

use std::fmt;

/// The host refused a change: killing a flow read from a file, a body that
/// cannot be encoded, a host name that is not UTF-8, and the like.
///
/// ```
/// # use waylay_sdk::{Context, Flow};
/// fn drop_ads(ctx: &Context, flow: &mut Flow) {
///     if let Err(e) = flow.kill() {
///         ctx.warn(&format!("cannot kill: {e}"));
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    msg: String,
}

impl Error {
    pub(crate) fn from_host(msg: Vec<u8>) -> Error {
        Error {
            msg: String::from_utf8_lossy(&msg).into_owned(),
        }
    }

    pub(crate) fn new(msg: String) -> Error {
        Error { msg }
    }

    /// What the host said.
    ///
    /// ```
    /// # fn f(e: waylay_sdk::Error) {
    /// eprintln!("{}", e.message());
    /// # }
    /// ```
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}
