//! The list's order: which flows a filter keeps and how a column sorts
//! them, kept on the server so that the page only asks for the rows it
//! shows.

use std::cmp::Ordering as Cmp;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::filter::Filter;

use super::Row;
use super::error::ReadBack;
use crate::flow::Flow;

/// What an order is built from: the session's rows and flows.
pub(super) trait Source {
    /// The rows from `from` on, copied.
    fn rows_from(&self, from: usize) -> Vec<Row>;
    /// Runs `f` over every row.
    fn with_rows<T>(&self, f: impl FnOnce(&[Row]) -> T) -> T;
    /// Flow `n`'s row.
    fn row(&self, n: usize) -> Option<Row>;
    /// The flow a row points at.
    fn read(&self, row: &Row) -> Result<Flow, ReadBack>;
    /// How many flows are not deleted.
    fn shown(&self) -> usize;
    /// Where a filter's progress goes.
    fn progress(&self) -> &Progress;
}

/// A column to sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Arrival (the session's order).
    Time,
    /// The request method.
    Method,
    /// The URL.
    Url,
    /// The response status.
    Status,
    /// The flow type.
    Type,
    /// The body size.
    Size,
    /// The duration.
    Duration,
}

impl SortKey {
    /// The column's name in the API (`time`, `method`, `url`, `status`,
    /// `type`, `size`, `duration`).
    pub fn parse(name: &str) -> Option<SortKey> {
        Some(match name {
            "time" | "" => SortKey::Time,
            "method" => SortKey::Method,
            "url" => SortKey::Url,
            "status" => SortKey::Status,
            "type" => SortKey::Type,
            "size" => SortKey::Size,
            "duration" => SortKey::Duration,
            _ => return None,
        })
    }

    fn compare(self, a: &Row, b: &Row) -> Cmp {
        match self {
            SortKey::Time => a.time.total_cmp(&b.time),
            SortKey::Method => a.method.cmp(&b.method),
            SortKey::Url => a.url.cmp(&b.url),
            SortKey::Status => a.status.cmp(&b.status),
            SortKey::Type => a.kind.cmp(&b.kind),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Duration => a
                .duration
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.duration.unwrap_or(f64::INFINITY)),
        }
    }
}

/// What the list shows: the flows `filter` matches, sorted by `sort`.
#[derive(Clone, Debug)]
pub struct Query {
    /// The filter; `None` keeps every flow.
    pub filter: Option<Filter>,
    /// The column.
    pub sort: SortKey,
    /// Largest first.
    pub descending: bool,
}

impl Query {
    /// Equal for queries that give the same order.
    pub(super) fn key(&self) -> String {
        format!(
            "{:?} {} {}",
            self.sort,
            self.descending,
            self.filter.as_ref().map_or("", |f| f.expression())
        )
    }
}

/// How far a filter over the session has got, for the page's progress.
#[derive(Debug, Default)]
pub struct Progress {
    /// Flows looked at.
    pub done: AtomicUsize,
    /// Flows to look at; 0 when no filter is running.
    pub total: AtomicUsize,
    /// Set to stop the running filter.
    pub cancel: AtomicBool,
}

/// Rows of the list, as the page asks for them.
#[derive(Debug)]
pub struct Window {
    /// Flows in the session.
    pub total: usize,
    /// Flows the filter keeps.
    pub matched: usize,
    /// The first row's place in the filtered list.
    pub start: usize,
    /// Each row: the flow's number, its row, and whether the highlight
    /// matches it.
    pub rows: Vec<(usize, Row, bool)>,
}

/// The filtered, sorted list of flow numbers for one [`Query`].
pub(super) struct Ordered {
    query: Query,
    /// Flows looked at so far (the session's first `seen`).
    seen: usize,
    /// Their numbers, in order.
    order: Vec<u32>,
}

impl Ordered {
    /// Whether this order is `query`'s.
    pub(super) fn answers(&self, query: &Query) -> bool {
        self.query.key() == query.key()
    }

    /// The order of every flow in the session; `None` when `stale` says
    /// a newer query came, or the page cancelled.
    pub(super) fn build(
        session: &impl Source,
        query: &Query,
        stale: &dyn Fn() -> bool,
    ) -> Result<Option<Ordered>, ReadBack> {
        let mut ordered = Ordered {
            query: query.clone(),
            seen: 0,
            order: Vec::new(),
        };
        Ok(ordered.catch_up(session, stale)?.map(|()| ordered))
    }

    /// Takes in the flows that arrived since the order was last used.
    pub(super) fn catch_up(
        &mut self,
        session: &impl Source,
        stale: &dyn Fn() -> bool,
    ) -> Result<Option<()>, ReadBack> {
        let fresh = session.rows_from(self.seen);
        if fresh.is_empty() {
            return Ok(Some(()));
        }
        let first = self.seen;
        let mut kept = Vec::with_capacity(fresh.len());
        let progress = session.progress();
        let filtering = self.query.filter.is_some() && fresh.len() > 1;
        if filtering {
            progress.cancel.store(false, Ordering::SeqCst);
            progress.done.store(0, Ordering::SeqCst);
            progress.total.store(fresh.len(), Ordering::SeqCst);
        }
        let result = (|| {
            for (i, row) in fresh.iter().enumerate() {
                if row.deleted {
                    continue;
                }
                if let Some(filter) = &self.query.filter {
                    if i % 256 == 0 {
                        if stale() || progress.cancel.load(Ordering::SeqCst) {
                            return Ok(None);
                        }
                        progress.done.store(i, Ordering::Relaxed);
                    }
                    if !filter.matches(&session.read(row)?) {
                        continue;
                    }
                }
                kept.push(u32::try_from(first + i).expect("under 4 billion flows"));
            }
            Ok(Some(()))
        })();
        if filtering {
            progress.total.store(0, Ordering::SeqCst);
        }
        if result.as_ref().map_or(true, Option::is_none) {
            return result;
        }
        self.seen = first + fresh.len();
        let sort = self.query.sort;
        let descending = self.query.descending;
        session.with_rows(|rows| {
            let cmp = |a: &u32, b: &u32| {
                let by = sort
                    .compare(&rows[*a as usize], &rows[*b as usize])
                    .then(a.cmp(b));
                if descending { by.reverse() } else { by }
            };
            if self.order.is_empty() || kept.len() > self.order.len() / 8 {
                self.order.extend_from_slice(&kept);
                self.order.sort_unstable_by(cmp);
            } else {
                for n in kept {
                    let at = self
                        .order
                        .binary_search_by(|probe| cmp(probe, &n))
                        .unwrap_or_else(|at| at);
                    self.order.insert(at, n);
                }
            }
        });
        Ok(Some(()))
    }

    /// `count` rows from `start`, with the highlight.
    pub(super) fn window(
        &self,
        session: &impl Source,
        highlight: Option<&Filter>,
        start: usize,
        count: usize,
    ) -> Result<Window, ReadBack> {
        let start = start.min(self.order.len());
        let end = start.saturating_add(count).min(self.order.len());
        let mut rows = Vec::with_capacity(end - start);
        for &n in &self.order[start..end] {
            let n = n as usize;
            let row = session.row(n).ok_or(ReadBack::NoSuchFlow(n))?;
            let lit = match highlight {
                Some(filter) => filter.matches(&session.read(&row)?),
                None => false,
            };
            rows.push((n, row, lit));
        }
        Ok(Window {
            total: session.shown(),
            matched: self.order.len(),
            start,
            rows,
        })
    }
}
