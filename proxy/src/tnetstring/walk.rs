//! Reading a few fields of a tnetstring without building it. [`Item`]
//! walks an item by its length prefixes; [`Node`] is what an [`Item`] and
//! a built [`Value`] tree have in common, so that one function reads
//! either (the view's rows are read both ways).

use super::parse::item;
use super::{Dict, Value};

/// A read-only view of one value, built or not.
pub trait Node<'a>: Copy {
    /// The value at `key` of a dict; `None` for anything else.
    fn get(self, key: &str) -> Option<Self>;
    /// The payload of a bytes or text value.
    fn bytes(self) -> Option<&'a [u8]>;
    /// An integer.
    fn int(self) -> Option<i64>;
    /// A float (integers are widened, as Python would).
    fn float(self) -> Option<f64>;
    /// `true`.
    fn is_true(self) -> bool;
    /// `null`.
    fn is_null(self) -> bool;
    /// A dict.
    fn is_dict(self) -> bool;
    /// The `i`th item of a list.
    fn nth(self, i: usize) -> Option<Self>;
    /// Calls `f` with each item of a list (none for anything else).
    fn each(self, f: impl FnMut(Self));

    /// The text of a text value, or of bytes that are UTF-8.
    fn str(self) -> Option<&'a str> {
        self.bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The dict at `key`, if it is one.
    fn dict(self, key: &str) -> Option<Self> {
        self.get(key).filter(|n| n.is_dict())
    }

    /// The values at each of `keys`, as [`get`](Node::get) finds them
    /// (an [`Item`] walks the dict once for all of them).
    fn fields<const N: usize>(self, keys: [&str; N]) -> [Option<Self>; N] {
        keys.map(|k| self.get(k))
    }
}

/// A built value, or a dict on its own (a flow's top level). A container
/// that was never built (a connection record kept in its file form, a
/// flow read lazily) is read from the bytes it was parsed from, so that
/// reading a tree never builds any of it.
#[derive(Clone, Copy, Debug)]
pub enum Tree<'a> {
    /// A value.
    Value(&'a Value),
    /// A dict.
    Dict(&'a Dict),
    /// A value inside a container that was never built, read from its
    /// bytes.
    Raw(Item<'a>),
}

impl<'a> Tree<'a> {
    /// This value's bytes, when it is a container not built yet (or
    /// already read from bytes).
    fn raw(self) -> Option<Item<'a>> {
        let bytes = match self {
            Tree::Raw(item) => return Some(item),
            Tree::Dict(d) => d.unbuilt(),
            Tree::Value(Value::Dict(d)) => d.unbuilt(),
            Tree::Value(Value::List(l)) => l.unbuilt(),
            Tree::Value(_) => None,
        };
        Item::first(bytes?).map(|(item, _)| item)
    }

    fn as_dict(self) -> Option<&'a Dict> {
        match self {
            Tree::Dict(d) => Some(d),
            Tree::Value(v) => v.as_dict(),
            Tree::Raw(_) => None,
        }
    }

    fn value(self) -> Option<&'a Value> {
        match self {
            Tree::Value(v) => Some(v),
            Tree::Dict(_) | Tree::Raw(_) => None,
        }
    }
}

impl<'a> Node<'a> for Tree<'a> {
    fn get(self, key: &str) -> Option<Self> {
        match self.raw() {
            Some(item) => item.get(key).map(Tree::Raw),
            None => self.as_dict()?.get(key).map(Tree::Value),
        }
    }
    fn fields<const N: usize>(self, keys: [&str; N]) -> [Option<Self>; N] {
        match self.raw() {
            Some(item) => item.fields(keys).map(|f| f.map(Tree::Raw)),
            None => match self.as_dict() {
                Some(dict) => dict.fields(keys).map(|f| f.map(Tree::Value)),
                None => [None; N],
            },
        }
    }
    fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Tree::Raw(item) => item.bytes(),
            _ => self.value()?.as_bytes(),
        }
    }
    fn int(self) -> Option<i64> {
        match self {
            Tree::Raw(item) => item.int(),
            _ => self.value()?.as_int(),
        }
    }
    fn float(self) -> Option<f64> {
        match self {
            Tree::Raw(item) => item.float(),
            _ => self.value()?.as_float(),
        }
    }
    fn is_true(self) -> bool {
        match self {
            Tree::Raw(item) => item.is_true(),
            _ => matches!(self.value(), Some(Value::Bool(true))),
        }
    }
    fn is_null(self) -> bool {
        match self {
            Tree::Raw(item) => item.is_null(),
            _ => self.value().is_some_and(Value::is_null),
        }
    }
    fn is_dict(self) -> bool {
        match self {
            Tree::Raw(item) => item.is_dict(),
            _ => self.as_dict().is_some(),
        }
    }
    fn nth(self, i: usize) -> Option<Self> {
        match self.raw() {
            Some(item) => item.nth(i).map(Tree::Raw),
            None => self.value()?.as_list()?.get(i).map(Tree::Value),
        }
    }
    fn each(self, mut f: impl FnMut(Self)) {
        match self.raw() {
            Some(item) => item.each(|v| f(Tree::Raw(v))),
            None => {
                if let Some(list) = self.value().and_then(Value::as_list) {
                    list.iter().for_each(|v| f(Tree::Value(v)));
                }
            }
        }
    }
}

/// One item inside a buffer, found by its length prefix and not checked:
/// a malformed part reads as absent rather than failing, so a caller that
/// needs the whole item to be sound parses it as well.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    tag: u8,
    payload: &'a [u8],
}

impl<'a> Item<'a> {
    /// The item that `buf` starts with, and the bytes after it.
    pub fn first(buf: &'a [u8]) -> Option<(Item<'a>, &'a [u8])> {
        let (tag, start, end) = item(buf, 0, buf.len()).ok()?;
        Some((
            Item {
                tag,
                payload: &buf[start..end],
            },
            &buf[end + 1..],
        ))
    }

    /// The item that fills all of `buf`.
    pub fn whole(buf: &'a [u8]) -> Option<Item<'a>> {
        match Item::first(buf)? {
            (item, []) => Some(item),
            _ => None,
        }
    }

    /// The items of a container's payload, in order (for a dict: key,
    /// value, key, value…).
    fn children(self) -> impl Iterator<Item = Item<'a>> {
        let mut rest = self.payload;
        std::iter::from_fn(move || {
            let (next, after) = Item::first(rest)?;
            rest = after;
            Some(next)
        })
    }

    fn text(self) -> Option<&'a str> {
        std::str::from_utf8(self.payload).ok()
    }
}

impl<'a> Node<'a> for Item<'a> {
    fn get(self, key: &str) -> Option<Self> {
        if self.tag != b'}' {
            return None;
        }
        let mut children = self.children();
        while let (Some(k), Some(v)) = (children.next(), children.next()) {
            if matches!(k.tag, b',' | b';') && k.payload == key.as_bytes() {
                return Some(v);
            }
        }
        None
    }
    fn fields<const N: usize>(self, keys: [&str; N]) -> [Option<Self>; N] {
        if self.tag != b'}' {
            return [None; N];
        }
        let mut children = self.children();
        let entries = std::iter::from_fn(|| Some((children.next()?, children.next()?)));
        find_fields(keys, entries.filter_map(|(k, v)| Some((k.bytes()?, v))))
    }
    fn bytes(self) -> Option<&'a [u8]> {
        matches!(self.tag, b',' | b';').then_some(self.payload)
    }
    fn int(self) -> Option<i64> {
        (self.tag == b'#').then(|| self.text()?.parse().ok())?
    }
    fn float(self) -> Option<f64> {
        match self.tag {
            b'^' => self.text()?.parse().ok(),
            b'#' => self.int().map(|i| i as f64),
            _ => None,
        }
    }
    fn is_true(self) -> bool {
        self.tag == b'!' && self.payload == b"true"
    }
    fn is_null(self) -> bool {
        self.tag == b'~'
    }
    fn is_dict(self) -> bool {
        self.tag == b'}'
    }
    fn nth(self, i: usize) -> Option<Self> {
        (self.tag == b']').then(|| self.children().nth(i))?
    }
    fn each(self, f: impl FnMut(Self)) {
        if self.tag == b']' {
            self.children().for_each(f);
        }
    }
}

/// The values at each of `keys` among a dict's `entries` (key bytes and
/// value), found in one walk that stops once all are found; the first
/// entry of a key wins, as [`Node::get`] finds it. What a built [`Dict`]
/// and an [`Item`] read both do.
pub(super) fn find_fields<'k, V: Copy, const N: usize>(
    keys: [&str; N],
    entries: impl Iterator<Item = (&'k [u8], V)>,
) -> [Option<V>; N] {
    let mut found = [None; N];
    let mut missing = N;
    for (k, v) in entries {
        // The length and first byte rule out most keys without a call to
        // `memcmp`.
        let same = |key: &str| {
            let key = key.as_bytes();
            key.len() == k.len() && key.first() == k.first() && key == k
        };
        for (key, slot) in keys.iter().zip(found.iter_mut()) {
            if slot.is_none() && same(key) {
                *slot = Some(v);
                missing -= 1;
            }
        }
        if missing == 0 {
            break;
        }
    }
    found
}
