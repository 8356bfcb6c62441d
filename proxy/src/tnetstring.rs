//! tnetstrings as mitmproxy writes them: the value tree, its parser and its
//! serializer.
//!
//! `item := LEN ':' PAYLOAD TAG`. Besides the standard tags mitmproxy adds
//! `;` for UTF-8 text.
//!
//! Reading is lazy and zero-copy. [`parse`] checks the whole item up front
//! (so bad input is reported where it is, once) but builds only the top
//! level; a nested dict or list is built the first time it is read. Byte
//! and text values are slices of the buffer the item was read into. A
//! container remembers its source bytes until it is changed, so writing an
//! unchanged tree copies those bytes, and writing a changed one gives what
//! mitmproxy would write: dict order is kept and floats are written the way
//! Python's `repr` writes them.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

mod parse;
mod pyfloat;
mod walk;
mod write;

pub(crate) use parse::{MAX_LEN_DIGITS, item_size};
pub use parse::{ParseError, dict_int, parse};
pub use walk::{Item, Node, Tree};
pub use write::{write, write_spliced};

/// A float as Python's `repr` writes it (`5.0`, `1e+16`).
pub(crate) fn py_float_repr(f: f64) -> String {
    let mut out = Vec::new();
    pyfloat::write(f, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A tnetstring value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `0:~`
    Null,
    /// `!`
    Bool(bool),
    /// `#`
    Int(i64),
    /// `^`
    Float(f64),
    /// `,` raw bytes.
    Bytes(Bytes),
    /// `;` UTF-8 text (checked when parsed or built).
    Text(Bytes),
    /// `]`; shared so that cloning a flow is cheap and edits copy only
    /// the path they touch.
    List(Arc<List>),
    /// `}`
    Dict(Arc<Dict>),
}

/// A tnetstring dict: ordered entries, keys text or (in old files) bytes.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    /// The checked source item, until the dict is changed.
    raw: Option<Bytes>,
    /// Built from `raw` on first read, or by whoever built the dict.
    entries: OnceLock<Vec<(Value, Value)>>,
}

/// A tnetstring list; lazy like [`Dict`].
#[derive(Clone, Debug, Default)]
pub struct List {
    raw: Option<Bytes>,
    items: OnceLock<Vec<Value>>,
}

impl Value {
    /// A text value.
    pub fn text(s: &str) -> Value {
        Value::Text(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// A text value that lives as long as the program: nothing copied.
    pub fn static_text(s: &'static str) -> Value {
        Value::Text(Bytes::from_static(s.as_bytes()))
    }

    /// A bytes value.
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(Bytes::copy_from_slice(b))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(List {
            raw: None,
            items: OnceLock::from(items),
        }))
    }

    /// The payload of a bytes or text value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) | Value::Text(b) => Some(b),
            _ => None,
        }
    }

    /// The text of a text value (or of bytes that happen to be UTF-8).
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// An int.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A float (ints are widened, as Python would).
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A dict.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// A dict, to change (copied first if shared).
    pub fn as_dict_mut(&mut self) -> Option<&mut Dict> {
        match self {
            Value::Dict(d) => Some(Arc::make_mut(d)),
            _ => None,
        }
    }

    /// A list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l.items()),
            _ => None,
        }
    }

    /// A list, to change (copied first if shared).
    pub fn as_list_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::List(l) => Some(Arc::make_mut(l).items_mut()),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// This value in its file form: written once and read back lazily, so
    /// that each container is built again only when something reads it.
    /// For a value kept for long (a connection's record, an idle
    /// stream's flow): the bytes take about a third of the memory of
    /// built entries. `write` sizes the buffer exactly.
    #[cfg(feature = "live")]
    pub(crate) fn file_form(&self) -> Value {
        let mut bytes = Vec::new();
        write(self, &mut bytes);
        let bytes = Bytes::from(bytes);
        match self {
            Value::Dict(_) => Value::Dict(Arc::new(Dict::lazy(bytes))),
            Value::List(_) => Value::List(Arc::new(List::lazy(bytes))),
            scalar => scalar.clone(),
        }
    }

    /// A copy with every container built anew (no source bytes kept), so
    /// that writing it serializes everything: for checking the serializer
    /// against the bytes a tree was read from (the fuzz targets).
    #[cfg(feature = "live")]
    pub(crate) fn rebuilt(&self) -> Value {
        match self {
            Value::List(l) => Value::list(l.items().iter().map(Value::rebuilt).collect()),
            Value::Dict(d) => {
                let mut built = Dict::with_capacity(d.len());
                for (k, v) in d.iter() {
                    built.push_entry(k.clone(), v.rebuilt());
                }
                Value::Dict(Arc::new(built))
            }
            scalar => scalar.clone(),
        }
    }

    /// Drops the remembered source bytes of every container inside, so the
    /// next write serializes everything (to test the serializer).
    #[cfg(test)]
    pub(crate) fn forget_raw(&mut self) {
        if let Some(d) = self.as_dict_mut() {
            d.entries_mut().iter_mut().for_each(|(k, v)| {
                k.forget_raw();
                v.forget_raw();
            });
        } else if let Some(l) = self.as_list_mut() {
            l.iter_mut().for_each(Value::forget_raw);
        }
    }
}

impl Dict {
    /// An empty dict.
    pub fn new() -> Dict {
        Dict::default()
    }

    /// An empty dict with room for `n` entries: a dict built once and
    /// then kept (a live connection's) holds no spare room.
    pub fn with_capacity(n: usize) -> Dict {
        Dict {
            raw: None,
            entries: OnceLock::from(Vec::with_capacity(n)),
        }
    }

    /// A dict to be built from the checked item `raw` when first read.
    pub(crate) fn lazy(raw: Bytes) -> Dict {
        Dict {
            raw: Some(raw),
            entries: OnceLock::new(),
        }
    }

    pub(crate) fn raw(&self) -> Option<&Bytes> {
        self.raw.as_ref()
    }

    /// The source bytes, while the entries have not been built from them:
    /// for reading one field without building the rest.
    pub(crate) fn unbuilt(&self) -> Option<&Bytes> {
        self.raw.as_ref().filter(|_| self.entries.get().is_none())
    }

    fn entries(&self) -> &[(Value, Value)] {
        self.entries
            .get_or_init(|| parse::dict_entries(self.raw.as_ref()))
    }

    fn entries_mut(&mut self) -> &mut Vec<(Value, Value)> {
        self.entries();
        self.raw = None;
        self.entries.get_mut().expect("built just above")
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The values at each of `keys`, found in one walk over the entries
    /// (for reading several fields: each [`get`](Dict::get) walks them
    /// again, and a key that is absent walks them all).
    pub fn fields<const N: usize>(&self, keys: [&str; N]) -> [Option<&Value>; N] {
        let entries = self.entries().iter();
        walk::find_fields(keys, entries.filter_map(|(k, v)| Some((k.as_bytes()?, v))))
    }

    /// The value at `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries_mut()
            .iter_mut()
            .find(|(k, _)| k.as_bytes() == Some(key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Sets `key`, in place if it exists, else first (where mitmproxy puts
    /// the newest key).
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.entries_mut().insert(0, (Value::text(key), value)),
        }
    }

    /// Appends `key` without looking for an existing entry; for building.
    pub fn push(&mut self, key: &'static str, value: Value) {
        self.entries_mut()
            .push((Value::Text(Bytes::from_static(key.as_bytes())), value));
    }

    /// Appends an entry with any key (text or bytes) without looking for
    /// an existing one; for building.
    pub fn push_entry(&mut self, key: Value, value: Value) {
        self.entries_mut().push((key, value));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let entries = self.entries_mut();
        let i = entries
            .iter()
            .position(|(k, _)| k.as_bytes() == Some(key.as_bytes()))?;
        Some(entries.remove(i).1)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries().iter().map(|(k, v)| (k, v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}

impl PartialEq for Dict {
    fn eq(&self, other: &Dict) -> bool {
        match (&self.raw, &other.raw) {
            (Some(a), Some(b)) if a == b => true,
            _ => self.entries() == other.entries(),
        }
    }
}

impl List {
    pub(crate) fn lazy(raw: Bytes) -> List {
        List {
            raw: Some(raw),
            items: OnceLock::new(),
        }
    }

    pub(crate) fn raw(&self) -> Option<&Bytes> {
        self.raw.as_ref()
    }

    /// The source bytes, while the items have not been built from them:
    /// for reading without building.
    pub(crate) fn unbuilt(&self) -> Option<&Bytes> {
        self.raw.as_ref().filter(|_| self.items.get().is_none())
    }

    pub(crate) fn items(&self) -> &[Value] {
        self.items
            .get_or_init(|| parse::list_items(self.raw.as_ref()))
    }

    fn items_mut(&mut self) -> &mut Vec<Value> {
        self.items();
        self.raw = None;
        self.items.get_mut().expect("built just above")
    }
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        match (&self.raw, &other.raw) {
            (Some(a), Some(b)) if a == b => true,
            _ => self.items() == other.items(),
        }
    }
}

#[cfg(test)]
mod tests;
