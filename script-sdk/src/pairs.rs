//! [`Pairs`] and [`PairsMut`]: mitmproxy's multi-dicts (`request.query`,
//! `request.cookies`, `request.urlencoded_form`, `request.multipart_form`)
//! as ordered name/value pairs that keep duplicates. The host computes
//! them with mitmproxy's semantics; a [`PairsMut`] writes every change
//! through at once, as assigning to mitmproxy's multi-dict does.

use std::borrow::Cow;

use crate::Error;
use crate::boundary::host::FlowHandle;

/// Name/value pairs in order, duplicates kept: a copy of what the message
/// held when it was read. Names and values are bytes (a query or a form
/// need not be UTF-8); [`get`](Pairs::get) and [`iter`](Pairs::iter) give
/// text, undecodable bytes replaced.
///
/// ```
/// # fn f(flow: &waylay_sdk::Flow) {
/// let query = flow.request().query();
/// if let Some(page) = query.get("page") {
///     println!("page {page} of {} parameters", query.len());
/// }
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Pairs {
    /// The bytes names and values are ranges of: as the host sent them
    /// (each item after its 4-byte length), with what changes appended.
    buf: Vec<u8>,
    /// Each pair's name and value: start and end in `buf`.
    spans: Vec<[u32; 4]>,
}

impl PartialEq for Pairs {
    fn eq(&self, other: &Pairs) -> bool {
        self.iter_bytes().eq(other.iter_bytes())
    }
}

impl Eq for Pairs {}

impl std::fmt::Debug for Pairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Pairs {
    /// Pairs from `(name, value)`s, in order.
    ///
    /// ```
    /// let pairs = waylay_sdk::Pairs::from_iter([("a", "1"), ("a", "2")]);
    /// assert_eq!(pairs.get_all("a"), ["1", "2"]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Pairs {
        let mut out = Pairs::default();
        for (n, v) in pairs {
            out.append(n, v);
        }
        out
    }

    fn name_at(&self, span: &[u32; 4]) -> &[u8] {
        &self.buf[span[0] as usize..span[1] as usize]
    }

    fn value_at(&self, span: &[u32; 4]) -> &[u8] {
        &self.buf[span[2] as usize..span[3] as usize]
    }

    /// Puts `bytes` at the end of the buffer; their range.
    fn put(&mut self, bytes: &[u8]) -> [u32; 2] {
        let offset = |n: usize| u32::try_from(n).expect("pairs hold less than 4 GiB");
        let start = offset(self.buf.len());
        self.buf.extend_from_slice(bytes);
        [start, offset(self.buf.len())]
    }

    /// Rebuilds the buffer from the live pairs once what changes left
    /// behind outweighs them, so a `Pairs` changed again and again stays
    /// the size of what it holds.
    fn compact_if_wasteful(&mut self) {
        let live: usize = self
            .spans
            .iter()
            .map(|s| (s[1] - s[0] + s[3] - s[2]) as usize)
            .sum();
        if self.buf.len() <= 2 * live + 256 {
            return;
        }
        let old = std::mem::take(self);
        for (n, v) in old.iter_bytes() {
            self.append(n, v);
        }
    }

    /// How many pairs.
    ///
    /// ```
    /// assert_eq!(waylay_sdk::Pairs::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    ///
    /// ```
    /// assert!(waylay_sdk::Pairs::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The first value of `name` (names compare exactly, as mitmproxy's
    /// multi-dicts do for queries and forms).
    ///
    /// ```
    /// let pairs = waylay_sdk::Pairs::from_iter([("q", "rust")]);
    /// assert_eq!(pairs.get("q").as_deref(), Some("rust"));
    /// assert_eq!(pairs.get("Q"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get_bytes(name.as_bytes()).map(String::from_utf8_lossy)
    }

    /// The first value of `name`, as bytes.
    ///
    /// ```
    /// let pairs = waylay_sdk::Pairs::from_iter([(&b"k"[..], &b"\xff"[..])]);
    /// assert_eq!(pairs.get_bytes(b"k"), Some(&b"\xff"[..]));
    /// ```
    pub fn get_bytes(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter_bytes().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every value of `name`, in order.
    ///
    /// ```
    /// let pairs = waylay_sdk::Pairs::from_iter([("x", "1"), ("y", "2"), ("x", "3")]);
    /// assert_eq!(pairs.get_all("x"), ["1", "3"]);
    /// ```
    pub fn get_all(&self, name: &str) -> Vec<Cow<'_, str>> {
        self.iter_bytes()
            .filter(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v))
            .collect()
    }

    /// Every pair, in order, as text.
    ///
    /// ```
    /// let pairs = waylay_sdk::Pairs::from_iter([("a", "1"), ("b", "2")]);
    /// let names: Vec<String> = pairs.iter().map(|(n, _)| n.into_owned()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        self.iter_bytes()
            .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v)))
    }

    /// Every pair, in order, as bytes.
    ///
    /// ```
    /// let pairs = waylay_sdk::Pairs::from_iter([("a", "1")]);
    /// assert_eq!(pairs.iter_bytes().next(), Some((&b"a"[..], &b"1"[..])));
    /// ```
    pub fn iter_bytes(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.spans
            .iter()
            .map(|span| (self.name_at(span), self.value_at(span)))
    }

    /// Sets `name` to `value`: the first pair of that name gets the value
    /// (in its place), the others go; a new name is appended (mitmproxy's
    /// `multidict[name] = value`).
    ///
    /// ```
    /// let mut pairs = waylay_sdk::Pairs::from_iter([("a", "1"), ("b", "2"), ("a", "3")]);
    /// pairs.insert("a", "x");
    /// assert_eq!(pairs, waylay_sdk::Pairs::from_iter([("a", "x"), ("b", "2")]));
    /// ```
    pub fn insert(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let (name, value) = (name.as_ref(), value.as_ref());
        let first = self.iter_bytes().position(|(n, _)| n == name);
        match first {
            Some(first) => {
                let [start, end] = self.put(value);
                self.spans[first][2..].copy_from_slice(&[start, end]);
                let buf = &self.buf;
                let mut i = 0;
                self.spans.retain(|span| {
                    i += 1;
                    i - 1 == first || &buf[span[0] as usize..span[1] as usize] != name
                });
            }
            None => self.append(name, value),
        }
        self.compact_if_wasteful();
    }

    /// Appends a pair, keeping the others of that name (`multidict.add`).
    ///
    /// ```
    /// let mut pairs = waylay_sdk::Pairs::default();
    /// pairs.append("tag", "a");
    /// pairs.append("tag", "b");
    /// assert_eq!(pairs.get_all("tag"), ["a", "b"]);
    /// ```
    pub fn append(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let [n0, n1] = self.put(name.as_ref());
        let [v0, v1] = self.put(value.as_ref());
        self.spans.push([n0, n1, v0, v1]);
    }

    /// Removes every pair of `name`; how many there were.
    ///
    /// ```
    /// let mut pairs = waylay_sdk::Pairs::from_iter([("a", "1"), ("a", "2")]);
    /// assert_eq!(pairs.remove("a"), 2);
    /// assert!(pairs.is_empty());
    /// ```
    pub fn remove(&mut self, name: impl AsRef<[u8]>) -> usize {
        let before = self.spans.len();
        let buf = &self.buf;
        self.spans
            .retain(|span| &buf[span[0] as usize..span[1] as usize] != name.as_ref());
        self.compact_if_wasteful();
        before - self.spans.len()
    }

    /// The boundary's encoding: items, each a 4-byte little-endian length
    /// and its bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buf.len() + 8 * self.spans.len());
        for (n, v) in self.iter_bytes() {
            for item in [n, v] {
                out.extend_from_slice(&(item.len() as u32).to_le_bytes());
                out.extend_from_slice(item);
            }
        }
        out
    }

    /// Pairs over the boundary's items, kept as they came: the names and
    /// values are ranges of `bytes`, nothing copied. A short tail, or a
    /// name without its value, is dropped.
    pub(crate) fn decode(bytes: Vec<u8>) -> Pairs {
        // A pair takes at least its two 4-byte lengths; a large view's
        // spans grow as they are found.
        let mut spans = Vec::with_capacity((bytes.len() / 8).min(256));
        let mut at = 0usize;
        let item = |at: &mut usize| {
            let len = bytes.get(*at..*at + 4)?;
            let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
            let start = *at + 4;
            let end = start.checked_add(len).filter(|&e| e <= bytes.len())?;
            *at = end;
            Some([start as u32, end as u32])
        };
        while let (Some([n0, n1]), Some([v0, v1])) = (item(&mut at), item(&mut at)) {
            spans.push([n0, n1, v0, v1]);
        }
        Pairs { buf: bytes, spans }
    }
}

/// Items as the boundary carries them (see [`Pairs::encode`]); a short
/// tail is dropped.
pub(crate) fn items(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut items = Vec::new();
    while let Some((len, rest)) = bytes.split_first_chunk::<4>() {
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            break;
        }
        items.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    items
}

/// Pairs of a message that write through: each change is made in the
/// message at once (a query changes the request's path, a form its body
/// and Content-Type), as assigning to mitmproxy's multi-dict does.
///
/// ```
/// # fn f(flow: &mut waylay_sdk::Flow) {
/// let mut query = flow.request_mut().query_mut();
/// query.insert("mitmproxy", "rocks");
/// query.remove("utm_source");
/// # }
/// ```
#[derive(Debug)]
pub struct PairsMut<'a> {
    handle: &'a mut FlowHandle,
    which: u32,
    view: u32,
    pairs: Pairs,
    /// The first error a write-through met (read with
    /// [`PairsMut::result`]).
    error: Option<Error>,
}

impl<'a> PairsMut<'a> {
    pub(crate) fn new(handle: &'a mut FlowHandle, which: u32, view: u32) -> PairsMut<'a> {
        let pairs = handle
            .msg_view(which, view)
            .ok()
            .flatten()
            .map(Pairs::decode)
            .unwrap_or_default();
        PairsMut {
            handle,
            which,
            view,
            pairs,
            error: None,
        }
    }

    fn write(&mut self) {
        let encoded = self.pairs.encode();
        if let Err(e) = self.handle.msg_set_view(self.which, self.view, &encoded)
            && self.error.is_none()
        {
            self.error = Some(Error::from_host(e));
        }
    }

    /// [`Pairs::insert`], written through.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().query_mut().insert("lang", "en");
    /// # }
    /// ```
    pub fn insert(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.pairs.insert(name, value);
        self.write();
    }

    /// [`Pairs::append`], written through.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().urlencoded_form_mut().append("tag", "new");
    /// # }
    /// ```
    pub fn append(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.pairs.append(name, value);
        self.write();
    }

    /// [`Pairs::remove`], written through; how many went.
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) {
    /// flow.request_mut().query_mut().remove("utm_source");
    /// # }
    /// ```
    pub fn remove(&mut self, name: impl AsRef<[u8]>) -> usize {
        let removed = self.pairs.remove(name);
        if removed > 0 {
            self.write();
        }
        removed
    }

    /// Whether every change was written: the first refusal (a cookie that
    /// is not UTF-8, a multipart name holding its boundary).
    ///
    /// ```
    /// # fn f(flow: &mut waylay_sdk::Flow) -> Result<(), waylay_sdk::Error> {
    /// let mut form = flow.request_mut().multipart_form_mut();
    /// form.insert("name", "value");
    /// form.result()
    /// # }
    /// ```
    pub fn result(self) -> Result<(), Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl std::ops::Deref for PairsMut<'_> {
    type Target = Pairs;

    fn deref(&self) -> &Pairs {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::Pairs;

    fn items(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(&(p.len() as u32).to_le_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    #[test]
    fn the_boundary_items_are_read_in_place_and_written_back() {
        let bytes = items(&[b"a", b"1", b"b", b"", b"a", b"\xff"]);
        let pairs = Pairs::decode(bytes.clone());
        assert_eq!(
            pairs,
            Pairs::from_iter([(&b"a"[..], &b"1"[..]), (b"b", b""), (b"a", b"\xff")])
        );
        assert_eq!(pairs.encode(), bytes);
        // A name without its value, and a cut item, are dropped.
        let mut cut = items(&[b"a", b"1", b"lonely"]);
        assert_eq!(Pairs::decode(cut.clone()).len(), 1);
        cut.extend_from_slice(&[9, 0, 0, 0, b'x']);
        assert_eq!(Pairs::decode(cut).len(), 1);
        assert!(Pairs::decode(vec![1, 2]).is_empty());
    }

    #[test]
    fn changes_after_decoding_keep_order_and_encode_cleanly() {
        let mut pairs = Pairs::decode(items(&[b"a", b"1", b"b", b"2", b"a", b"3"]));
        pairs.insert("a", "x");
        pairs.append("c", "4");
        assert_eq!(pairs.remove("b"), 1);
        pairs.insert("c", "five");
        let expected = Pairs::from_iter([("a", "x"), ("c", "five")]);
        assert_eq!(pairs, expected);
        assert_eq!(pairs.encode(), expected.encode());
        assert_eq!(format!("{pairs:?}"), r#"[("a", "x"), ("c", "five")]"#);
    }

    #[test]
    fn a_pairs_changed_again_and_again_stays_small() {
        let mut pairs = Pairs::from_iter([("keep", "me")]);
        for i in 0..10_000 {
            pairs.insert("counter", i.to_string());
        }
        assert_eq!(pairs.get("counter").as_deref(), Some("9999"));
        assert_eq!(pairs.get("keep").as_deref(), Some("me"));
        assert!(pairs.buf.len() < 1024, "{} bytes kept", pairs.buf.len());
    }
}
