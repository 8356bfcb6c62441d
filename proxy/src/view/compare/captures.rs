//! Two captures compared: flows matched by method, host, path and query,
//! the ones left unmatched on either side, and the matched ones that
//! differ.

use serde_json::{Value as Json, json};

use super::differences;
use crate::view::{ReadBack, Row, Session};

/// The most entries each of the comparison's lists holds; its counts
/// still count them all.
pub const MAX_LISTED: usize = 1000;

/// What matches a flow with its twin in the other capture: the method,
/// the host (without its port) and the path with the query. A flow that
/// is not HTTP is matched by its type and its server's address.
pub fn match_key(row: &Row) -> String {
    if row.method.is_empty() {
        return format!("{} {}", row.kind, row.url);
    }
    let rest = row.url.split_once("://").map_or(&*row.url, |(_, r)| r);
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    format!("{} {}{}", row.method, host.to_ascii_lowercase(), path)
}

/// A flow of the left capture matched with one of the right.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// The flow's number in the left capture.
    pub left: usize,
    /// Its twin's number in the right capture.
    pub right: usize,
    /// What differs ([`differences`]); empty when they are alike.
    pub what: Vec<&'static str>,
}

/// Two captures compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaptureDiff {
    /// Flows on each side (deleted ones left out).
    pub totals: [usize; 2],
    /// Matched pairs that are alike.
    pub alike: usize,
    /// Matched pairs that differ, in the left capture's order.
    pub differ: Vec<Pair>,
    /// Flows with no twin, left and right, in their capture's order.
    pub unmatched: [Vec<usize>; 2],
}

/// Pairs the flows of two lists of `(number, key)` by key, the first of
/// a key on the left with the first on the right, and so on; gives the
/// pairs and what is left on each side.
pub fn pair_up(
    left: &[(usize, String)],
    right: &[(usize, String)],
) -> (Vec<(usize, usize)>, [Vec<usize>; 2]) {
    let mut waiting: std::collections::HashMap<&str, std::collections::VecDeque<usize>> =
        std::collections::HashMap::new();
    for (n, key) in right {
        waiting.entry(key).or_default().push_back(*n);
    }
    let mut pairs = Vec::new();
    let mut left_only = Vec::new();
    for (n, key) in left {
        match waiting.get_mut(key.as_str()).and_then(|q| q.pop_front()) {
            Some(m) => pairs.push((*n, m)),
            None => left_only.push(*n),
        }
    }
    let paired: std::collections::HashSet<usize> = pairs.iter().map(|(_, m)| *m).collect();
    let right_only = right
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !paired.contains(n))
        .collect();
    (pairs, [left_only, right_only])
}

impl CaptureDiff {
    /// Compares the flows of `left` and `right`, reading each matched
    /// pair back from its session file.
    pub fn of(left: &Session, right: &Session) -> Result<CaptureDiff, ReadBack> {
        let keys = |s: &Session| -> Vec<(usize, String)> {
            (0..s.len())
                .filter_map(|n| s.row(n).filter(|r| !r.deleted).map(|r| (n, match_key(&r))))
                .collect()
        };
        let (lk, rk) = (keys(left), keys(right));
        let (pairs, unmatched) = pair_up(&lk, &rk);
        let mut diff = CaptureDiff {
            totals: [lk.len(), rk.len()],
            unmatched,
            ..CaptureDiff::default()
        };
        for (l, r) in pairs {
            let what = differences(&left.flow(l)?, &right.flow(r)?);
            if what.is_empty() {
                diff.alike += 1;
            } else {
                diff.differ.push(Pair {
                    left: l,
                    right: r,
                    what,
                });
            }
        }
        Ok(diff)
    }

    /// The page's JSON: counts, and the first [`MAX_LISTED`] entries of
    /// each list with the fields their rows show.
    pub fn json(&self, left: &Session, right: &Session) -> Json {
        let brief = |s: &Session, n: usize| {
            s.row(n).map_or(json!({"n": n}), |r| {
                json!({"n": n, "method": &*r.method, "url": &*r.url, "status": r.status, "type": &*r.kind})
            })
        };
        let differ: Vec<Json> = self
            .differ
            .iter()
            .take(MAX_LISTED)
            .map(|p| json!({"left": brief(left, p.left), "right": brief(right, p.right), "what": p.what}))
            .collect();
        let only = |s: &Session, list: &[usize]| -> Vec<Json> {
            list.iter().take(MAX_LISTED).map(|&n| brief(s, n)).collect()
        };
        json!({
            "totals": {"left": self.totals[0], "right": self.totals[1]},
            "matched": self.alike + self.differ.len(),
            "alike": self.alike,
            "differ": {"count": self.differ.len(), "items": differ},
            "left_only": {"count": self.unmatched[0].len(), "items": only(left, &self.unmatched[0])},
            "right_only": {"count": self.unmatched[1].len(), "items": only(right, &self.unmatched[1])},
        })
    }
}
