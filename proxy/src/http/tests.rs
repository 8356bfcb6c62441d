//! Header and body semantics, checked against mitmproxy's behaviour.

use super::*;
use crate::tnetstring::Dict;

fn msg(fields: &[(&str, &str)]) -> Dict {
    let mut d = Dict::new();
    d.push(
        "headers",
        Value::list(
            fields
                .iter()
                .map(|(n, v)| field(n.as_bytes(), v.as_bytes()))
                .collect(),
        ),
    );
    d.push("content", Value::bytes(b"body"));
    d
}

fn fields(msg: &Dict) -> Vec<String> {
    (0..headers(msg).len())
        .map(|i| {
            let (n, v) = header_at(msg, i).unwrap();
            format!(
                "{}: {}",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(v)
            )
        })
        .collect()
}

#[test]
fn set_replaces_every_field_of_the_name_keeping_the_first() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);
    let cases: &[Case] = &[
        (&[("A", "1")], "b", &["A: 1", "b: x"]),
        (
            &[("Set-Cookie", "1"), ("X", "y"), ("set-cookie", "2")],
            "SET-COOKIE",
            &["Set-Cookie: x", "X: y"],
        ),
        (&[], "new", &["new: x"]),
    ];
    for (before, name, after) in cases {
        let mut m = msg(before);
        set_header(&mut m, name.as_bytes(), b"x");
        assert_eq!(fields(&m), *after, "set {name} on {before:?}");
    }
}

#[test]
fn lookups_ignore_case_and_keep_wire_case() {
    let m = msg(&[("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2")]);
    assert_eq!(header(&m, "content-type"), Some(&b"text/plain"[..]));
    assert_eq!(header(&m, "X-a"), Some(&b"1"[..]));
    assert_eq!(header(&m, "missing"), None);
    assert_eq!(fields(&m)[0], "Content-Type: text/plain");
}

#[test]
fn append_insert_remove() {
    let mut m = msg(&[("A", "1"), ("B", "2"), ("a", "3")]);
    append_header(&mut m, b"C", b"4");
    insert_header(&mut m, 0, b"First", b"0");
    insert_header(&mut m, 99, b"Last", b"9");
    assert_eq!(
        fields(&m),
        ["First: 0", "A: 1", "B: 2", "a: 3", "C: 4", "Last: 9"]
    );
    assert_eq!(remove_header(&mut m, b"A"), 2);
    assert_eq!(remove_header(&mut m, b"nope"), 0);
    assert!(remove_header_at(&mut m, 0));
    assert!(!remove_header_at(&mut m, 10));
    assert_eq!(fields(&m), ["B: 2", "C: 4", "Last: 9"]);
}

#[test]
fn set_content_encodes_and_updates_length_like_mitmproxy() {
    let mut m = msg(&[("Content-Encoding", "gzip"), ("Content-Length", "4")]);
    set_decoded_content(&mut m, b"hello world");
    let raw = raw_content(&m).unwrap().clone();
    assert_ne!(&raw[..], b"hello world");
    assert_eq!(&decoded_content(&m).unwrap().unwrap()[..], b"hello world");
    assert_eq!(
        header(&m, "content-length"),
        Some(raw.len().to_string().as_bytes())
    );

    // Chunked: no Content-Length is added.
    let mut m = msg(&[("Transfer-Encoding", "chunked")]);
    set_decoded_content(&mut m, b"abc");
    assert_eq!(header(&m, "content-length"), None);

    // An encoding that cannot be applied is dropped, body kept as given.
    let mut m = msg(&[("Content-Encoding", "compress")]);
    set_decoded_content(&mut m, b"abc");
    assert_eq!(fields(&m), ["content-length: 3"]);
    assert_eq!(&raw_content(&m).unwrap()[..], b"abc");
}

#[test]
fn new_response_matches_mitmproxy_make() {
    let r = new_response(404, 1.5);
    assert_eq!(
        r.get("reason").and_then(Value::as_bytes),
        Some(&b"Not Found"[..])
    );
    assert_eq!(r.get("status_code").and_then(Value::as_int), Some(404));
    assert_eq!(
        r.get("http_version").and_then(Value::as_bytes),
        Some(&b"HTTP/1.1"[..])
    );
    assert_eq!(reason_phrase(799), "");
}
