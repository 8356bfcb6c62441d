//! Two bodies compared: a JSON body structurally (keys and items added,
//! removed and changed, each by its path), any other text by lines, a
//! binary body by its size and SHA-256.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use similar::{Algorithm, ChangeTag, DiffTag, TextDiff};

/// The most JSON changes or diff lines one comparison lists; the totals
/// still count them all.
pub const MAX_LISTED: usize = 1000;

/// How long a line (or array) diff may search for the shortest edit before it
/// settles for a longer one.
const LINE_DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// How much of a changed JSON value is shown.
const PREVIEW_CHARS: usize = 200;

/// One difference between two JSON documents.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Where, as a JSONPath: `$.user.name`, `$.items[2]`, `$["a b"]`.
    pub path: String,
    /// What happened there.
    pub kind: ChangeKind,
    /// The left value, as JSON text cut to a preview (none when added).
    pub left: Option<String>,
    /// The right value (none when removed).
    pub right: Option<String>,
}

/// What happened at a [`Change`]'s path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Only on the right.
    Added,
    /// Only on the left.
    Removed,
    /// On both sides, with different values (or types).
    Changed,
}

impl ChangeKind {
    fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// The structural differences of `left` and `right`: the first
/// [`MAX_LISTED`], and how many there are in all. Object members are
/// matched by key; array items are aligned by a diff (see
/// `Walk::arrays`).
pub fn json_changes(left: &Json, right: &Json) -> (Vec<Change>, usize) {
    let mut walk = Walk {
        path: String::from("$"),
        listed: Vec::new(),
        total: 0,
    };
    walk.value(left, right);
    (walk.listed, walk.total)
}

struct Walk {
    path: String,
    listed: Vec<Change>,
    total: usize,
}

impl Walk {
    fn value(&mut self, left: &Json, right: &Json) {
        match (left, right) {
            (Json::Object(l), Json::Object(r)) => {
                for (key, lv) in l {
                    let at = self.enter_key(key);
                    match r.get(key) {
                        Some(rv) => self.value(lv, rv),
                        None => self.note(ChangeKind::Removed, Some(lv), None),
                    }
                    self.path.truncate(at);
                }
                for (key, rv) in r.iter().filter(|(k, _)| !l.contains_key(*k)) {
                    let at = self.enter_key(key);
                    self.note(ChangeKind::Added, None, Some(rv));
                    self.path.truncate(at);
                }
            }
            (Json::Array(l), Json::Array(r)) => self.arrays(l, r),
            _ if left == right => {}
            _ => self.note(ChangeKind::Changed, Some(left), Some(right)),
        }
    }

    /// Two arrays, aligned by a diff of their items (so one item taken
    /// out shows as one removal, not as every later item changed). A
    /// removed item is named by its index on the left, an added one by
    /// its index on the right, a changed one by its index on the left.
    fn arrays(&mut self, l: &[Json], r: &[Json]) {
        let (lh, rh): (Vec<u64>, Vec<u64>) =
            (l.iter().map(hash).collect(), r.iter().map(hash).collect());
        let deadline = Instant::now() + LINE_DIFF_DEADLINE;
        for op in similar::capture_diff_slices_deadline(Algorithm::Myers, &lh, &rh, Some(deadline))
        {
            let (tag, old, new) = op.as_tag_tuple();
            match tag {
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                    let (ls, rs) = (&l[old.clone()], &r[new.clone()]);
                    for step in pair_items(ls, rs) {
                        match step {
                            (Some(i), Some(j)) => {
                                self.item(old.start + i, Some(&ls[i]), Some(&rs[j]))
                            }
                            (Some(i), None) => self.item(old.start + i, Some(&ls[i]), None),
                            (None, Some(j)) => self.item(new.start + j, None, Some(&rs[j])),
                            (None, None) => {}
                        }
                    }
                }
                // Equal by hash is checked, in case two hashes collide.
                DiffTag::Equal => {
                    for k in 0..old.len() {
                        let (lv, rv) = (&l[old.start + k], &r[new.start + k]);
                        if lv != rv {
                            self.item(old.start + k, Some(lv), Some(rv));
                        }
                    }
                }
            }
        }
    }

    /// Item `index` of an array: compared, removed or added.
    fn item(&mut self, index: usize, left: Option<&Json>, right: Option<&Json>) {
        let at = self.path.len();
        let _ = write!(self.path, "[{index}]");
        match (left, right) {
            (Some(lv), Some(rv)) => self.value(lv, rv),
            (Some(lv), None) => self.note(ChangeKind::Removed, Some(lv), None),
            (None, rv) => self.note(ChangeKind::Added, None, rv),
        }
        self.path.truncate(at);
    }

    /// Adds `.key` (or `["key"]` when it is not a plain name) to the
    /// path; gives the length to cut back to.
    fn enter_key(&mut self, key: &str) -> usize {
        let at = self.path.len();
        let plain = key
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_alphanumeric() || c == '_');
        if plain {
            self.path.push('.');
            self.path.push_str(key);
        } else {
            self.path.push('[');
            self.path.push_str(&Json::from(key).to_string());
            self.path.push(']');
        }
        at
    }

    fn note(&mut self, kind: ChangeKind, left: Option<&Json>, right: Option<&Json>) {
        self.total += 1;
        if self.listed.len() < MAX_LISTED {
            self.listed.push(Change {
                path: self.path.clone(),
                kind,
                left: left.map(preview),
                right: right.map(preview),
            });
        }
    }
}

/// The most left-by-right comparisons [`pair_items`] makes to pair a
/// changed run of items by likeness; past it, they pair by position.
const MAX_PAIRING: usize = 10_000;

/// How a changed run of array items (`ls` became `rs`) lines up, in
/// order: `(Some(i), Some(j))` compares `ls[i]` with `rs[j]`, `(Some(i),
/// None)` is removed, `(None, Some(j))` added. Runs of one length pair by
/// position. Otherwise they are aligned so that the paired items have
/// the most members alike in all (objects; other items never pair), so
/// an item taken out beside a changed one shows as taken out, not as
/// its neighbour changed.
fn pair_items(ls: &[Json], rs: &[Json]) -> Vec<(Option<usize>, Option<usize>)> {
    let mut steps = Vec::with_capacity(ls.len().max(rs.len()));
    if ls.len() == rs.len() || ls.len() * rs.len() > MAX_PAIRING {
        let n = ls.len().min(rs.len());
        steps.extend((0..n).map(|k| (Some(k), Some(k))));
        steps.extend((n..ls.len()).map(|i| (Some(i), None)));
        steps.extend((n..rs.len()).map(|j| (None, Some(j))));
        return steps;
    }
    let likeness = |a: &Json, b: &Json| match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            x.iter().filter(|(k, v)| y.get(*k) == Some(v)).count()
        }
        _ => 0,
    };
    // The order-keeping pairing with the most members alike in all
    // (an alignment, as a line diff aligns lines): best[i][j] is the most
    // for ls[i..] and rs[j..].
    let (a, b) = (ls.len(), rs.len());
    let score: Vec<Vec<usize>> = ls
        .iter()
        .map(|lv| rs.iter().map(|rv| likeness(lv, rv)).collect())
        .collect();
    let mut best = vec![vec![0usize; b + 1]; a + 1];
    for i in (0..a).rev() {
        for j in (0..b).rev() {
            let paired = if score[i][j] > 0 {
                score[i][j] + best[i + 1][j + 1]
            } else {
                0
            };
            best[i][j] = paired.max(best[i + 1][j]).max(best[i][j + 1]);
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a && j < b {
        if score[i][j] > 0 && best[i][j] == score[i][j] + best[i + 1][j + 1] {
            steps.push((Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if best[i][j] == best[i + 1][j] {
            steps.push((Some(i), None));
            i += 1;
        } else {
            steps.push((None, Some(j)));
            j += 1;
        }
    }
    steps.extend((i..a).map(|k| (Some(k), None)));
    steps.extend((j..b).map(|k| (None, Some(k))));
    steps
}

/// A hash of a JSON value's content (numbers by their text, so `1` and
/// `1.0` differ, as they do under `==`).
fn hash(value: &Json) -> u64 {
    fn feed(value: &Json, h: &mut DefaultHasher) {
        match value {
            Json::Null => 0u8.hash(h),
            Json::Bool(b) => (1u8, b).hash(h),
            Json::Number(n) => (2u8, n.to_string()).hash(h),
            Json::String(s) => (3u8, s).hash(h),
            Json::Array(items) => {
                (4u8, items.len()).hash(h);
                items.iter().for_each(|i| feed(i, h));
            }
            Json::Object(map) => {
                (5u8, map.len()).hash(h);
                for (k, v) in map {
                    k.hash(h);
                    feed(v, h);
                }
            }
        }
    }
    let mut h = DefaultHasher::new();
    feed(value, &mut h);
    h.finish()
}

/// A JSON value as text, cut to [`PREVIEW_CHARS`] characters.
fn preview(value: &Json) -> String {
    let text = value.to_string();
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A body read as a JSON object or array, if it is one.
fn as_json(body: &[u8]) -> Option<Json> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// The page's comparison of two bodies (`None`: the message has none):
/// `kind` is `none`, `same`, `json`, `text` or `binary`.
pub fn compare(left: Option<&[u8]>, right: Option<&[u8]>) -> Json {
    let sizes = json!({
        "left": left.map(<[u8]>::len),
        "right": right.map(<[u8]>::len),
    });
    let (l, r) = match (left, right) {
        (None, None) => return json!({"kind": "none"}),
        (l, r) => (l.unwrap_or_default(), r.unwrap_or_default()),
    };
    if l == r {
        return json!({"kind": "same", "size": sizes, "sha256": sha256(l)});
    }
    if let (Some(lj), Some(rj)) = (as_json(l), as_json(r)) {
        let (changes, total) = json_changes(&lj, &rj);
        let listed: Vec<Json> = changes
            .iter()
            .map(|c| {
                json!({
                    "path": c.path,
                    "kind": c.kind.name(),
                    "left": c.left,
                    "right": c.right,
                })
            })
            .collect();
        return json!({"kind": "json", "size": sizes, "changes": listed, "total": total});
    }
    match (std::str::from_utf8(l), std::str::from_utf8(r)) {
        (Ok(lt), Ok(rt)) => lines(lt, rt, sizes),
        _ => json!({
            "kind": "binary",
            "size": sizes,
            "sha256": {"left": sha256(l), "right": sha256(r)},
        }),
    }
}

/// A line diff in hunks with three lines of context: each line is
/// `[tag, left line number, right line number, text]`, tag ` `, `-` or
/// `+`, numbers from 1 (null on the side without the line).
fn lines(left: &str, right: &str, sizes: Json) -> Json {
    let diff = TextDiff::configure()
        .timeout(LINE_DIFF_DEADLINE)
        .diff_lines(left, right);
    let (mut removed, mut added, mut listed, mut seen) = (0usize, 0usize, 0usize, 0usize);
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(3) {
        let mut shown = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Equal => " ",
                    ChangeTag::Delete => {
                        removed += 1;
                        "-"
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        "+"
                    }
                };
                seen += 1;
                if listed < MAX_LISTED {
                    listed += 1;
                    let text = change.value().trim_end_matches(['\n', '\r']);
                    shown.push(json!([
                        tag,
                        change.old_index().map(|i| i + 1),
                        change.new_index().map(|i| i + 1),
                        text,
                    ]));
                }
            }
        }
        if !shown.is_empty() {
            hunks.push(Json::Array(shown));
        }
    }
    json!({
        "kind": "text",
        "size": sizes,
        "hunks": hunks,
        "removed": removed,
        "added": added,
        "truncated": seen > listed,
    })
}

/// A body's SHA-256, in hex.
pub fn sha256(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}
