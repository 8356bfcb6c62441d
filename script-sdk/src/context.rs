//! [`Context`]: what a hook can do besides changing the flow (the seed's
//! ScriptContext).

use crate::abi;
use crate::boundary::host::CtxHandle;

/// Severity of a log line.
///
/// ```
/// # use waylay_sdk::{Context, Level};
/// fn note(ctx: &Context) {
///     ctx.log(Level::Warn, "upstream is slow");
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Shown with `-v`.
    Debug,
    /// Shown unless `-q`.
    Info,
    /// Shown unless `-q`, marked as a warning.
    Warn,
    /// Always shown, marked as an error.
    Error,
}

/// The host, as a hook sees it: logging through the runner's output.
///
/// Lines are prefixed with the script's name.
///
/// ```
/// # use waylay_sdk::{Context, Flow, Script};
/// # #[derive(Default)] struct S;
/// impl Script for S {
///     fn request(&mut self, ctx: &Context, flow: &mut Flow) {
///         ctx.info(&format!("saw {}", flow.request().url()));
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Context {
    handle: CtxHandle,
}

impl Context {
    pub(crate) fn new(handle: CtxHandle) -> Context {
        Context { handle }
    }

    /// Writes `msg` at `level`.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Level};
    /// fn f(ctx: &Context) {
    ///     ctx.log(Level::Info, "hello");
    /// }
    /// ```
    pub fn log(&self, level: Level, msg: &str) {
        let level = match level {
            Level::Debug => abi::LEVEL_DEBUG,
            Level::Info => abi::LEVEL_INFO,
            Level::Warn => abi::LEVEL_WARN,
            Level::Error => abi::LEVEL_ERROR,
        };
        self.handle.log(level, msg);
    }

    /// The value of one of the script's options ([`Script::options`](crate::Script::options)):
    /// what `--set` gave, else its default. `None` for a name the script
    /// did not declare.
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// let tag = ctx.option("tag").unwrap_or("waylay");
    /// # }
    /// ```
    pub fn option(&self, name: &str) -> Option<&str> {
        self.handle.option(name)
    }

    /// An [`OptionKind::Bool`](crate::OptionKind::Bool) option.
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// let dry_run = ctx.option_bool("dry_run").unwrap_or(false);
    /// # }
    /// ```
    pub fn option_bool(&self, name: &str) -> Option<bool> {
        self.option(name).and_then(|v| v.parse().ok())
    }

    /// An [`OptionKind::Int`](crate::OptionKind::Int) option.
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// let delay = ctx.option_int("delay_ms").unwrap_or(0);
    /// # }
    /// ```
    pub fn option_int(&self, name: &str) -> Option<i64> {
        self.option(name).and_then(|v| v.parse().ok())
    }

    /// Writes `msg` at [`Level::Debug`].
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// ctx.debug("details");
    /// # }
    /// ```
    pub fn debug(&self, msg: &str) {
        self.log(Level::Debug, msg);
    }

    /// Writes `msg` at [`Level::Info`].
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// ctx.info("started");
    /// # }
    /// ```
    pub fn info(&self, msg: &str) {
        self.log(Level::Info, msg);
    }

    /// Writes `msg` at [`Level::Warn`].
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// ctx.warn("odd response");
    /// # }
    /// ```
    pub fn warn(&self, msg: &str) {
        self.log(Level::Warn, msg);
    }

    /// Writes `msg` at [`Level::Error`].
    ///
    /// ```
    /// # fn f(ctx: &waylay_sdk::Context) {
    /// ctx.error("cannot parse body");
    /// # }
    /// ```
    pub fn error(&self, msg: &str) {
        self.log(Level::Error, msg);
    }
}
