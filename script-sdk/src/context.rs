//! [`Context`]: what a hook can do besides changing the flow (the seed's
//! ScriptContext).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use crate::abi;
use crate::boundary::host::CtxHandle;
use crate::{Error, Flow};

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

/// The host, as a hook sees it: logging through the runner's output,
/// options, and the seed's `duplicate_flow` and `replay_request`
/// ([`duplicate`](Context::duplicate), [`replay`](Context::replay)).
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

    /// Copies the flow, as it is now, under a new id (the seed's
    /// `duplicate_flow`, mitmproxy's `flow.copy()` added to the view).
    ///
    /// The copy can be read and changed like the hook's own flow until the
    /// hook returns. Then it joins the run as a finished flow: the other
    /// scripts see it (the events of a flow read from a file:
    /// `request_headers`, `request`, then `response_headers` and
    /// `response` or `error`), it is shown, and `-w` writes it. The script
    /// that made it does not see it again, the rewriting options (`-S`,
    /// `map_remote`, ...) do not act on it twice, and hooks running for a
    /// copy cannot make copies or replays (two scripts copying each other's
    /// copies would never end). A hook that panics leaves no copy behind.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn response(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         // Keep a copy with the body as the server sent it.
    ///         if let Ok(mut copy) = ctx.duplicate(flow) {
    ///             copy.set_comment("as the server sent it");
    ///         }
    ///         if let Some(resp) = flow.response_mut() {
    ///             resp.set_raw_content("rewritten");
    ///         }
    ///     }
    /// }
    /// ```
    pub fn duplicate(&self, flow: &Flow) -> Result<FlowCopy<'_>, Error> {
        let handle = self
            .handle
            .duplicate(flow.handle())
            .map_err(Error::from_host)?;
        Ok(FlowCopy {
            flow: Flow::new(handle),
            _ctx: PhantomData,
        })
    }

    /// Sends the flow's request again, as it is now, as a new flow (the
    /// seed's `replay_request`, mitmproxy's `replay.client`).
    ///
    /// The new flow has its own id and `is_replay` `"request"`
    /// ([`Flow::is_replay`]); it goes to the server the request names and
    /// through every script's hooks like a flow from a client, and `-w`
    /// writes it. This never waits for the network: the request leaves
    /// after the hook returns, one at a time unless `--set
    /// client_replay_concurrency=-1`. It needs the network offline too
    /// (`-n`), and a replay that cannot reach its server ends as a flow
    /// with an error saying so. Refused for flows that are not HTTP, are
    /// WebSocket connections, or whose request body was streamed rather
    /// than kept.
    ///
    /// To replay a changed request without changing the flow at hand, change
    /// a [`duplicate`](Context::duplicate) and replay that (mitmproxy's
    /// `duplicate-modify-replay` example). A replayed copy is sent as the
    /// hook leaves it, under the copy's id, and joins the run as that
    /// replay only (not also as a copy):
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn request(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if flow.is_replay() == Some("request") {
    ///             return;
    ///         }
    ///         let Ok(mut copy) = ctx.duplicate(flow) else { return };
    ///         copy.request_mut().set_path("/changed");
    ///         if let Err(e) = ctx.replay(&copy) {
    ///             ctx.warn(&format!("cannot replay: {e}"));
    ///         }
    ///     }
    /// }
    /// ```
    pub fn replay(&self, flow: &Flow) -> Result<(), Error> {
        self.handle.replay(flow.handle()).map_err(Error::from_host)
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

/// A copy of a flow made by [`Context::duplicate`]: a [`Flow`] to read and
/// change until the hook returns, when the copy joins the run.
///
/// ```
/// # use waylay_sdk::{Context, Flow};
/// fn tag_copy(ctx: &Context, flow: &Flow) {
///     if let Ok(mut copy) = ctx.duplicate(flow) {
///         assert_ne!(copy.id(), flow.id());
///         copy.set_marked(":copy:");
///     }
/// }
/// ```
#[derive(Debug)]
pub struct FlowCopy<'ctx> {
    flow: Flow,
    _ctx: PhantomData<&'ctx Context>,
}

impl Deref for FlowCopy<'_> {
    type Target = Flow;

    fn deref(&self) -> &Flow {
        &self.flow
    }
}

impl DerefMut for FlowCopy<'_> {
    fn deref_mut(&mut self) -> &mut Flow {
        &mut self.flow
    }
}
