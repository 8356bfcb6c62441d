//! `parse_qsl`, the form text and `decode_multipart`, case by case, with
//! what Python 3.11 and mitmproxy 11 return.

use super::*;

fn pairs(items: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    items
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn parse_qsl_cases() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("", &[]),
        ("a=1&a=2", &[("a", "1"), ("a", "2")]),
        ("a&&b=", &[("a", ""), ("b", "")]),
        ("a=b=c", &[("a", "b=c")]),
        ("x+y=%41+%2B", &[("x y", "A +")]),
        ("a;b=c", &[("a;b", "c")]),
        ("%zz=%4", &[("%zz", "%4")]),
        ("=v", &[("", "v")]),
        ("k=%C3%A9", &[("k", "é")]),
    ];
    for (qs, want) in cases {
        assert_eq!(
            parse_qsl(qs.as_bytes(), Errors::Replace),
            pairs(want),
            "{qs}"
        );
    }
    // Undecodable escapes: U+FFFD, or the bytes themselves.
    assert_eq!(
        parse_qsl(b"k=%E9%FF", Errors::Replace),
        pairs(&[("k", "\u{fffd}\u{fffd}")])
    );
    assert_eq!(
        parse_qsl(b"k=%E9", Errors::SurrogateEscape),
        vec![(b"k".to_vec(), vec![0xe9])]
    );
    // Non-ASCII characters are not unquoted, only ASCII runs.
    assert_eq!(
        parse_qsl("k=é%41".as_bytes(), Errors::Replace),
        pairs(&[("k", "éA")])
    );
}

#[test]
fn content_type_params() {
    let (t, s, p) = parse_content_type(b"Multipart/Form-Data; boundary=\"ab\" ; x = 1;y").unwrap();
    assert_eq!(
        (t.as_slice(), s.as_slice()),
        (&b"multipart"[..], &b"form-data"[..])
    );
    assert_eq!(p, pairs(&[("boundary", "\"ab\""), ("x", "1")]));
    assert_eq!(parse_content_type(b"text"), None);
}

#[test]
fn urlencoded_forms() {
    let ct = b"application/x-www-form-urlencoded";
    assert_eq!(
        urlencoded_form(ct, Some(b"a=1&b=%20&c")),
        pairs(&[("a", "1"), ("b", " "), ("c", "")])
    );
    // Latin-1 by default: a raw é byte is the same text as %C3%A9.
    assert_eq!(
        urlencoded_form(ct, Some(b"k=\xe9")),
        urlencoded_form(ct, Some(b"k=%C3%A9"))
    );
    // UTF-8 keeps the bytes.
    let utf8 = b"application/x-www-form-urlencoded; charset=utf-8";
    assert_eq!(
        urlencoded_form(utf8, Some("k=é".as_bytes())),
        pairs(&[("k", "é")])
    );
    assert_eq!(urlencoded_form(b"text/plain", Some(b"a=1")), vec![]);
    assert_eq!(urlencoded_form(ct, None), vec![]);
}

#[test]
fn multipart_forms() {
    let ct = b"multipart/form-data; boundary=XX";
    let body = b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\ntwo\r\n--XX\r\nContent-Disposition: form-data; filename=\"f\"; name=\"b\"\r\nContent-Type: text/plain\r\n\r\nv\r\n--XX--\r\n";
    assert_eq!(
        multipart_form(ct, Some(body)),
        pairs(&[("a", "onetwo"), ("b", "v")])
    );
    // A named part without an empty line: mitmproxy's ValueError, no items.
    let broken = b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\nx\r\n--XX--";
    assert_eq!(decode_multipart(ct, broken), None);
    assert_eq!(multipart_form(ct, Some(broken)), vec![]);
    // No boundary, a quoted one (kept with its quotes), not multipart.
    assert_eq!(multipart_form(b"multipart/form-data", Some(body)), vec![]);
    let quoted = b"multipart/form-data; boundary=\"XX\"";
    assert_eq!(multipart_form(quoted, Some(body)), vec![]);
    assert_eq!(multipart_form(b"text/plain", Some(body)), vec![]);
    // `filename="..."` alone is no name: `\b` needs a boundary before it.
    assert_eq!(form_name(b"x; filename=\"f\""), None);
    assert_eq!(form_name(b"name=\"\"; name=\"n\""), Some(&b"n"[..]));
    assert_eq!(splitlines(b"a\r\rb\n"), vec![&b"a"[..], b"", b"b"]);
}
