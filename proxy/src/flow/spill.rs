//! [`Spill`]: the older messages of a long-lived WebSocket or TCP flow,
//! moved out of memory.
//!
//! A live stream's flow keeps its newest messages in its dict. Once they
//! hold more than `stream_messages_memory` bytes, the live relay moves the
//! oldest to a spill: an unnamed temporary file (gone with the last copy
//! of the flow, or with the process) holding them as tnetstrings one after
//! another, the very bytes the flow file will hold. The flow writer copies
//! them into `-w` in their place; filters, the flow line, HAR export and
//! scripts read them back. Indexes stay the flow's: message `i` is in the
//! spill when `i < count`, and in the dict's list at `i - count` after.
//!
//! The file only grows. A copy of the flow (the capture thread's, the
//! in-flight registry's) is a snapshot, its first `count` messages in
//! `len` bytes, which later appends leave alone. A hook that changes a
//! spilled message (rare: it was sent long ago) leaves the file alone too:
//! the change is kept beside it and written in its place.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::{Flow, FlowKind};
use crate::tnetstring::{self, Value};

/// `stream_messages_memory`'s default: 8 MiB of a flow's messages stay in
/// memory.
pub const DEFAULT_MEMORY: usize = 8 << 20;

/// Every this many messages the file's offset is noted, so that reading
/// one back skips at most this many.
const MARK_EVERY: usize = 256;

/// How many bytes are serialized before each write to the file.
const CHUNK: usize = 256 * 1024;

/// The file, shared by every copy of the flow.
#[derive(Debug)]
struct SpillFile {
    file: File,
    grown: Mutex<Grown>,
}

/// What the flow that appends has put in the file.
#[derive(Debug, Default)]
struct Grown {
    /// Bytes written.
    end: u64,
    /// The offset of message `i * MARK_EVERY`.
    marks: Vec<u64>,
}

/// A spilled message a hook changed: its new value, and how long it and
/// the original in the file are written.
#[derive(Clone, Debug)]
struct Changed {
    value: Value,
    new_len: u64,
    old_len: u64,
}

/// A flow's first `count` messages, out of memory.
#[derive(Clone, Debug)]
pub struct Spill {
    file: Arc<SpillFile>,
    count: usize,
    len: u64,
    changed: BTreeMap<usize, Changed>,
}

impl PartialEq for Spill {
    fn eq(&self, other: &Spill) -> bool {
        Arc::ptr_eq(&self.file, &other.file)
            && self.count == other.count
            && self.changed.len() == other.changed.len()
            && self
                .changed
                .iter()
                .zip(&other.changed)
                .all(|((i, a), (j, b))| i == j && a.value == b.value)
    }
}

fn broken(what: impl Into<String>) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the spill file of a flow's older messages is damaged: {}",
            what.into()
        ),
    )
}

/// Reads a range of the file from its start on, without moving a cursor
/// that copies share.
struct Range<'a> {
    file: &'a File,
    at: u64,
    end: u64,
}

impl Read for Range<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end - self.at).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// Reads the items of a range one by one, as raw bytes.
struct Items<'a> {
    reader: BufReader<Range<'a>>,
}

impl Items<'_> {
    /// The next item's bytes, `None` at the end of the range.
    fn next_raw(&mut self) -> io::Result<Option<Vec<u8>>> {
        let head = self.reader.fill_buf()?;
        if head.is_empty() {
            return Ok(None);
        }
        let mut prefix = Vec::with_capacity(tnetstring::MAX_LEN_DIGITS + 1);
        loop {
            let mut byte = [0u8];
            self.reader.read_exact(&mut byte)?;
            prefix.push(byte[0]);
            if byte[0] == b':' || prefix.len() > tnetstring::MAX_LEN_DIGITS {
                break;
            }
        }
        let size = tnetstring::item_size(&prefix).map_err(|e| broken(e.to_string()))?;
        let mut item = prefix;
        let have = item.len();
        item.resize(size, 0);
        self.reader.read_exact(&mut item[have..])?;
        Ok(Some(item))
    }

    fn skip(&mut self, n: usize) -> io::Result<()> {
        for _ in 0..n {
            self.next_raw()?.ok_or_else(|| broken("it ends early"))?;
        }
        Ok(())
    }
}

fn parse(item: Vec<u8>) -> io::Result<Value> {
    tnetstring::parse(&Bytes::from(item)).map_err(|e| broken(e.to_string()))
}

impl Spill {
    /// An empty spill, in a new unnamed file in the temporary folder.
    pub fn new() -> io::Result<Spill> {
        Ok(Spill {
            file: Arc::new(SpillFile {
                file: tempfile::tempfile()?,
                grown: Mutex::default(),
            }),
            count: 0,
            len: 0,
            changed: BTreeMap::new(),
        })
    }

    /// How many messages it holds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How many bytes it adds to the flow's list when written.
    pub fn written_len(&self) -> u64 {
        self.changed
            .values()
            .fold(self.len, |len, c| len - c.old_len + c.new_len)
    }

    /// Appends `messages` (taken from the front of the flow's list).
    pub fn append(&mut self, messages: &[Value]) -> io::Result<()> {
        let mut grown = self.file.grown.lock().unwrap_or_else(|e| e.into_inner());
        if grown.end != self.len {
            // Only the flow that made the file appends; a copy that tried
            // would overwrite the other's messages.
            return Err(io::Error::other(
                "a copy of the flow cannot add to its spill file",
            ));
        }
        // Written a chunk at a time from one small buffer: no buffer the
        // size of what moves, and no pages to fault in for it.
        let mut buf = Vec::with_capacity(CHUNK + CHUNK / 4);
        let mut at = self.len;
        let mut written = Ok(());
        for (i, message) in messages.iter().enumerate() {
            if (self.count + i).is_multiple_of(MARK_EVERY) {
                grown.marks.push(at + buf.len() as u64);
            }
            tnetstring::write(message, &mut buf);
            if buf.len() >= CHUNK {
                written = self.file.file.write_all_at(&buf, at);
                at += buf.len() as u64;
                buf.clear();
                if written.is_err() {
                    break;
                }
            }
        }
        if written.is_ok() && !buf.is_empty() {
            written = self.file.file.write_all_at(&buf, at);
            at += buf.len() as u64;
        }
        if let Err(e) = written {
            // Nothing counts as written; the marks made go.
            grown.marks.truncate(self.count.div_ceil(MARK_EVERY));
            return Err(e);
        }
        self.len = at;
        self.count += messages.len();
        grown.end = self.len;
        Ok(())
    }

    fn items_from(&self, index: usize) -> io::Result<Items<'_>> {
        let mark = index / MARK_EVERY;
        let at = {
            let grown = self.file.grown.lock().unwrap_or_else(|e| e.into_inner());
            *grown
                .marks
                .get(mark)
                .ok_or_else(|| broken("an offset is missing"))?
        };
        let mut items = Items {
            reader: BufReader::with_capacity(
                64 * 1024,
                Range {
                    file: &self.file.file,
                    at,
                    end: self.len,
                },
            ),
        };
        items.skip(index - mark * MARK_EVERY)?;
        Ok(items)
    }

    /// Message `index` (`< count`), read back.
    pub fn get(&self, index: usize) -> io::Result<Value> {
        if index >= self.count {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("message {index} is not in the spill"),
            ));
        }
        match self.changed.get(&index) {
            Some(c) => Ok(c.value.clone()),
            None => parse(self.raw(index)?),
        }
    }

    /// Message `index`'s bytes in the file, as first spilled.
    fn raw(&self, index: usize) -> io::Result<Vec<u8>> {
        let raw = self.items_from(index)?.next_raw()?;
        raw.ok_or_else(|| broken("it ends early"))
    }

    /// Replaces message `index` (`< count`) and returns it as it was.
    pub fn set(&mut self, index: usize, value: Value) -> io::Result<Value> {
        let (before, old_len) = match self.changed.get(&index) {
            Some(c) => (c.value.clone(), c.old_len),
            None if index < self.count => {
                let raw = self.raw(index)?;
                let old_len = raw.len() as u64;
                (parse(raw)?, old_len)
            }
            None => return self.get(index),
        };
        let mut out = Vec::new();
        tnetstring::write(&value, &mut out);
        let new_len = out.len() as u64;
        self.changed.insert(
            index,
            Changed {
                value,
                new_len,
                old_len,
            },
        );
        Ok(before)
    }

    /// Every message, oldest first.
    pub fn for_each(&self, mut f: impl FnMut(Value)) -> io::Result<()> {
        self.any(|m| {
            f(m);
            false
        })
        .map(drop)
    }

    /// Whether `f` holds for a message, read oldest first and no further
    /// than the first that it holds for.
    pub fn any(&self, mut f: impl FnMut(Value) -> bool) -> io::Result<bool> {
        if self.count == 0 {
            return Ok(false);
        }
        let mut items = self.items_from(0)?;
        for i in 0..self.count {
            let raw = items.next_raw()?.ok_or_else(|| broken("it ends early"))?;
            let message = match self.changed.get(&i) {
                Some(c) => c.value.clone(),
                None => parse(raw)?,
            };
            if f(message) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes the messages as the list items they are in a flow file
    /// ([`written_len`](Spill::written_len) bytes).
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut range = Range {
            file: &self.file.file,
            at: 0,
            end: self.len,
        };
        if self.changed.is_empty() {
            io::copy(&mut range, out)?;
            return Ok(());
        }
        let mut items = Items {
            reader: BufReader::with_capacity(64 * 1024, range),
        };
        let mut buf = Vec::new();
        for i in 0..self.count {
            let raw = items.next_raw()?.ok_or_else(|| broken("it ends early"))?;
            match self.changed.get(&i) {
                Some(c) => {
                    buf.clear();
                    tnetstring::write(&c.value, &mut buf);
                    out.write_all(&buf)?;
                }
                None => out.write_all(&raw)?,
            }
        }
        Ok(())
    }
}

/// What a flow's spill did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spilled {
    /// Messages moved to the file.
    pub moved: usize,
    /// What the messages left in memory hold ([`memory_of`]).
    pub kept_bytes: usize,
}

/// Where a stream's messages are in the flow's dict.
pub(crate) fn list_path(kind: FlowKind) -> &'static [&'static str] {
    match kind {
        FlowKind::Tcp | FlowKind::Udp => &["messages"],
        _ => &["websocket", "messages"],
    }
}

/// What a stored message costs in memory beside its content, about: the
/// list of six values, its `Arc`, the content's shared header, its slot in
/// the flow's list, and the allocator's rounding. Measured, a 1 KiB
/// message held about twice its content in RSS (`bench streams`).
pub const MESSAGE_OVERHEAD: usize = 512;

/// What a stored message holds in memory, about: its content (WebSocket's
/// third field, TCP's second) and [`MESSAGE_OVERHEAD`].
pub fn memory_of(message: &Value) -> usize {
    let fields = message.as_list().unwrap_or_default();
    let content = fields
        .iter()
        .skip(1)
        .take(2)
        .filter_map(Value::as_bytes)
        .map(<[u8]>::len)
        .next()
        .unwrap_or(0);
    content + MESSAGE_OVERHEAD
}

/// How a live relay keeps a stream's messages within
/// `stream_messages_memory`: it counts what each delivered message holds,
/// and past the limit moves the oldest to the spill until half of it is
/// left, so that a file write is made once per half a limit of traffic.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    held: usize,
    /// Spilling failed once: the messages stay in memory, as they would
    /// have without a spill.
    given_up: bool,
}

impl Budget {
    /// A budget of `limit` bytes for one flow.
    pub fn new(limit: usize) -> Budget {
        Budget {
            limit,
            held: 0,
            given_up: false,
        }
    }

    /// Counts a message that was delivered (its hooks run; it is in the
    /// flow's list), `cost` being its [`memory_of`], and spills if the
    /// flow is over the limit. An error is returned once, the first time
    /// spilling fails; after it the flow keeps its messages in memory.
    pub fn delivered(&mut self, flow: &mut Flow, cost: usize) -> Option<io::Error> {
        if self.given_up {
            return None;
        }
        self.held += cost;
        if self.held <= self.limit {
            return None;
        }
        match flow.spill_oldest(self.limit / 2) {
            Ok(done) => {
                self.held = done.kept_bytes;
                None
            }
            Err(e) => {
                self.given_up = true;
                Some(e)
            }
        }
    }
}

/// The warning a relay logs when a flow's older messages cannot leave
/// memory.
pub fn failure_warning(flow: &Flow, e: &io::Error) -> String {
    format!(
        "cannot move the older messages of flow {} to a temporary file ({e}); \
         they stay in memory (check the space in {})",
        flow.id(),
        std::env::temp_dir().display()
    )
}

impl Flow {
    /// The older messages of a WebSocket or TCP flow that are out of
    /// memory, if any are.
    pub fn spill(&self) -> Option<&Spill> {
        self.spill.as_deref()
    }

    /// How many of the stream's messages are in the spill: the index of
    /// the first one the dict's list holds.
    pub fn spilled_count(&self) -> usize {
        self.spill.as_deref().map_or(0, Spill::count)
    }

    /// How many of a live stream's messages were relayed without being
    /// kept: nothing (no capture file, no view, no script hook) would
    /// ever have read them. They are in neither the spill nor the list.
    pub fn unkept_count(&self) -> usize {
        self.unkept
    }

    /// Counts one more message relayed without being kept.
    #[cfg(feature = "live")]
    pub(crate) fn count_unkept(&mut self) {
        self.unkept += 1;
    }

    /// The spill, to change a message in it.
    pub(crate) fn spill_mut(&mut self) -> Option<&mut Spill> {
        self.spill.as_deref_mut()
    }

    /// The stream's messages in memory, where [`list_path`] says.
    pub(crate) fn stream_list(&self) -> Option<&[Value]> {
        let mut value = &self.root;
        for key in list_path(self.kind()) {
            value = value.as_dict()?.get(key)?;
        }
        value.as_list()
    }

    fn stream_list_mut(&mut self) -> Option<&mut Vec<Value>> {
        self.stream_list()?;
        let path = list_path(self.kind());
        let mut value = &mut self.root;
        for key in path {
            value = value.as_dict_mut()?.get_mut(key)?;
        }
        value.as_list_mut()
    }

    /// Moves the oldest messages of a WebSocket or TCP flow to its spill
    /// until those left in memory hold at most `keep` bytes
    /// ([`memory_of`]).
    /// Call it between hooks, never during one: a hook's indexes into the
    /// list would move. On an error nothing has moved.
    pub fn spill_oldest(&mut self, keep: usize) -> io::Result<Spilled> {
        let Some(list) = self.stream_list_mut() else {
            return Ok(Spilled::default());
        };
        let mut kept_bytes: usize = list.iter().map(memory_of).sum();
        let moved = list
            .iter()
            .take_while(|m| {
                let over = kept_bytes > keep;
                if over {
                    kept_bytes -= memory_of(m);
                }
                over
            })
            .count();
        if moved == 0 {
            return Ok(Spilled { moved, kept_bytes });
        }
        let mut spill = match self.spill.take() {
            Some(spill) => spill,
            None => Box::new(Spill::new()?),
        };
        let list = self.stream_list_mut().expect("read above");
        let appended = spill.append(&list[..moved]);
        if appended.is_ok() {
            list.drain(..moved);
        }
        self.spill = Some(spill);
        appended.map(|()| Spilled { moved, kept_bytes })
    }

    /// Every message of the stream, the spilled ones read back, oldest
    /// first. If the spill cannot be read, those in memory are still
    /// visited, and the error is returned after.
    pub fn for_each_stream_message(&self, mut f: impl FnMut(&Value)) -> io::Result<()> {
        let read = match &self.spill {
            Some(spill) => spill.for_each(|m| f(&m)),
            None => Ok(()),
        };
        self.stream_list().unwrap_or_default().iter().for_each(f);
        read
    }
}

#[cfg(test)]
mod tests;
