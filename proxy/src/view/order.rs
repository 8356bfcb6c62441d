//! The list's order: which flows a filter keeps and how a column sorts
//! them, kept on the server so that the page only asks for the rows it
//! shows.

use std::cmp::Ordering as Cmp;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::filter::Filter;

use super::Row;
use super::error::ReadBack;
use crate::flow::Flow;

/// Where a flow is in the session file, and whether the view deleted it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Place {
    pub offset: u64,
    pub len: u32,
    pub deleted: bool,
}

/// What an order is built from: the session's rows and flows.
pub(super) trait Source: Sync {
    /// Where the flows from `from` on are.
    fn places_from(&self, from: usize) -> Vec<Place>;
    /// Runs `f` over every row.
    fn with_rows<T>(&self, f: impl FnOnce(&super::rows::Rows) -> T) -> T;
    /// Flow `n`'s row.
    fn row(&self, n: usize) -> Option<Row>;
    /// The flow at `offset`, in `len` bytes.
    fn read_at(&self, offset: u64, len: u32) -> Result<Flow, ReadBack>;
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
        let fresh = session.places_from(self.seen);
        if fresh.is_empty() {
            return Ok(Some(()));
        }
        let first = self.seen;
        let kept = match &self.query.filter {
            None => Some(
                (first..)
                    .zip(&fresh)
                    .filter(|(_, p)| !p.deleted)
                    .map(|(n, _)| number(n))
                    .collect(),
            ),
            Some(filter) => filtered(session, filter, first, &fresh, stale)?,
        };
        let Some(mut kept) = kept else {
            return Ok(None);
        };
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
            if !kept.is_sorted_by(|a, b| cmp(a, b) != Cmp::Greater) {
                kept.sort_unstable_by(cmp);
            }
            match (self.order.last(), kept.first()) {
                // Arrivals in time order: the common case.
                (None, _) | (_, None) => self.order.append(&mut kept),
                (Some(last), Some(head)) if cmp(last, head) == Cmp::Less => {
                    self.order.append(&mut kept);
                }
                // Flows that finish out of start order (concurrent ones)
                // fall near the end: only the tail from the first new
                // flow's place on is merged, not the whole list, so a
                // live session's catch-up costs what arrived, not what
                // is kept.
                (Some(_), Some(head)) => {
                    let at = self.order.partition_point(|n| cmp(n, head) == Cmp::Less);
                    let tail = self.order.split_off(at);
                    self.order.extend(merge(&tail, &kept, cmp));
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
                Some(filter) => match session.read_at(row.offset, row.len) {
                    Ok(flow) => filter.matches(&flow),
                    Err(ReadBack::Corrupt(_)) => false,
                    Err(e) => return Err(e),
                },
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

/// A flow's number in an order.
fn number(n: usize) -> u32 {
    u32::try_from(n).expect("under 4 billion flows")
}

/// `a` and `b`, each sorted by `cmp`, as one sorted list.
fn merge(a: &[u32], b: &[u32], cmp: impl Fn(&u32, &u32) -> Cmp) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(&b[j], &a[i]) == Cmp::Less {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The numbers of the flows in `fresh` (the first is flow `first`) that
/// `filter` keeps, read on every core; `None` when `stale` says a newer
/// query came or the page cancelled. Progress goes to the session's
/// [`Progress`].
fn filtered(
    session: &impl Source,
    filter: &Filter,
    first: usize,
    fresh: &[Place],
    stale: &dyn Fn() -> bool,
) -> Result<Option<Vec<u32>>, ReadBack> {
    let progress = session.progress();
    let reporting = fresh.len() > 1;
    if reporting {
        progress.cancel.store(false, Ordering::SeqCst);
        progress.done.store(0, Ordering::SeqCst);
        progress.total.store(fresh.len(), Ordering::SeqCst);
    }
    // Set when any part stops: a stale query, a cancel, or an error.
    let stop = AtomicBool::new(false);
    let part = |from: usize,
                places: &[Place],
                also: &dyn Fn() -> bool|
     -> Result<Option<Vec<u32>>, ReadBack> {
        let mut kept = Vec::new();
        for (i, place) in places.iter().enumerate() {
            if i % 256 == 255 {
                progress.done.fetch_add(256, Ordering::Relaxed);
                if stop.load(Ordering::Relaxed) || progress.cancel.load(Ordering::SeqCst) || also()
                {
                    stop.store(true, Ordering::Relaxed);
                    return Ok(None);
                }
            }
            if place.deleted {
                continue;
            }
            let flow = match session.read_at(place.offset, place.len) {
                Ok(flow) => flow,
                // A damaged flow in a capture matches nothing; opening it
                // says what is wrong.
                Err(ReadBack::Corrupt(_)) => continue,
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
            if filter.matches(&flow) {
                kept.push(number(from + i));
            }
        }
        Ok(Some(kept))
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let size = fresh.len().div_ceil(threads).max(4096);
    let parts: Vec<Result<Option<Vec<u32>>, ReadBack>> = std::thread::scope(|scope| {
        let handles: Vec<_> = fresh
            .chunks(size)
            .enumerate()
            .skip(1)
            .map(|(k, chunk)| {
                let part = &part;
                scope.spawn(move || part(first + k * size, chunk, &|| false))
            })
            .collect();
        // This thread takes the first part, and watches for a newer query.
        let watch = || {
            while handles.iter().any(|h| !h.is_finished()) && !stop.load(Ordering::Relaxed) {
                if stale() {
                    stop.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        };
        let mine = part(first, fresh.chunks(size).next().unwrap_or_default(), stale);
        watch();
        std::iter::once(mine)
            .chain(
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a filter part panicked")),
            )
            .collect()
    });
    if reporting {
        progress.total.store(0, Ordering::SeqCst);
    }
    let mut kept = Vec::new();
    for part in parts {
        match part? {
            Some(mut k) => kept.append(&mut k),
            None => return Ok(None),
        }
    }
    Ok(Some(kept))
}
