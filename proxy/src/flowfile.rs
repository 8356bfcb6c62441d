//! mitmproxy flow files: a stream of tnetstring dicts, one per flow, read and
//! written one flow at a time so memory stays flat however long the file.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};

use bytes::{Bytes, BytesMut};

use crate::flow::{FORMAT_VERSION, Flow};
use crate::tnetstring::{self, MAX_LEN_DIGITS, Value};

pub mod compat;

/// Why a flow file could not be read, and where.
#[derive(Debug)]
pub struct ReadError {
    /// Byte offset in the file where the bad flow (or item) starts.
    pub offset: u64,
    /// What went wrong.
    pub kind: ReadErrorKind,
}

/// The kinds of [`ReadError`].
#[derive(Debug)]
pub enum ReadErrorKind {
    /// The operating system failed the read.
    Io(io::Error),
    /// The file ends inside a flow.
    Truncated {
        /// Bytes the flow's length prefix promised (with the type tag).
        expected: u64,
        /// Bytes that were there.
        found: u64,
    },
    /// The bytes are not a tnetstring, or not a valid one.
    Syntax(tnetstring::ParseError),
    /// A tnetstring that is not a dict, so not a flow.
    NotAFlow(&'static str),
    /// A flow without an integer `version`.
    NoVersion,
    /// A flow format version newer than 21.
    Version(i64),
    /// A HAR file that cannot be read (from its first broken entry on).
    Har(crate::har::HarError),
    /// A flow of an older format that cannot be brought to this one.
    Compat(compat::CompatError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            ReadErrorKind::Io(e) => write!(f, "byte {at}: read failed: {e}"),
            ReadErrorKind::Truncated { expected, found } => write!(
                f,
                "byte {at}: the file ends inside a flow ({found} of {expected} bytes); it was cut short, \
                 perhaps while still being written"
            ),
            ReadErrorKind::Syntax(e) => write!(
                f,
                "byte {}: corrupt flow: {}; this is not a valid mitmproxy flow file from here on",
                at + e.offset as u64,
                e.what
            ),
            ReadErrorKind::NotAFlow(ty) => {
                write!(
                    f,
                    "byte {at}: expected a flow (a tnetstring dict), found a {ty}; is this a mitmproxy flow file?"
                )
            }
            ReadErrorKind::NoVersion => write!(
                f,
                "byte {at}: flow has no format version; is this a mitmproxy flow file?"
            ),
            ReadErrorKind::Version(v) => write!(
                f,
                "byte {at}: flow format version {v} is newer than {FORMAT_VERSION}, the version Waylay reads; \
                 write the file with mitmproxy 11 to 13"
            ),
            ReadErrorKind::Har(e) => e.fmt(f),
            ReadErrorKind::Compat(e) => write!(f, "byte {at}: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads flows one at a time from a byte stream.
#[derive(Debug)]
pub struct FlowReader<R> {
    src: BufReader<R>,
    offset: u64,
    failed: bool,
    /// A HAR file, read whole and made into flows one entry at a time.
    har: Option<(crate::har::HarEntries, u64)>,
    /// What bringing older flows to this format keeps between them.
    migrator: compat::Migrator,
}

impl<R: Read> FlowReader<R> {
    /// Reads from `src` (buffered here; pass it unbuffered).
    pub fn new(src: R) -> FlowReader<R> {
        FlowReader {
            src: BufReader::with_capacity(256 * 1024, src),
            offset: 0,
            failed: false,
            har: None,
            migrator: compat::Migrator::default(),
        }
    }

    /// How many bytes are read ahead and waiting: a next flow can be had
    /// without waiting for the source when this is not zero.
    pub fn buffered(&self) -> usize {
        if let Some((entries, _)) = &self.har {
            return entries.total() - entries.taken();
        }
        self.src.buffer().len()
    }

    /// Byte offset of the next flow.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn fail(&mut self, offset: u64, kind: ReadErrorKind) -> ReadError {
        self.failed = true;
        ReadError { offset, kind }
    }

    /// The next flow: `None` at a clean end of file. After an error the
    /// reader stops.
    pub fn read_flow(&mut self) -> Option<Result<Flow, ReadError>> {
        if self.failed {
            return None;
        }
        if self.har.is_some() {
            return self.next_har_flow();
        }
        let start = self.offset;
        let first = match self.src.fill_buf() {
            Ok([]) => return None,
            Ok(buf) => buf[0],
            Err(e) => return Some(Err(self.fail(start, ReadErrorKind::Io(e)))),
        };
        if start == 0 && (first == b'{' || first == 0xEF) && crate::har::is_har(self.src.buffer()) {
            return self.start_har();
        }
        Some(self.read_item(start))
    }

    /// Reads a HAR file whole, as mitmproxy does, and starts on its
    /// entries.
    fn start_har(&mut self) -> Option<Result<Flow, ReadError>> {
        let mut bytes = Vec::new();
        if let Err(e) = self.src.read_to_end(&mut bytes) {
            return Some(Err(self.fail(0, ReadErrorKind::Io(e))));
        }
        match crate::har::HarEntries::parse(&bytes) {
            Ok(entries) => {
                self.har = Some((entries, bytes.len() as u64));
                self.next_har_flow()
            }
            Err(e) => Some(Err(self.fail(0, ReadErrorKind::Har(e)))),
        }
    }

    /// The next HAR entry's flow; the offset moves through the file in
    /// proportion, for progress.
    fn next_har_flow(&mut self) -> Option<Result<Flow, ReadError>> {
        let (entries, len) = self.har.as_mut()?;
        let next = entries.next()?;
        let (taken, total, len) = (entries.taken() as u64, entries.total() as u64, *len);
        match next {
            Ok(flow) => {
                self.offset = len * taken / total.max(1);
                Some(Ok(flow))
            }
            Err(e) => Some(Err(self.fail(self.offset, ReadErrorKind::Har(e)))),
        }
    }

    /// The next item's bytes as the file holds them, and where it starts,
    /// not parsed: for a reader that needs only some of it (the web
    /// view's index), and [`decode`](FlowReader::decode)s the rest. Not
    /// for HAR files; `None` at a clean end of file.
    pub fn read_raw(&mut self) -> Option<Result<(u64, Bytes), ReadError>> {
        if self.failed {
            return None;
        }
        let start = self.offset;
        match self.src.fill_buf() {
            Ok([]) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(self.fail(start, ReadErrorKind::Io(e)))),
        }
        Some(self.read_framed(start).map(|b| (start, b)))
    }

    /// The flow in `item`, which [`read_raw`](FlowReader::read_raw) gave
    /// at `start`; an older format is brought to this one as
    /// [`read_flow`](FlowReader::read_flow) does.
    pub fn decode(&mut self, start: u64, item: Bytes) -> Result<Flow, ReadError> {
        item_flow(item, &mut self.migrator).map_err(|kind| self.fail(start, kind))
    }

    fn read_item(&mut self, start: u64) -> Result<Flow, ReadError> {
        let buf = self.read_framed(start)?;
        self.decode(start, buf)
    }

    /// One whole top-level item: prefix, payload and tag.
    fn read_framed(&mut self, start: u64) -> Result<Bytes, ReadError> {
        // The length prefix: digits then ':'.
        let mut prefix = Vec::with_capacity(MAX_LEN_DIGITS + 1);
        loop {
            let mut byte = [0u8];
            match self.src.read(&mut byte) {
                Ok(0) => {
                    let found = prefix.len() as u64;
                    return Err(self.fail(
                        start,
                        ReadErrorKind::Truncated {
                            expected: found + 1,
                            found,
                        },
                    ));
                }
                Ok(_) => prefix.push(byte[0]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail(start, ReadErrorKind::Io(e))),
            }
            let what = match byte[0] {
                b':' if prefix.len() > 1 => break,
                b'0'..=b'9' if prefix.len() <= MAX_LEN_DIGITS => continue,
                b'0'..=b'9' => format!("a length prefix longer than {MAX_LEN_DIGITS} digits"),
                other => format!(
                    "expected a tnetstring length prefix (digits then ':'), found {:?}",
                    other as char
                ),
            };
            let e = tnetstring::ParseError {
                offset: prefix.len() - 1,
                what,
            };
            return Err(self.fail(start, ReadErrorKind::Syntax(e)));
        }
        let len: usize = std::str::from_utf8(&prefix[..prefix.len() - 1])
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("at most 12 ASCII digits");
        let used = prefix.len();
        // Payload and tag, in one buffer with the prefix so that parse
        // offsets are offsets from the start of the flow.
        let total = len as u64 + 1;
        let mut buf = BytesMut::with_capacity(used + len.min(16 << 20) + 1);
        buf.extend_from_slice(&prefix);
        let got = match read_up_to(&mut self.src, total, &mut buf) {
            Ok(n) => n,
            Err(e) => return Err(self.fail(start, ReadErrorKind::Io(e))),
        };
        if got < total {
            return Err(self.fail(
                start,
                ReadErrorKind::Truncated {
                    expected: used as u64 + total,
                    found: used as u64 + got,
                },
            ));
        }
        self.offset = start + used as u64 + total;
        Ok(buf.freeze())
    }
}

/// A whole top-level item (prefix, payload, tag) as a flow, checked; one
/// of an older format is brought to this one by `migrator`.
fn item_flow(buf: Bytes, migrator: &mut compat::Migrator) -> Result<Flow, ReadErrorKind> {
    let tag = buf[buf.len() - 1];
    if tag != b'}' {
        let ty = match tag {
            b',' => "bytes value",
            b';' => "text value",
            b'#' => "integer",
            b'^' => "float",
            b'!' => "boolean",
            b'~' => "null",
            b']' => "list",
            _ => {
                let e = tnetstring::ParseError {
                    offset: buf.len() - 1,
                    what: format!("unknown tnetstring type tag {:?}", tag as char),
                };
                return Err(ReadErrorKind::Syntax(e));
            }
        };
        return Err(ReadErrorKind::NotAFlow(ty));
    }
    let value = tnetstring::parse(&buf).map_err(ReadErrorKind::Syntax)?;
    match tnetstring::dict_int(&buf, "version") {
        Some(Some(FORMAT_VERSION)) => {}
        Some(Some(v)) if v > FORMAT_VERSION => return Err(ReadErrorKind::Version(v)),
        // Older, a release list (0.x to 2.x), or none at all.
        _ => {
            let dict = value.as_dict().cloned().expect("checked to be a dict");
            return match migrator.migrate(dict) {
                Ok(flow) => Ok(Flow::from_value(Value::Dict(flow.into())).expect("a dict")),
                Err(compat::CompatError::BadVersion(what)) if what == "missing" => {
                    Err(ReadErrorKind::NoVersion)
                }
                Err(compat::CompatError::Newer(v)) => Err(ReadErrorKind::Version(v)),
                Err(e) => Err(ReadErrorKind::Compat(e)),
            };
        }
    }
    Ok(Flow::from_value(value).expect("checked to be a dict"))
}

impl<R: Read> Iterator for FlowReader<R> {
    type Item = Result<Flow, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_flow()
    }
}

/// Every flow of a whole flow file already in memory, checked on up to
/// `threads` threads at once (a `-S` file is read whole before the proxy
/// starts: this is its start-up time). The items are found from their
/// length prefixes alone. A HAR file, or one whose prefixes do not add up, is read by one
/// [`FlowReader`], whose error is the one to report. On an error, the
/// flows before it are returned with it.
pub fn read_all(bytes: &[u8], threads: usize) -> (Vec<Flow>, Option<ReadError>) {
    // Older flows are migrated in order (they share state: connection ids,
    // WebSocket handshakes), by one reader.
    let items = items(bytes).filter(|items| {
        items.iter().all(|&(start, end)| {
            tnetstring::dict_int(&bytes[start..end], "version") == Some(Some(FORMAT_VERSION))
        })
    });
    let Some(items) = items else {
        let mut reader = FlowReader::new(bytes);
        let mut flows = Vec::new();
        while let Some(flow) = reader.read_flow() {
            match flow {
                Ok(flow) => flows.push(flow),
                Err(e) => return (flows, Some(e)),
            }
        }
        return (flows, None);
    };
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<(Vec<Flow>, Option<ReadError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut flows = Vec::with_capacity(part.len());
                    for &(start, end) in part {
                        // A buffer of its own: slices of one shared
                        // buffer would have every thread bump one
                        // reference count, for every value built.
                        let buf = Bytes::copy_from_slice(&bytes[start..end]);
                        match item_flow(buf, &mut compat::Migrator::default()) {
                            Ok(flow) => flows.push(flow),
                            Err(kind) => {
                                let offset = start as u64;
                                return (flows, Some(ReadError { offset, kind }));
                            }
                        }
                    }
                    (flows, None)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a flow-reading thread panicked"))
            .collect()
    });
    let mut all = Vec::with_capacity(items.len());
    for (flows, error) in parts {
        all.extend(flows);
        if error.is_some() {
            return (all, error);
        }
    }
    (all, None)
}

/// Where each top-level tnetstring item of `bytes` starts and ends, or
/// `None` when the bytes are not a clean sequence of items (a HAR file, a
/// truncated or corrupt one).
fn items(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    if !bytes.first()?.is_ascii_digit() {
        return None;
    }
    let mut items = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let colon = bytes[at..]
            .iter()
            .take(MAX_LEN_DIGITS + 1)
            .position(|&b| b == b':')?;
        let digits = &bytes[at..at + colon];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let len: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
        let end = at
            .checked_add(colon + 1)?
            .checked_add(len)?
            .checked_add(1)?;
        if end > bytes.len() {
            return None;
        }
        items.push((at, end));
        at = end;
    }
    Some(items)
}

/// Appends up to `limit` bytes from `src` to `buf`; returns how many came
/// before the end of the stream. Grows as data arrives, so a corrupt length
/// prefix cannot make it allocate more than the file holds.
fn read_up_to<R: Read>(src: &mut BufReader<R>, limit: u64, buf: &mut BytesMut) -> io::Result<u64> {
    let mut total = 0;
    while total < limit {
        let available = match src.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let n = available.len().min((limit - total) as usize);
        buf.extend_from_slice(&available[..n]);
        src.consume(n);
        total += n as u64;
    }
    Ok(total)
}

/// Appends one flow to `out` as a flow file holds it, a long stream's
/// spilled messages included.
pub fn encode(flow: &Flow, out: &mut Vec<u8>) -> io::Result<()> {
    match flow.spill() {
        Some(spill) => {
            let path = crate::flow::spill::list_path(flow.kind());
            let (head, tail) =
                tnetstring::write_spliced(flow.as_value(), path, spill.written_len()).ok_or_else(
                    || io::Error::other(format!("flow {} lost its message list", flow.id())),
                )?;
            out.extend_from_slice(&head);
            spill.write_to(out)?;
            out.extend_from_slice(&tail);
        }
        None => tnetstring::write(flow.as_value(), out),
    }
    Ok(())
}

/// How much [`FlowWriter`] gathers before it writes.
const WRITE_CHUNK: usize = 256 * 1024;

/// Writes flows to a byte stream, one tnetstring dict each.
///
/// Flows are encoded straight into the writer's own buffer, which goes to
/// the destination in chunks of about [`WRITE_CHUNK`]: with a `BufWriter`
/// on top, every byte written was copied twice.
#[derive(Debug)]
pub struct FlowWriter<W: Write> {
    dst: W,
    buf: Vec<u8>,
    /// A flow whose writing stopped part way (its spill could not be
    /// read): what follows would not parse, so nothing more is written.
    cut: Option<String>,
}

impl<W: Write> FlowWriter<W> {
    /// Writes to `dst` (buffered here).
    pub fn new(dst: W) -> FlowWriter<W> {
        FlowWriter {
            dst,
            buf: Vec::with_capacity(WRITE_CHUNK),
            cut: None,
        }
    }

    /// Writes one flow.
    pub fn write_flow(&mut self, flow: &Flow) -> io::Result<()> {
        if let Some(id) = &self.cut {
            return Err(io::Error::other(format!(
                "the capture stops at flow {id}, which could not be written whole; \
                 flow {} and later ones are not in it",
                flow.id()
            )));
        }
        if let Some(spill) = flow.spill() {
            // A long stream's older messages go from their file straight
            // into this one, in front of those still in memory.
            let path = crate::flow::spill::list_path(flow.kind());
            let (head, tail) =
                tnetstring::write_spliced(flow.as_value(), path, spill.written_len()).ok_or_else(
                    || io::Error::other(format!("flow {} lost its message list", flow.id())),
                )?;
            let written = self
                .write_out()
                .and_then(|()| self.dst.write_all(&head))
                .and_then(|()| spill.write_to(&mut self.dst))
                .and_then(|()| self.dst.write_all(&tail));
            if written.is_err() {
                self.cut = Some(flow.id().to_owned());
            }
            return written;
        }
        tnetstring::write(flow.as_value(), &mut self.buf);
        self.gathered()
    }

    /// Writes the buffer out once it holds a chunk.
    fn gathered(&mut self) -> io::Result<()> {
        match self.buf.len() >= WRITE_CHUNK {
            true => self.write_out(),
            false => Ok(()),
        }
    }

    /// Writes out what the buffer holds. On failure the buffer is dropped:
    /// the destination's state is unknown, and the error is reported.
    fn write_out(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = self.dst.write_all(&self.buf);
        self.buf.clear();
        if self.buf.capacity() > 4 * WRITE_CHUNK {
            // One huge flow does not keep its room for the rest of the run.
            self.buf = Vec::with_capacity(WRITE_CHUNK);
        }
        written
    }

    /// Writes one flow already encoded (by [`encode`]).
    pub fn write_encoded(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(id) = &self.cut {
            return Err(io::Error::other(format!(
                "the capture stops at flow {id}, which could not be written whole; \
                 later flows are not in it"
            )));
        }
        if bytes.len() >= WRITE_CHUNK {
            // Big enough to go on its own, without a copy.
            self.write_out()?;
            return self.dst.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        self.gathered()
    }

    /// Pushes everything written so far to the destination.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.dst.flush()
    }

    /// Flushes and returns the destination.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.dst)
    }
}

#[cfg(test)]
mod tests;
