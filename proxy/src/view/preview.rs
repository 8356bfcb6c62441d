//! A script over chosen flows, previewed before it is applied (the seed's
//! one-shot script, mitmproxy's `script.run`): each flow's events run in
//! the offline order on a copy, the copies that changed are kept in a
//! session file of their own, and [`Preview::apply`] puts them in the view
//! while dropping the preview leaves everything as it was.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value as Json, json};

use super::{Invalid, ReadBack, Session, compare};
use crate::filter::Filter;
use crate::flow::Flow;
use crate::script::Scripts;
use crate::tnetstring::Value;

/// The mark a flow gets when a hook panicked on it (mitmproxy's red
/// circle).
pub const PANIC_MARK: &str = ":red_circle:";

/// Which flows a run takes.
#[derive(Debug)]
pub enum Selection {
    /// These flows of the view, by number, in this order.
    Numbers(Vec<usize>),
    /// Every flow the view shows that the filter matches, in view order.
    Matching(Filter),
}

/// What the page asks to run: a script crate (or one of the `-s`
/// scripts), its argv, and the flows.
#[derive(Debug)]
pub struct Request {
    /// The script crate's directory, or a built library.
    pub script: String,
    /// The words `start` gets, as after `-s DIR`.
    pub argv: Vec<String>,
    /// The flows.
    pub selection: Selection,
}

impl Request {
    /// Reads `{"script": PATH, "argv": [..], "flows": [N, ..]}` or
    /// `{"script": PATH, "filter": EXPR}`; why not, in one line.
    pub fn from_json(body: &Json) -> Result<Request, Invalid> {
        let Some(fields) = body.as_object() else {
            return Err(Invalid::Whole("expected a JSON object: {\"script\": PATH, \"flows\": [N, ...]} or {\"script\": PATH, \"filter\": EXPR}".into()));
        };
        let script = match fields.get("script").and_then(Json::as_str).map(str::trim) {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => return Err(Invalid::at("script", "expected the path of a script crate")),
        };
        let argv = match fields.get("argv") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(words)) => words
                .iter()
                .map(|w| w.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or(Invalid::at("argv", "expected a list of words"))?,
            Some(_) => return Err(Invalid::at("argv", "expected a list of words")),
        };
        let selection = match (fields.get("flows"), fields.get("filter")) {
            (Some(Json::Array(ns)), None) => Selection::Numbers(
                ns.iter()
                    .map(|n| n.as_u64().and_then(|n| usize::try_from(n).ok()))
                    .collect::<Option<_>>()
                    .ok_or(Invalid::at("flows", "expected flow numbers"))?,
            ),
            (None, Some(Json::String(text))) => {
                Selection::Matching(Filter::parse(text.trim()).map_err(|e| {
                    let why = format!("{} (at character {})", e.reason(), e.position());
                    Invalid::at("filter", why)
                })?)
            }
            (Some(_), Some(_)) => {
                return Err(Invalid::Whole("give flows or filter, not both".into()));
            }
            (Some(_), None) => return Err(Invalid::at("flows", "expected a list of flow numbers")),
            (None, Some(_)) => return Err(Invalid::at("filter", "expected a filter expression")),
            (None, None) => {
                return Err(Invalid::Whole(
                    "expected flows: [N, ...] or filter: EXPR, the flows to run on".into(),
                ));
            }
        };
        Ok(Request {
            script,
            argv,
            selection,
        })
    }
}

/// How far a run is, for the page; set `cancel` to stop it.
#[derive(Debug, Default)]
pub struct Progress {
    /// Flows looked at so far.
    pub done: AtomicUsize,
    /// Flows to look at (the view's count for a filter).
    pub total: AtomicUsize,
    /// Set to stop the run after the flow in hand.
    pub cancel: AtomicBool,
}

/// One flow the script changed, or panicked on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The flow's number in the view.
    pub n: usize,
    /// Its new version's number in the preview's own session; `None` when
    /// only a panic is to be recorded.
    pub at: Option<usize>,
    /// What differs (`request headers`, `response body`, ...).
    pub differs: Vec<&'static str>,
    /// What the panicking hook said.
    pub panic: Option<String>,
    /// Where the flow was in the view's file when it was read: a flow
    /// edited since is not overwritten by [`Preview::apply`].
    offset: u64,
}

/// What a script would do to the flows: held until applied or dropped.
pub struct Preview {
    after: Session,
    /// The flows the script changed or panicked on, in run order.
    pub changes: Vec<Change>,
    /// How many flows the script ran on.
    pub ran: usize,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preview")
            .field("changes", &self.changes.len())
            .field("ran", &self.ran)
            .finish_non_exhaustive()
    }
}

/// What [`Preview::apply`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Flows put in the view as the script left them (or marked).
    pub applied: usize,
    /// Flows left alone: edited, reverted or deleted since the preview.
    pub skipped: usize,
}

/// Runs `scripts` over the selected flows of `session`, each flow's events
/// in the offline order ([`crate::offline::replay_events`]), on copies.
/// `last_panic` gives what the latest panicking hook said. `None` when
/// cancelled.
pub fn run(
    scripts: &Scripts,
    session: &Session,
    selection: &Selection,
    progress: &Progress,
    last_panic: &dyn Fn() -> Option<String>,
) -> Result<Option<Preview>, ReadBack> {
    let numbers: Vec<usize> = match selection {
        Selection::Numbers(ns) => ns.clone(),
        Selection::Matching(_) => (0..session.len()).collect(),
    };
    progress.total.store(numbers.len(), Ordering::Relaxed);
    let after = Session::temporary().map_err(ReadBack::Io)?;
    let mut preview = Preview {
        after,
        changes: Vec::new(),
        ran: 0,
    };
    for (i, &n) in numbers.iter().enumerate() {
        if progress.cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        progress.done.store(i, Ordering::Relaxed);
        let Some(row) = session.row(n) else {
            return Err(ReadBack::NoSuchFlow(n));
        };
        if row.deleted {
            continue;
        }
        let before = session.flow(n)?;
        if let Selection::Matching(filter) = selection
            && !filter.matches(&before)
        {
            continue;
        }
        preview.ran += 1;
        let mut flow = before.clone();
        let panics = scripts.panics();
        crate::offline::replay_events(scripts, &mut flow);
        let panic = (scripts.panics() > panics)
            .then(|| last_panic().unwrap_or_else(|| "a hook panicked".into()));
        if flow == before && panic.is_none() {
            continue;
        }
        let (at, differs) = if flow == before {
            (None, Vec::new())
        } else {
            let differs = compare::differences(&before, &flow);
            (
                Some(preview.after.append(&flow).map_err(ReadBack::Io)?),
                differs,
            )
        };
        preview.changes.push(Change {
            n,
            at,
            differs,
            panic,
            offset: row.offset,
        });
    }
    progress.done.store(numbers.len(), Ordering::Relaxed);
    Ok(Some(preview))
}

impl Preview {
    /// How many flows the script changed.
    pub fn changed(&self) -> usize {
        self.changes.iter().filter(|c| c.at.is_some()).count()
    }

    /// How many flows a hook panicked on.
    pub fn panicked(&self) -> usize {
        self.changes.iter().filter(|c| c.panic.is_some()).count()
    }

    /// The flow as the script left it: before and after, compared
    /// ([`compare::flows`]), for change `i`.
    pub fn diff(&self, session: &Session, i: usize) -> Result<Option<Json>, ReadBack> {
        let Some(change) = self.changes.get(i) else {
            return Ok(None);
        };
        let before = session.flow(change.n)?;
        let after = self.after_of(change, || Ok(before.clone()))?;
        let mut diff = compare::flows(&before, &after);
        diff["panic"] = json!(change.panic);
        Ok(Some(diff))
    }

    /// Change `change`'s flow as it would be applied; `before` gives the
    /// flow as it is, read only when the script left it unchanged.
    fn after_of(
        &self,
        change: &Change,
        before: impl FnOnce() -> Result<Flow, ReadBack>,
    ) -> Result<Flow, ReadBack> {
        let mut after = match change.at {
            Some(at) => self.after.flow(at)?,
            None => before()?,
        };
        if change.panic.is_some() {
            after.dict_mut().insert("marked", Value::text(PANIC_MARK));
        }
        Ok(after)
    }

    /// Puts every changed flow in the view as the script left it (its
    /// first version is kept for revert), and marks every flow a hook
    /// panicked on. A flow edited, reverted or deleted since the preview
    /// is left alone.
    pub fn apply(&self, session: &Session) -> Result<Applied, ReadBack> {
        let mut applied = Applied::default();
        for change in &self.changes {
            let row = session
                .row(change.n)
                .ok_or(ReadBack::NoSuchFlow(change.n))?;
            if row.deleted || row.offset != change.offset {
                applied.skipped += 1;
                continue;
            }
            let after = self.after_of(change, || session.flow(change.n))?;
            session.replace(change.n, &after)?;
            applied.applied += 1;
        }
        Ok(applied)
    }

    /// The preview for the page: counts and the first `limit` changes.
    pub fn json(&self, limit: usize) -> Json {
        let changes: Vec<Json> = self
            .changes
            .iter()
            .take(limit)
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "i": i,
                    "n": c.n,
                    "changed": c.at.is_some(),
                    "differs": c.differs,
                    "panic": c.panic,
                })
            })
            .collect();
        json!({
            "ran": self.ran,
            "changed": self.changed(),
            "panicked": self.panicked(),
            "changes": changes,
            "listed": changes.len(),
        })
    }
}

#[cfg(test)]
mod tests;
