//! Comparing flows and captures, over the golden flows and edits of them.

use serde_json::{Value as Json, json};

use super::body::{self, Change, ChangeKind, json_changes};
use super::captures::pair_up;
use super::*;
use crate::flowfile::FlowReader;
use crate::test_support::golden;
use crate::tnetstring::Value;
use crate::view::{Row, Session};

/// The golden GET flow (`/hello?x=1`, a 24-byte answer).
fn get() -> Flow {
    FlowReader::new(&golden("all.mitm")[..])
        .next()
        .unwrap()
        .unwrap()
}

/// `flow` with its response body set to `body` (Content-Encoding kept).
fn answering(mut flow: Flow, body: &str) -> Flow {
    let resp = flow.message_mut(Which::Response).unwrap();
    http::set_decoded_content(resp, body.as_bytes());
    flow
}

fn changes(left: Json, right: Json) -> Vec<(String, ChangeKind)> {
    json_changes(&left, &right)
        .0
        .into_iter()
        .map(|c| (c.path, c.kind))
        .collect()
}

#[test]
fn json_changes_are_named_by_their_path() {
    let left = json!({"user": {"name": "ann", "tags": ["a", "b"]}, "n": 1, "odd key": true});
    let right =
        json!({"user": {"name": "bob", "tags": ["a"]}, "n": 1, "odd key": true, "new": null});
    assert_eq!(
        changes(left, right),
        [
            ("$.user.name".to_owned(), ChangeKind::Changed),
            ("$.user.tags[1]".to_owned(), ChangeKind::Removed),
            ("$.new".to_owned(), ChangeKind::Added),
        ]
    );
    assert_eq!(
        changes(json!({"a b": 1, "1x": 2}), json!({"a b": 2})),
        [
            (r#"$["1x"]"#.to_owned(), ChangeKind::Removed),
            (r#"$["a b"]"#.to_owned(), ChangeKind::Changed),
        ]
    );
    // A change of type is a change, with both values shown.
    let (list, total) = json_changes(&json!({"a": [1]}), &json!({"a": "1"}));
    assert_eq!(total, 1);
    assert_eq!(
        list[0],
        Change {
            path: "$.a".into(),
            kind: ChangeKind::Changed,
            left: Some("[1]".into()),
            right: Some(r#""1""#.into()),
        }
    );
    assert!(changes(json!([1, {"a": 2}]), json!([1, {"a": 2}])).is_empty());
}

#[test]
fn array_items_are_aligned_so_one_removal_is_one_change() {
    let left = json!([{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]);
    let right = json!([{"id": 1}, {"id": 3}, {"id": 4, "x": true}, {"id": 5}]);
    assert_eq!(
        changes(left, right),
        [
            ("$[1]".to_owned(), ChangeKind::Removed),
            ("$[3].x".to_owned(), ChangeKind::Added),
            ("$[3]".to_owned(), ChangeKind::Added),
        ]
    );
    assert_eq!(
        changes(json!([1, 2, 3]), json!([0, 1, 2, 3])),
        [("$[0]".to_owned(), ChangeKind::Added)]
    );
    // An item taken out beside a changed one is taken out, and its
    // neighbour changed, not the other way round.
    let left = json!([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]);
    let right = json!([{"id": 1, "v": "a"}, {"id": 3, "v": "C"}]);
    assert_eq!(
        changes(left, right),
        [
            ("$[1]".to_owned(), ChangeKind::Removed),
            ("$[2].v".to_owned(), ChangeKind::Changed),
        ]
    );
    // 1 and 1.0 are different numbers, as under `==`.
    assert_eq!(
        changes(json!([1]), json!([1.0])),
        [("$[0]".to_owned(), ChangeKind::Changed)]
    );
}

#[test]
fn json_changes_are_listed_up_to_a_bound_and_counted_in_full() {
    let left: Json = (0..1500)
        .map(|i| (format!("k{i}"), Json::from(i)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let right: Json = (0..1500)
        .map(|i| (format!("k{i}"), Json::from(i + 1)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let (list, total) = json_changes(&left, &right);
    assert_eq!((list.len(), total), (body::MAX_LISTED, 1500));
    // A long value is cut to a preview.
    let long = "x".repeat(1000);
    let (list, _) = json_changes(&json!({"a": long}), &json!({"a": 1}));
    let shown = list[0].left.as_ref().unwrap();
    assert!(
        shown.chars().count() <= 201 && shown.ends_with('…'),
        "{shown}"
    );
}

#[test]
fn bodies_are_compared_as_json_text_or_binary() {
    let kind = |v: &Json| v["kind"].as_str().unwrap().to_owned();
    assert_eq!(kind(&body::compare(None, None)), "none");
    let same = body::compare(Some(b"abc"), Some(b"abc"));
    assert_eq!(kind(&same), "same");
    assert_eq!(
        same["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let j = body::compare(Some(br#"{"a": 1}"#), Some(br#"{"a": 2}"#));
    assert_eq!(kind(&j), "json");
    assert_eq!(j["changes"][0]["path"], "$.a");
    assert_eq!(
        (j["changes"][0]["left"].clone(), j["total"].clone()),
        (json!("1"), json!(1))
    );
    // Text that is not an object or array is diffed by lines.
    let t = body::compare(Some(b"one\ntwo\nthree\n"), Some(b"one\n2\nthree\n"));
    assert_eq!(kind(&t), "text");
    assert_eq!(
        (t["removed"].clone(), t["added"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        t["hunks"][0],
        json!([
            [" ", 1, 1, "one"],
            ["-", 2, null, "two"],
            ["+", null, 2, "2"],
            [" ", 3, 3, "three"]
        ])
    );
    // A missing body is compared as an empty one.
    let added = body::compare(None, Some(b"new\n"));
    assert_eq!(
        (kind(&added), added["size"]["left"].clone()),
        ("text".into(), Json::Null)
    );
    let b = body::compare(Some(&[0xff, 0, 1]), Some(&[0xff, 0, 2]));
    assert_eq!(kind(&b), "binary");
    assert_eq!(b["size"], json!({"left": 3, "right": 3}));
    assert_ne!(b["sha256"]["left"], b["sha256"]["right"]);
}

#[test]
fn headers_are_multisets_so_a_move_is_an_order_change() {
    let h = |list: &[(&str, &str)]| -> Vec<(String, String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), n.to_string(), v.to_string()))
            .collect()
    };
    let left = h(&[("Accept", "*/*"), ("X-A", "1"), ("X-A", "2"), ("Host", "h")]);
    let moved = h(&[("Host", "h"), ("X-A", "2"), ("accept", "*/*"), ("X-A", "1")]);
    let states = header_states(&left, &moved);
    assert!(
        states.iter().all(|(_, _, _, s)| *s == HeaderState::Same),
        "{states:?}"
    );
    assert!(order_changed(&left, &moved));
    assert!(!order_changed(&left, &left));
    let other = h(&[("Accept", "*/*"), ("X-A", "1"), ("X-B", "b")]);
    let states: Vec<(String, HeaderState)> = header_states(&left, &other)
        .into_iter()
        .map(|(n, _, _, s)| (n, s))
        .collect();
    assert_eq!(
        states,
        [
            ("Accept".into(), HeaderState::Same),
            ("X-A".into(), HeaderState::Changed),
            ("Host".into(), HeaderState::Removed),
            ("X-B".into(), HeaderState::Added),
        ]
    );
    assert!(!order_changed(&left, &other));
}

#[test]
fn two_flows_side_by_side() {
    let left = answering(get(), r#"{"user": {"id": 7, "name": "ann"}}"#);
    let mut right = answering(get(), r#"{"user": {"id": 7, "name": "bob"}}"#);
    {
        let resp = right.message_mut(Which::Response).unwrap();
        resp.insert("status_code", Value::Int(500));
        http::set_header(resp, b"X-Extra", b"1");
    }
    let c = flows(&left, &right);
    let row = |name: &str| {
        c["summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("status"), json!(["status", 200, 500, false]));
    assert_eq!(row("method"), json!(["method", "GET", "GET", true]));
    assert_eq!(row("url")[1], "http://127.0.0.1:18081/hello?x=1");
    let body = &c["response"]["body"];
    assert_eq!(body["kind"], "json");
    assert_eq!(body["changes"][0]["path"], "$.user.name");
    assert_eq!(body["changes"][0]["right"], r#""bob""#);
    assert_eq!(c["request"]["body"]["kind"], "same");
    let extra = c["response"]["headers"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "X-Extra")
        .cloned()
        .unwrap();
    assert_eq!(extra["state"], "added");
    let total = c["timing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "total (s)")
        .cloned()
        .unwrap();
    assert!(total[1].as_f64().unwrap() > 0.0, "{total}");
    assert_eq!(
        differences(&left, &right),
        ["status", "response headers", "response body"]
    );
    assert!(differences(&left, &left).is_empty());
}

#[test]
fn a_changed_date_alone_does_not_make_flows_differ() {
    let left = get();
    let mut right = get();
    http::set_header(
        right.message_mut(Which::Response).unwrap(),
        b"Date",
        b"Thu, 01 Jan 2026 00:00:00 GMT",
    );
    assert!(differences(&left, &right).is_empty());
    let c = flows(&left, &right);
    let date = c["response"]["headers"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().eq_ignore_ascii_case("date"))
        .cloned()
        .unwrap();
    assert_ne!(date["state"], "same", "{date}");
}

/// A row for matching, with just the fields [`match_key`] reads.
fn row(method: &'static str, url: &str, kind: &'static str) -> Row {
    let flow = get();
    let mut r = Row::of(&flow, 0, 0);
    r.method = method.into();
    r.url = url.into();
    r.kind = kind.into();
    r
}

#[test]
fn flows_match_by_method_host_path_and_query() {
    let key = |m, u, k| match_key(&row(m, u, k));
    assert_eq!(
        key("GET", "https://Example.com:8443/a?b=1", "http"),
        "GET example.com/a?b=1"
    );
    assert_eq!(
        key("GET", "http://example.com/a?b=1", "http"),
        "GET example.com/a?b=1"
    );
    assert_eq!(key("GET", "http://[::1]:81", "http"), "GET ::1/");
    assert_ne!(
        key("POST", "http://e/a", "http"),
        key("GET", "http://e/a", "http")
    );
    assert_eq!(key("", "10.0.0.1:22", "tcp"), "tcp 10.0.0.1:22");
    let list = |keys: &[&str]| -> Vec<(usize, String)> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| (i, k.to_string()))
            .collect()
    };
    // Repeats pair up in order; the rest is unmatched.
    let (pairs, only) = pair_up(&list(&["a", "b", "a", "c"]), &list(&["a", "a", "a", "d"]));
    assert_eq!(pairs, [(0, 0), (2, 1)]);
    assert_eq!(only, [vec![1, 3], vec![2, 3]]);
}

#[test]
fn two_captures_compared() {
    let left = Session::temporary().unwrap();
    let right = Session::temporary().unwrap();
    let flows: Vec<Flow> = FlowReader::new(&golden("all.mitm")[..])
        .map(Result::unwrap)
        .collect();
    for f in &flows {
        left.append(f).unwrap();
    }
    // The right capture: the first flow answered differently, the second
    // left out, the rest as they were, and one more flow of its own.
    right
        .append(&answering(flows[0].clone(), "something else"))
        .unwrap();
    for f in &flows[2..] {
        right.append(f).unwrap();
    }
    let mut extra = flows[0].clone();
    extra
        .message_mut(Which::Request)
        .unwrap()
        .insert("path", Value::text("/elsewhere"));
    right.append(&extra).unwrap();
    let diff = CaptureDiff::of(&left, &right).unwrap();
    assert_eq!(diff.totals, [flows.len(), flows.len()]);
    assert_eq!(diff.differ.len(), 1, "{diff:?}");
    assert_eq!(
        (
            diff.differ[0].left,
            diff.differ[0].right,
            diff.differ[0].what.clone()
        ),
        // The new body's Content-Length is a header that differs too.
        (0, 0, vec!["response headers", "response body"])
    );
    assert_eq!(diff.alike, flows.len() - 2);
    assert_eq!(diff.unmatched, [vec![1], vec![flows.len() - 1]]);
    let j = diff.json(&left, &right);
    assert_eq!(
        j["right_only"]["items"][0]["url"],
        "http://127.0.0.1:18081/elsewhere"
    );
    assert_eq!(j["differ"]["items"][0]["right"]["status"], 200);
}
