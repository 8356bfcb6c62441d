//! mitmproxy's everyday rewriting options as host-side addons:
//! `block_list`, `anticache`, `anticomp` (which run before the scripts,
//! where mitmproxy lists them), then, after the scripts, server replay,
//! `map_remote`, `map_local`, `modify_body`, `modify_headers`,
//! `stickyauth`, `stickycookie`, in mitmproxy 11's order.
//!
//! The rules (`block_list` and the four map and modify options, [`Rules`])
//! can be swapped while flows pass ([`Addons::set_rules`]): the web view's
//! rules table takes effect at once, as `--set` would have. The others
//! keep state (sticky cookies, the replay queue) and stay as started.
//!
//! They hang off [`Scripts`](crate::script::Scripts), the one dispatch
//! point, so live and offline flows reach them the same way. Each does
//! for flows read from a file what its mitmproxy counterpart does: the
//! map and modify addons skip flows that are not live; the others act.
//! Specs are checked once, at start-up ([`Addons::new`]); a malformed one
//! is a [`SpecError`] naming the option and the broken part.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::event::{Event, Level, LogSink};
use crate::flow::Flow;

mod anti;
mod block_list;
mod map_local;
mod map_remote;
mod mimetypes;
mod modify;
mod server_replay;
pub(crate) mod spec;
mod sticky;

pub use server_replay::{Extra, ReplayFlows, ReplayOptions};

/// The rewriting options, as `--set` (or mitmdump's flags) give them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `[/filter]/url-regex/replacement`, repeatable.
    pub map_remote: Vec<String>,
    /// `[/filter]/url-regex/file-or-directory`, repeatable.
    pub map_local: Vec<String>,
    /// `[/filter]/name/[@]value`, repeatable.
    pub modify_headers: Vec<String>,
    /// `[/filter]/regex/[@]replacement`, repeatable.
    pub modify_body: Vec<String>,
    /// `/filter/status`, repeatable.
    pub block_list: Vec<String>,
    /// Strip If-Modified-Since and If-None-Match from requests.
    pub anticache: bool,
    /// Ask servers for uncompressed responses.
    pub anticomp: bool,
    /// A filter: requests it matches get the cookies responses set.
    pub stickycookie: Option<String>,
    /// A filter: requests it matches get the Authorization last seen for
    /// their host.
    pub stickyauth: Option<String>,
    /// Server replay (`-S`): the flows read and the `server_replay_*`
    /// options.
    pub server_replay: ReplayOptions,
}

/// A malformed spec: which option, which spec, what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    option: &'static str,
    spec: String,
    problem: String,
}

impl SpecError {
    fn new(option: &'static str, spec: &str, problem: impl Into<String>) -> SpecError {
        SpecError {
            option,
            spec: spec.to_owned(),
            problem: problem.into(),
        }
    }

    /// The option (`map_remote`, ...).
    pub fn option(&self) -> &str {
        self.option
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: ", self.option, self.spec)?;
        // The problem may quote the spec's own text (a regex's error, a
        // group's name): control characters are escaped to keep one line.
        for c in self.problem.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// What every spec parser shares: the parts, or the error naming them.
fn split(option: &'static str, spec: &str, shape: &str) -> Result<spec::Parts, SpecError> {
    spec::parse_spec(spec).map_err(|problem| {
        let what = match problem {
            spec::SpecProblem::Empty => "it is empty".to_owned(),
            spec::SpecProblem::Parts(n) => format!(
                "{n} part(s) where 2 or 3 are expected; the form is {shape}, split on its first character"
            ),
            spec::SpecProblem::Filter(e) => format!("its filter part: {e}"),
        };
        SpecError::new(option, spec, what)
    })
}

/// One addon: the events it acts on, and what it does.
pub(crate) trait Addon: Send + Sync + fmt::Debug {
    fn name(&self) -> &'static str;
    fn wants(&self, event: Event) -> bool;
    fn event(&self, event: Event, flow: &mut Flow, live: bool, log: &dyn LogSink);

    /// `event` for an addon that may kill the flow (mitmproxy's
    /// `flow.kill()`, live only): whether it did. The flow's error is the
    /// addon's to set.
    fn event_may_kill(&self, event: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) -> bool {
        self.event(event, flow, live, log);
        false
    }
}

/// The addons of a run, in mitmproxy's order around the scripts.
#[derive(Debug, Default)]
pub struct Addons {
    /// `anticache`, `anticomp`: after the rules' `block_list`.
    before: Vec<Box<dyn Addon>>,
    /// Server replay, when `-S` is given: before the rules' rewriting.
    replay: Option<Box<dyn Addon>>,
    /// `stickyauth`, `stickycookie`: after the rules' rewriting.
    after: Vec<Box<dyn Addon>>,
    /// The rules, swapped whole.
    rules: arc_swap::ArcSwap<Rules>,
}

/// The options that can change while flows pass: `block_list` (before
/// the scripts), and `map_remote`, `map_local`, `modify_body`,
/// `modify_headers` (after them), each checked when built.
#[derive(Debug, Default)]
pub struct Rules {
    block: Vec<Box<dyn Addon>>,
    rewrite: Vec<Box<dyn Addon>>,
}

impl Rules {
    /// Checks the rule options' specs (the others in `options` are not
    /// read) and builds them.
    pub fn new(options: &Options) -> Result<Rules, SpecError> {
        let mut rules = Rules::default();
        if !options.block_list.is_empty() {
            rules
                .block
                .push(Box::new(block_list::BlockList::new(&options.block_list)?));
        }
        if !options.map_remote.is_empty() {
            rules
                .rewrite
                .push(Box::new(map_remote::MapRemote::new(&options.map_remote)?));
        }
        if !options.map_local.is_empty() {
            rules
                .rewrite
                .push(Box::new(map_local::MapLocal::new(&options.map_local)?));
        }
        if !options.modify_body.is_empty() {
            rules
                .rewrite
                .push(Box::new(modify::ModifyBody::new(&options.modify_body)?));
        }
        if !options.modify_headers.is_empty() {
            rules.rewrite.push(Box::new(modify::ModifyHeaders::new(
                &options.modify_headers,
            )?));
        }
        Ok(rules)
    }

    fn is_empty(&self) -> bool {
        self.block.is_empty() && self.rewrite.is_empty()
    }
}

/// Seconds since the epoch, for the responses and errors addons make.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Which side of the scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    BeforeScripts,
    AfterScripts,
}

impl Addons {
    /// Checks every spec and builds the addons the options ask for.
    pub fn new(options: &Options) -> Result<Addons, SpecError> {
        let mut addons = Addons {
            rules: arc_swap::ArcSwap::from_pointee(Rules::new(options)?),
            ..Addons::default()
        };
        if !options.server_replay.flows.is_empty() {
            // After the scripts, first: serverplayback precedes mapremote.
            addons.replay = Some(Box::new(server_replay::ServerReplay::new(
                &options.server_replay,
            )));
        }
        if options.anticache {
            addons.before.push(Box::new(anti::AntiCache));
        }
        if options.anticomp {
            addons.before.push(Box::new(anti::AntiComp));
        }
        if let Some(filter) = options.stickyauth.as_deref().filter(|f| !f.is_empty()) {
            addons
                .after
                .push(Box::new(sticky::StickyAuth::new(filter)?));
        }
        if let Some(filter) = options.stickycookie.as_deref().filter(|f| !f.is_empty()) {
            addons
                .after
                .push(Box::new(sticky::StickyCookie::new(filter)?));
        }
        Ok(addons)
    }

    /// Puts `rules` in place of the rules: flows from now on see them.
    pub fn set_rules(&self, rules: Rules) {
        self.rules.store(std::sync::Arc::new(rules));
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.before.is_empty()
            && self.replay.is_none()
            && self.after.is_empty()
            && self.rules.load().is_empty()
    }

    /// Whether any addon acts on `event`.
    pub fn wants(&self, event: Event) -> bool {
        let rules = self.rules.load();
        self.before
            .iter()
            .chain(&self.replay)
            .chain(&self.after)
            .chain(&rules.block)
            .chain(&rules.rewrite)
            .any(|a| a.wants(event))
    }

    /// Runs the addons of one stage; whether one killed the flow. An addon
    /// that panics (a bug) is reported and leaves the rest of the stage to
    /// run.
    pub(crate) fn run(
        &self,
        stage: Stage,
        event: Event,
        flow: &mut Flow,
        live: bool,
        log: &dyn LogSink,
    ) -> bool {
        let mut killed = false;
        let rules = self.rules.load();
        let in_order: [&[Box<dyn Addon>]; 3] = match stage {
            Stage::BeforeScripts => [&rules.block, &self.before, &[]],
            Stage::AfterScripts => [self.replay.as_slice(), &rules.rewrite, &self.after],
        };
        for addon in in_order.into_iter().flatten().filter(|a| a.wants(event)) {
            let ran = catch_unwind(AssertUnwindSafe(|| {
                addon.event_may_kill(event, flow, live, log)
            }));
            killed |= matches!(ran, Ok(true));
            if ran.is_err() {
                log.log(
                    addon.name(),
                    Level::Error,
                    &format!(
                        "panicked on flow {} in `{}`; please report it",
                        flow.id(),
                        event.hook_name()
                    ),
                );
            }
        }
        killed
    }
}

#[cfg(test)]
mod tests;
