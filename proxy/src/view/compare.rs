//! Two flows side by side, and two captures matched flow by flow: what
//! the page's Compare shows. Pure functions over flows and rows, no I/O.
//!
//! - Status, method, URL and the other first-line fields sit side by side.
//! - Headers are compared as multisets per name, so a header that only
//!   moved shows as an order change, not as removed and added.
//! - Bodies are compared by [`body::compare`]: JSON structurally, other
//!   text by lines, binary by size and hash.
//! - Timing sits side by side, with the durations worked out.

use serde_json::{Value as Json, json};

use crate::flow::Flow;
use crate::http::{self, Which};
use crate::tnetstring::{Dict, Value};

pub mod body;
pub mod captures;

pub use captures::{CaptureDiff, Pair, match_key};

/// Headers whose values change from one response to the next on their
/// own (clocks and validators): shown when they differ, but they alone do
/// not make two matched flows "differ".
pub const VOLATILE_HEADERS: &[&str] = &["date", "age", "expires", "last-modified", "etag"];

/// One message of both flows, read once: its headers and decoded body on
/// each side.
struct Sides {
    present: [bool; 2],
    headers: [Vec<(String, String, String)>; 2],
    bodies: [Option<bytes::Bytes>; 2],
}

impl Sides {
    fn of(left: &Flow, right: &Flow, which: Which) -> Sides {
        let (l, r) = (left.message(which), right.message(which));
        Sides {
            present: [l.is_some(), r.is_some()],
            headers: [header_list(l), header_list(r)],
            bodies: [decoded(l), decoded(r)],
        }
    }

    /// Whether the headers differ, apart from [`VOLATILE_HEADERS`].
    fn headers_differ(&self) -> bool {
        steady(&self.headers[0]) != steady(&self.headers[1])
    }

    fn bodies_differ(&self) -> bool {
        self.bodies[0] != self.bodies[1]
    }
}

/// A header list without [`VOLATILE_HEADERS`], as a sorted multiset of
/// (lowercased name, value).
fn steady(list: &[(String, String, String)]) -> Vec<(&str, &str)> {
    let mut kept: Vec<(&str, &str)> = list
        .iter()
        .filter(|(n, _, _)| !VOLATILE_HEADERS.contains(&n.as_str()))
        .map(|(n, _, v)| (n.as_str(), v.as_str()))
        .collect();
    kept.sort_unstable();
    kept
}

/// The page's comparison of `left` and `right`.
pub fn flows(left: &Flow, right: &Flow) -> Json {
    let sides = [Which::Request, Which::Response].map(|which| Sides::of(left, right, which));
    let [request, response] = sides.each_ref().map(|m| {
        json!({
            "present": {"left": m.present[0], "right": m.present[1]},
            "headers": headers(&m.headers[0], &m.headers[1]),
            "body": body::compare(m.bodies[0].as_deref(), m.bodies[1].as_deref()),
        })
    });
    json!({
        "differences": differences_of(left, right, &sides),
        "summary": summary(left, right),
        "request": request,
        "response": response,
        "timing": timing(left, right),
    })
}

/// A message's body as the page shows it: decoded per Content-Encoding
/// when it can be.
fn decoded(msg: Option<&Dict>) -> Option<bytes::Bytes> {
    let msg = msg?;
    http::decoded_content(msg)
        .ok()
        .flatten()
        .or_else(|| http::raw_content(msg).cloned())
}

/// The first-line fields and the flow's outcome, each `[name, left,
/// right, same]`.
fn summary(left: &Flow, right: &Flow) -> Json {
    let rows: Vec<Json> = [
        "type",
        "method",
        "url",
        "request version",
        "status",
        "reason",
        "response version",
        "error",
        "messages",
    ]
    .into_iter()
    .map(|name| {
        let (l, r) = (first_line(left, name), first_line(right, name));
        let same = l == r;
        json!([name, l, r, same])
    })
    .collect();
    Json::Array(rows)
}

/// One of [`summary`]'s fields of `flow`.
fn first_line(flow: &Flow, name: &str) -> Json {
    let text = |msg: Option<&Dict>, key: &str| {
        msg.and_then(|m| http::field_bytes(m, key))
            .map_or(Json::Null, |b| Json::from(String::from_utf8_lossy(b)))
    };
    let (req, resp) = (flow.request(), flow.response());
    match name {
        "type" => Json::from(flow.kind_name()),
        "method" => text(req, "method"),
        "url" => req.map_or(Json::Null, |r| Json::from(crate::summary::url(r))),
        "request version" => text(req, "http_version"),
        "status" => resp
            .and_then(|r| r.get("status_code"))
            .and_then(Value::as_int)
            .map_or(Json::Null, Json::from),
        "reason" => text(resp, "reason"),
        "response version" => text(resp, "http_version"),
        "error" => flow.error_msg().map_or(Json::Null, Json::from),
        _ => {
            let dict = flow.dict();
            let list = dict
                .get("websocket")
                .and_then(Value::as_dict)
                .and_then(|ws| ws.get("messages"))
                .or_else(|| dict.get("messages"))
                .and_then(Value::as_list);
            list.map_or(Json::Null, |l| Json::from(l.len()))
        }
    }
}

/// A message's headers as `(lowercased name, name as written, value)`.
fn header_list(msg: Option<&Dict>) -> Vec<(String, String, String)> {
    msg.map(|m| {
        http::fields(m)
            .map(|(n, v)| {
                let name = String::from_utf8_lossy(n).into_owned();
                (
                    name.to_ascii_lowercase(),
                    name,
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

/// How one header name compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderState {
    /// The same values (maybe in another order).
    Same,
    /// Only on the right.
    Added,
    /// Only on the left.
    Removed,
    /// On both sides with different values.
    Changed,
}

/// Headers compared as multisets, name by name (case-insensitively):
/// each name with its values on both sides, in order of first
/// appearance (left, then names only the right has).
pub fn header_states(
    left: &[(String, String, String)],
    right: &[(String, String, String)],
) -> Vec<(String, Vec<String>, Vec<String>, HeaderState)> {
    let mut names: Vec<(&str, &str)> = Vec::new();
    for (lower, written, _) in left.iter().chain(right) {
        if !names.iter().any(|(n, _)| n == lower) {
            names.push((lower, written));
        }
    }
    names
        .into_iter()
        .map(|(lower, written)| {
            let values = |side: &[(String, String, String)]| -> Vec<String> {
                side.iter()
                    .filter(|(n, _, _)| n == lower)
                    .map(|(_, _, v)| v.clone())
                    .collect()
            };
            let (l, r) = (values(left), values(right));
            let state = if l.is_empty() {
                HeaderState::Added
            } else if r.is_empty() {
                HeaderState::Removed
            } else {
                let (mut ls, mut rs) = (l.clone(), r.clone());
                ls.sort();
                rs.sort();
                if ls == rs {
                    HeaderState::Same
                } else {
                    HeaderState::Changed
                }
            };
            (written.to_owned(), l, r, state)
        })
        .collect()
}

/// Whether the headers both sides hold alike come in another order.
pub fn order_changed(
    left: &[(String, String, String)],
    right: &[(String, String, String)],
) -> bool {
    let same: Vec<String> = header_states(left, right)
        .into_iter()
        .filter(|(_, _, _, s)| *s == HeaderState::Same)
        .map(|(n, _, _, _)| n.to_ascii_lowercase())
        .collect();
    let order = |side: &[(String, String, String)]| -> Vec<(String, String)> {
        side.iter()
            .filter(|(n, _, _)| same.contains(n))
            .map(|(n, _, v)| (n.clone(), v.clone()))
            .collect()
    };
    order(left) != order(right)
}

/// The page's header comparison of two messages.
fn headers(l: &[(String, String, String)], r: &[(String, String, String)]) -> Json {
    let rows: Vec<Json> = header_states(l, r)
        .into_iter()
        .map(|(name, lv, rv, state)| {
            let state = match state {
                HeaderState::Same => "same",
                HeaderState::Added => "added",
                HeaderState::Removed => "removed",
                HeaderState::Changed => "changed",
            };
            json!({"name": name, "left": lv, "right": rv, "state": state})
        })
        .collect();
    let names = |side: &[(String, String, String)]| -> Vec<String> {
        side.iter().map(|(_, n, _)| n.clone()).collect()
    };
    json!({
        "rows": rows,
        "order_changed": order_changed(l, r),
        "order": {"left": names(l), "right": names(r)},
    })
}

/// A timestamp of `flow`: `which` connection or message dict, `key`.
fn stamp(flow: &Flow, which: &str, key: &str) -> Option<f64> {
    flow.dict()
        .get(which)
        .and_then(Value::as_dict)
        .and_then(|d| d.get(key))
        .and_then(Value::as_float)
}

/// Where a timestamp is: the dict (`request`, `server_conn`, …) and
/// its key.
type Stamp<'a> = (&'a str, &'a str);

/// The moments and the durations between them, `[name, left, right]`:
/// moments in Unix seconds, durations (names ending in "(s)") in seconds.
fn timing(left: &Flow, right: &Flow) -> Json {
    const MOMENTS: [(&str, &str, &str); 7] = [
        ("client connected", "client_conn", "timestamp_start"),
        ("server connected", "server_conn", "timestamp_tcp_setup"),
        ("server TLS", "server_conn", "timestamp_tls_setup"),
        ("request start", "request", "timestamp_start"),
        ("request end", "request", "timestamp_end"),
        ("response start", "response", "timestamp_start"),
        ("response end", "response", "timestamp_end"),
    ];
    let span = |flow: &Flow, from: Stamp, to: Stamp| {
        Some(stamp(flow, to.0, to.1)? - stamp(flow, from.0, from.1)?)
    };
    let spans: [(&str, Stamp, Stamp); 4] = [
        (
            "request sent (s)",
            ("request", "timestamp_start"),
            ("request", "timestamp_end"),
        ),
        (
            "waiting for the response (s)",
            ("request", "timestamp_end"),
            ("response", "timestamp_start"),
        ),
        (
            "response received (s)",
            ("response", "timestamp_start"),
            ("response", "timestamp_end"),
        ),
        (
            "total (s)",
            ("request", "timestamp_start"),
            ("response", "timestamp_end"),
        ),
    ];
    let mut rows: Vec<Json> = MOMENTS
        .iter()
        .map(|(name, which, key)| json!([name, stamp(left, which, key), stamp(right, which, key)]))
        .collect();
    rows.extend(
        spans
            .iter()
            .map(|(name, from, to)| json!([name, span(left, *from, *to), span(right, *from, *to)])),
    );
    Json::Array(rows)
}

/// What makes two matched flows differ, by name: `status`, `request
/// headers`, `request body`, `response headers`, `response body`,
/// `error`, `messages`. Empty when they are alike, apart from
/// [`VOLATILE_HEADERS`].
pub fn differences(left: &Flow, right: &Flow) -> Vec<&'static str> {
    let sides = [Which::Request, Which::Response].map(|which| Sides::of(left, right, which));
    differences_of(left, right, &sides)
}

/// [`differences`], with the request and response already read.
fn differences_of(left: &Flow, right: &Flow, sides: &[Sides; 2]) -> Vec<&'static str> {
    let mut what = Vec::new();
    if first_line(left, "status") != first_line(right, "status") {
        what.push("status");
    }
    for (m, names) in sides.iter().zip([
        ["request headers", "request body"],
        ["response headers", "response body"],
    ]) {
        if m.headers_differ() {
            what.push(names[0]);
        }
        if m.bodies_differ() {
            what.push(names[1]);
        }
    }
    if left.error_msg() != right.error_msg() {
        what.push("error");
    }
    if first_line(left, "messages") != first_line(right, "messages") {
        what.push("messages");
    }
    what
}

#[cfg(test)]
mod tests;
