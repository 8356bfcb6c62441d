//! [`Session`]: the flows the view shows, kept in a session file with an
//! index in memory.
//!
//! Each flow is appended to the file in flow format 21 as it finishes.
//! Memory holds one [`Row`] per flow (its offset, length and the list's
//! columns). A flow is read back from the file when it is opened,
//! filtered or exported.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use crate::flow::Flow;
use crate::flowfile::{self, FlowReader, ReadError};

use super::Row;
use super::error::ReadBack;
use super::order::{Ordered, Place, Progress, Query, Source, Window};
use super::rows::Rows;

/// A row's offset with this bit set is in the [`Session::base`] file.
const IN_BASE: u64 = 1 << 63;

/// The view's flows: a session file and its index.
pub struct Session {
    /// The file, appended to under the lock; read at offsets without it.
    file: File,
    /// A capture browsed where it is (`-n -r FILE --web`), read only: its
    /// flows are indexed, not copied.
    base: Option<File>,
    appending: Mutex<Appender>,
    rows: RwLock<Rows>,
    /// The list's current order (filter and sort), kept up to date as
    /// flows arrive.
    ordered: Mutex<Option<Ordered>>,
    /// The latest query's key, and a count bumped when it changes, so an
    /// older query still running stops.
    latest: Mutex<String>,
    generation: AtomicU64,
    /// How far the running filter has got.
    pub progress: Progress,
    /// Bumped by every change (a flow added, edited, deleted), for the
    /// page to know when to ask again.
    version: AtomicU64,
    /// Set when a flow changed in place: the order is built again.
    dirty: AtomicBool,
    /// Flows not deleted.
    shown: AtomicUsize,
    /// How much of the session file is written (the appender holds the
    /// rest).
    written: AtomicU64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("flows", &self.len())
            .finish_non_exhaustive()
    }
}

/// The end of the session file, where flows are appended. Flows are
/// encoded into `pending` and written a few hundred kilobytes at a time
/// (or when one of them is read back), not one `pwrite` each.
struct Appender {
    /// Where the next flow goes: the file's end plus what is pending.
    end: u64,
    /// Encoded flows not yet written; they start at `end - pending.len()`.
    pending: Vec<u8>,
}

/// How much the appender holds before writing.
const WRITE_BEHIND: usize = 256 << 10;

impl Session {
    /// A session in a new temporary file, gone when the process ends.
    pub fn temporary() -> io::Result<Session> {
        Ok(Session::in_file(tempfile::tempfile()?, 0))
    }

    /// A session that appends to `file`, whose first `end` bytes are not
    /// its own.
    pub fn in_file(file: File, end: u64) -> Session {
        Session {
            file,
            base: None,
            appending: Mutex::new(Appender {
                end,
                pending: Vec::with_capacity(WRITE_BEHIND * 2),
            }),
            written: AtomicU64::new(end),
            rows: RwLock::new(Rows::default()),
            ordered: Mutex::new(None),
            latest: Mutex::new(String::new()),
            generation: AtomicU64::new(0),
            progress: Progress::default(),
            version: AtomicU64::new(0),
            dirty: AtomicBool::new(false),
            shown: AtomicUsize::new(0),
        }
    }

    /// A session over the capture `base`, which is read and never
    /// written; what the view adds goes to a temporary file.
    pub fn over(base: File) -> io::Result<Session> {
        let mut session = Session::temporary()?;
        session.base = Some(base);
        Ok(session)
    }

    /// Indexes the base capture as `reader` reads it (from its start),
    /// calling `tick` with the count so far every few thousand flows. A
    /// flow's row is read from its bytes where it can be, without
    /// building the flow. Gives the count, or what stopped the reading
    /// and the count before it.
    pub fn index_base<R: io::Read>(
        &self,
        reader: &mut FlowReader<R>,
        mut tick: impl FnMut(usize),
    ) -> Result<usize, (usize, ReadError)> {
        const BATCH: usize = 4096;
        let mut batch = Vec::with_capacity(BATCH);
        let mut count = 0;
        let stopped = loop {
            let (start, item) = match reader.read_raw() {
                None => break None,
                Some(Ok(raw)) => raw,
                Some(Err(e)) => break Some(e),
            };
            let row = match Row::scan(&item, start | IN_BASE) {
                Some(row) => row,
                None => {
                    let len = item.len() as u32;
                    match reader.decode(start, item) {
                        Ok(flow) => Row::of(&flow, start | IN_BASE, len),
                        Err(e) => break Some(e),
                    }
                }
            };
            batch.push(row);
            if batch.len() == BATCH {
                count += self.take_in(&mut batch);
                tick(count);
            }
        };
        count += self.take_in(&mut batch);
        match stopped {
            None => Ok(count),
            Some(e) => Err((count, e)),
        }
    }

    /// Adds `rows` to the index; how many.
    fn take_in(&self, rows: &mut Vec<Row>) -> usize {
        let n = rows.len();
        self.rows
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .append(rows);
        self.shown.fetch_add(n, Ordering::SeqCst);
        self.version.fetch_add(1, Ordering::SeqCst);
        n
    }

    /// The bytes a row points at.
    fn bytes(&self, offset: u64, len: u32) -> Result<Vec<u8>, ReadBack> {
        let mut buf = vec![0; len as usize];
        let (file, at) = match (&self.base, offset & IN_BASE != 0) {
            (Some(base), true) => (base, offset & !IN_BASE),
            _ => {
                if offset + u64::from(len) > self.written.load(Ordering::Acquire) {
                    let mut appending = self.appending.lock().unwrap_or_else(|e| e.into_inner());
                    self.write_pending(&mut appending).map_err(ReadBack::Io)?;
                }
                (&self.file, offset)
            }
        };
        file.read_exact_at(&mut buf, at).map_err(ReadBack::Io)?;
        Ok(buf)
    }

    /// Appends `flow` to the file and the index; returns its number.
    pub fn append(&self, flow: &Flow) -> io::Result<usize> {
        let row = self.write(flow)?;
        Ok(self.push_row(row))
    }

    /// Appends a flow already encoded in flow format 21 (as the live
    /// proxy's capture thread gets it), with its `row` read from the flow
    /// (its place is set here); returns its number.
    pub fn append_encoded(&self, bytes: &[u8], mut row: Row) -> io::Result<usize> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::other("a flow over 4 GiB cannot be kept"))?;
        let mut appending = self.appending.lock().unwrap_or_else(|e| e.into_inner());
        (row.offset, row.len) = (appending.end, len);
        appending.pending.extend_from_slice(bytes);
        self.appended(&mut appending, len)?;
        drop(appending);
        Ok(self.push_row(row))
    }

    /// Adds a row for a flow just appended; its number.
    fn push_row(&self, row: Row) -> usize {
        let mut rows = self.rows.write().unwrap_or_else(|e| e.into_inner());
        rows.push(row);
        self.shown.fetch_add(1, Ordering::SeqCst);
        self.version.fetch_add(1, Ordering::SeqCst);
        rows.len() - 1
    }

    /// Counts `len` bytes just added to the appender, and writes what it
    /// holds once that is enough.
    fn appended(&self, appending: &mut Appender, len: u32) -> io::Result<()> {
        appending.end += u64::from(len);
        if appending.pending.len() >= WRITE_BEHIND {
            self.write_pending(appending)?;
        }
        Ok(())
    }

    /// Writes `flow` at the end of the file; its row.
    fn write(&self, flow: &Flow) -> io::Result<Row> {
        let mut appending = self.appending.lock().unwrap_or_else(|e| e.into_inner());
        let at = appending.end;
        let start = appending.pending.len();
        let encoded = flowfile::encode(flow, &mut appending.pending).and_then(|()| {
            u32::try_from(appending.pending.len() - start)
                .map_err(|_| io::Error::other(format!("flow {} is over 4 GiB", flow.id())))
        });
        let len = match encoded {
            Ok(len) => len,
            Err(e) => {
                appending.pending.truncate(start);
                return Err(e);
            }
        };
        let row = if flow.spill().is_some() {
            // Its older messages were in the spill: count them from the
            // bytes just encoded.
            Row::scan(&appending.pending[start..], at)
                .ok_or_else(|| io::Error::other("a flow just encoded does not scan"))?
        } else {
            Row::of(flow, at, len)
        };
        self.appended(&mut appending, len)?;
        Ok(row)
    }

    /// Writes what the appender holds. On failure it is dropped all the
    /// same (reading those flows back then fails), so memory stays
    /// bounded.
    fn write_pending(&self, appending: &mut Appender) -> io::Result<()> {
        if appending.pending.is_empty() {
            return Ok(());
        }
        let at = appending.end - appending.pending.len() as u64;
        let written = self.file.write_all_at(&appending.pending, at);
        appending.pending.clear();
        self.written.store(appending.end, Ordering::Release);
        written
    }

    /// Puts `flow` in place of flow `n` (an edit, a mark, a comment): it is
    /// written anew at the end of the file; the first version is kept for
    /// [`revert`](Session::revert).
    pub fn replace(&self, n: usize, flow: &Flow) -> Result<(), ReadBack> {
        let before = self.row(n).ok_or(ReadBack::NoSuchFlow(n))?;
        let mut row = self.write(flow).map_err(ReadBack::Io)?;
        row.original = Some(before.original.unwrap_or((before.offset, before.len)));
        row.deleted = before.deleted;
        self.rows.write().unwrap_or_else(|e| e.into_inner())[n] = row;
        self.changed_in_place();
        Ok(())
    }

    /// Puts flow `n` back as it was before its first edit; false when it
    /// was never edited.
    pub fn revert(&self, n: usize) -> Result<bool, ReadBack> {
        let row = self.row(n).ok_or(ReadBack::NoSuchFlow(n))?;
        let Some((offset, len)) = row.original else {
            return Ok(false);
        };
        let first = self.read(&Row {
            offset,
            len,
            ..row.clone()
        })?;
        let mut back = Row::of(&first, offset, len);
        back.deleted = row.deleted;
        self.rows.write().unwrap_or_else(|e| e.into_inner())[n] = back;
        self.changed_in_place();
        Ok(true)
    }

    /// Takes flow `n` out of the view (the file keeps it).
    pub fn delete(&self, n: usize) -> Result<(), ReadBack> {
        let mut rows = self.rows.write().unwrap_or_else(|e| e.into_inner());
        let row = rows.get_mut(n).ok_or(ReadBack::NoSuchFlow(n))?;
        if !row.deleted {
            row.deleted = true;
            self.shown.fetch_sub(1, Ordering::SeqCst);
        }
        drop(rows);
        self.changed_in_place();
        Ok(())
    }

    fn changed_in_place(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    /// Bumped by every change.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// How many flows the view shows (all but the deleted).
    pub fn shown(&self) -> usize {
        self.shown.load(Ordering::SeqCst)
    }

    /// How many flows there are.
    pub fn len(&self) -> usize {
        self.rows.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Flow `n`'s row.
    pub fn row(&self, n: usize) -> Option<Row> {
        self.rows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(n)
            .cloned()
    }

    /// Flow `n`, read back from the file.
    pub fn flow(&self, n: usize) -> Result<Flow, ReadBack> {
        let row = self.row(n).ok_or(ReadBack::NoSuchFlow(n))?;
        self.read(&row)
    }

    /// The flow a row points at.
    pub(super) fn read(&self, row: &Row) -> Result<Flow, ReadBack> {
        self.read_at(row.offset, row.len)
    }

    /// The flow at `offset`, in `len` bytes.
    fn read_at(&self, offset: u64, len: u32) -> Result<Flow, ReadBack> {
        let buf = self.bytes(offset, len)?;
        parse(buf).map_err(ReadBack::Corrupt)
    }

    /// Where the flows from `from` on are (for building an order without
    /// holding the lock).
    pub(super) fn places_from(&self, from: usize) -> Vec<Place> {
        let rows = self.rows.read().unwrap_or_else(|e| e.into_inner());
        rows.iter_from(from).map(Row::place).collect()
    }

    /// Runs `f` over every row (under the read lock).
    pub(super) fn with_rows<T>(&self, f: impl FnOnce(&Rows) -> T) -> T {
        f(&self.rows.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// A window of the list as `query` orders it: `count` rows from
    /// `start`, each with whether `highlight` matches it. A query that
    /// differs from the last one rebuilds the order (reading flows from
    /// the file when the filter needs them) and stops any older rebuild;
    /// `None` means a newer query stopped this one.
    pub fn window(
        &self,
        query: &Query,
        highlight: Option<&crate::filter::Filter>,
        start: usize,
        count: usize,
    ) -> Result<Option<Window>, ReadBack> {
        let generation = {
            let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
            let key = query.key();
            if *latest != key {
                *latest = key;
                self.generation.fetch_add(1, Ordering::SeqCst) + 1
            } else {
                self.generation.load(Ordering::SeqCst)
            }
        };
        let stale = || self.generation.load(Ordering::SeqCst) > generation;
        let mut ordered = self.ordered.lock().unwrap_or_else(|e| e.into_inner());
        let dirty = self.dirty.swap(false, Ordering::SeqCst);
        if dirty || ordered.as_ref().is_none_or(|o| !o.answers(query)) {
            *ordered = None;
            match Ordered::build(self, query, &stale)? {
                Some(built) => *ordered = Some(built),
                None => return Ok(None),
            }
        }
        let ordered = ordered.as_mut().expect("built above");
        if ordered.catch_up(self, &stale)?.is_none() {
            return Ok(None);
        }
        ordered.window(self, highlight, start, count).map(Some)
    }

    /// Writes every flow, or the numbered ones, to `out` as the file holds
    /// them.
    pub fn export(&self, which: Option<&[usize]>, out: &mut impl Write) -> Result<(), ReadBack> {
        let rows = match which {
            None => self
                .places_from(0)
                .into_iter()
                .filter(|p| !p.deleted)
                .collect::<Vec<Place>>(),
            Some(ns) => ns
                .iter()
                .map(|&n| {
                    self.row(n)
                        .map(|r| r.place())
                        .ok_or(ReadBack::NoSuchFlow(n))
                })
                .collect::<Result<_, _>>()?,
        };
        for place in rows {
            let buf = self.bytes(place.offset, place.len)?;
            out.write_all(&buf).map_err(ReadBack::Io)?;
        }
        Ok(())
    }
}

impl Source for Session {
    fn places_from(&self, from: usize) -> Vec<Place> {
        Session::places_from(self, from)
    }

    fn with_rows<T>(&self, f: impl FnOnce(&Rows) -> T) -> T {
        Session::with_rows(self, f)
    }

    fn row(&self, n: usize) -> Option<Row> {
        Session::row(self, n)
    }

    fn read_at(&self, offset: u64, len: u32) -> Result<Flow, ReadBack> {
        Session::read_at(self, offset, len)
    }

    fn shown(&self) -> usize {
        Session::shown(self)
    }

    fn progress(&self) -> &Progress {
        &self.progress
    }
}

/// The one flow in `bytes`.
fn parse(bytes: impl Into<bytes::Bytes>) -> Result<Flow, String> {
    let bytes = bytes.into();
    if bytes.is_empty() {
        return Err("no flow where the index points".into());
    }
    FlowReader::new(io::empty())
        .decode(0, bytes)
        .map_err(|e| e.to_string())
}
