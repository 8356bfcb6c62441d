//! [`Headers`]: ordered, multi-valued, case-insensitive HTTP headers
//! (mitmproxy's Headers, the seed's CaselessODict).

use crate::Error;
use crate::abi;
use crate::boundary::host::FlowHandle;

/// The header fields of a request or response.
///
/// Fields keep their wire order and the case they were sent in; duplicates
/// are kept. Lookups ignore ASCII case. Setting a field replaces every field
/// of that name, as `headers[name] = value` does in mitmproxy.
///
/// ```
/// # use waylay_sdk::Flow;
/// fn f(flow: &mut Flow) {
///     let headers = flow.request_mut().headers_mut();
///     headers.set("X-Trace", "1");
///     assert_eq!(headers.get("x-trace"), Some("1"));
/// }
/// ```
#[derive(Debug)]
pub struct Headers {
    handle: FlowHandle,
    which: u32,
}

impl Headers {
    pub(crate) fn new(handle: FlowHandle, which: u32) -> Headers {
        Headers { handle, which }
    }

    /// The number of fields, duplicates counted.
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// println!("{} fields", h.len());
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.handle.headers_len(self.which)
    }

    /// Whether there are no fields.
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// if h.is_empty() { println!("bare"); }
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every field as `(name, value)`, in order, as sent.
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// for (name, value) in h.iter() {
    ///     println!("{}: {}", String::from_utf8_lossy(name), String::from_utf8_lossy(value));
    /// }
    /// # }
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        (0..self.len()).filter_map(move |i| self.handle.header_at(self.which, i))
    }

    /// The value of the first field named `name` (any case), as bytes.
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// let raw: Option<&[u8]> = h.get_bytes("cookie");
    /// # }
    /// ```
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The value of the first field named `name` (any case), or `None`
    /// if there is none or its value is not UTF-8 (see
    /// [`get_bytes`](Headers::get_bytes)).
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// let html = h.get("content-type").is_some_and(|v| v.starts_with("text/html"));
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The values of every field named `name` (any case), in order.
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// let cookies: Vec<&[u8]> = h.get_all("set-cookie").collect();
    /// # }
    /// ```
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Whether a field named `name` (any case) exists.
    ///
    /// ```
    /// # fn f(h: &waylay_sdk::Headers) {
    /// let compressed = h.contains("content-encoding");
    /// # }
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.get_bytes(name).is_some()
    }

    /// Sets `name` to `value`: the first field of that name (any case) takes
    /// the value and keeps its place and its name's case, the others are
    /// removed; with none, the field is appended.
    ///
    /// ```
    /// # fn f(h: &mut waylay_sdk::Headers) {
    /// h.set("cache-control", "no-store");
    /// # }
    /// ```
    pub fn set(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.edit(abi::HEADERS_SET, 0, name.as_bytes(), value.as_ref())
            .expect("the host accepts any header bytes");
    }

    /// Appends a field, keeping any others of the same name.
    ///
    /// ```
    /// # fn f(h: &mut waylay_sdk::Headers) {
    /// h.append("set-cookie", "a=1");
    /// h.append("set-cookie", "b=2");
    /// # }
    /// ```
    pub fn append(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.edit(abi::HEADERS_APPEND, 0, name.as_bytes(), value.as_ref())
            .expect("the host accepts any header bytes");
    }

    /// Inserts a field at position `index` (clamped to the end).
    ///
    /// ```
    /// # fn f(h: &mut waylay_sdk::Headers) {
    /// h.insert(0, "x-first", "1");
    /// # }
    /// ```
    pub fn insert(&mut self, index: usize, name: &str, value: impl AsRef<[u8]>) {
        self.edit(abi::HEADERS_INSERT, index, name.as_bytes(), value.as_ref())
            .expect("the host accepts any header bytes");
    }

    /// Removes every field named `name` (any case); returns how many.
    ///
    /// ```
    /// # fn f(h: &mut waylay_sdk::Headers) {
    /// let n = h.remove("x-debug");
    /// # }
    /// ```
    pub fn remove(&mut self, name: &str) -> usize {
        self.edit(abi::HEADERS_REMOVE, 0, name.as_bytes(), b"")
            .unwrap_or(0)
    }

    /// Removes the field at `index`, if there is one.
    ///
    /// ```
    /// # fn f(h: &mut waylay_sdk::Headers) {
    /// if !h.is_empty() { h.remove_at(0); }
    /// # }
    /// ```
    pub fn remove_at(&mut self, index: usize) -> bool {
        self.edit(abi::HEADERS_REMOVE_AT, index, b"", b"")
            .is_ok_and(|n| n == 1)
    }

    fn edit(&mut self, op: u32, index: usize, name: &[u8], value: &[u8]) -> Result<usize, Error> {
        self.handle
            .headers_edit(self.which, op, index, name, value)
            .map_err(Error::from_host)
    }
}
