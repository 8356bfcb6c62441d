//! The message accessors, case by case, with what mitmproxy 11.0.2 gives
//! for the same input (the differential test `tests/message_parity.rs`
//! checks many more against mitmproxy itself).

use crate::http::message::charset::{self, Charset};
use crate::http::message::{self as m, TextError};
use crate::http::{self, fields, raw};
use crate::tnetstring::{Dict, Value};

fn msg(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Dict {
    let mut d = Dict::new();
    d.insert("method", Value::bytes(b"GET"));
    d.insert("scheme", Value::bytes(b"http"));
    d.insert("host", Value::text("example.com"));
    d.insert("port", Value::Int(80));
    d.insert("path", Value::bytes(path.as_bytes()));
    d.insert("http_version", Value::bytes(b"HTTP/1.1"));
    d.insert("headers", Value::list(Vec::new()));
    for (n, v) in headers {
        http::append_header(&mut d, n.as_bytes(), v.as_bytes());
    }
    d.insert("content", Value::bytes(body));
    d
}

fn pairs(p: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    p.iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

fn header_list(d: &Dict) -> Vec<(String, String)> {
    fields(d)
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

#[test]
fn query_reads_as_url_decode() {
    let check = |path: &str, want: &[(&[u8], &[u8])]| {
        let got = m::query(&msg(path, &[], b""));
        let want: Vec<_> = want.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert_eq!(got, want, "{path}");
    };
    check("/p?a=1&a=2&b", &[(b"a", b"1"), (b"a", b"2"), (b"b", b"")]);
    check("/p?x=a+b%20c&&y=", &[(b"x", b"a b c"), (b"y", b"")]);
    check("/p?k=%FF%e9", &[(b"k", b"\xff\xe9")]);
    check("/p#f?a=1", &[]);
    check("/p;x?q=1#frag", &[(b"q", b"1")]);
    check("/p?q=a\tb", &[(b"q", b"ab")]);
    check("*", &[]);
}

/// The borrowed query string is what `urlparse` finds, and the items the
/// boundary gets are the pairs `query` gives.
#[test]
fn the_fast_query_is_the_parsed_one() {
    for path in [
        "/p?a=1&a=2&b",
        "/p?x=a+b%20c&&y=",
        "/p#f?a=1",
        "/p;x?q=1#frag",
        "/p?q=a\tb",
        "*",
        "//host/x?y=1",
        "abc?x=1",
        "?only",
        "/p?a=%2B%zz+&=v#x",
        "/no/query",
    ] {
        for method in ["GET", "CONNECT"] {
            let mut req = msg(path, &[], b"");
            req.insert("method", Value::bytes(method.as_bytes()));
            assert_eq!(
                &m::query_string(&req)[..],
                &m::UrlTail::of(&req).query[..],
                "{method} {path}"
            );
            let mut items = Vec::new();
            m::query_items(&req, &mut items);
            let mut expected = Vec::new();
            for (k, v) in m::query(&req) {
                for part in [k, v] {
                    expected.extend_from_slice(&(part.len() as u32).to_le_bytes());
                    expected.extend_from_slice(&part);
                }
            }
            assert_eq!(items, expected, "{method} {path}");
        }
    }
}

#[test]
fn set_query_keeps_path_params_and_fragment() {
    let check = |path: &str, q: &[(&str, &str)], want: &str| {
        let mut d = msg(path, &[], b"");
        m::set_query(&mut d, &pairs(q));
        assert_eq!(raw(&d, "path"), want.as_bytes(), "{path}");
    };
    check(
        "/a/b;p?old=1#f",
        &[("x y", "1+2&"), ("é", "")],
        "/a/b;p?x+y=1%2B2%26&%C3%A9=#f",
    );
    check("/a?x=1", &[], "/a");
    // `urlparse` drops an empty `;params`.
    check("/a;?x=1", &[("k", "v")], "/a?k=v");
    check("/a;b/c?x", &[("k", "~-._")], "/a;b/c?k=~-._");
}

#[test]
fn path_components_round_trip() {
    let mut d = msg("/a%20b//c%2Fd;p?q=1#f", &[], b"");
    assert_eq!(
        m::path_components(&d),
        vec![b"a b".to_vec(), b"c/d".to_vec()]
    );
    m::set_path_components(&mut d, &["x/y", "z z", "\u{e9}"]);
    assert_eq!(raw(&d, "path"), b"/x%2Fy/z%20z/%C3%A9;p?q=1#f");
}

#[test]
fn request_cookies() {
    let d = msg(
        "/",
        &[("Cookie", "a=1; b=x=y; c=\"q\\\"d\""), ("cookie", " d; e=")],
        b"",
    );
    let got = m::request_cookies(&d);
    let want = [
        ("a", "1"),
        ("b", "x=y"),
        ("c", "q\"d"),
        ("d", ""),
        ("e", ""),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
    let mut d = d;
    m::set_request_cookies(
        &mut d,
        &[("k".into(), "v v".into()), ("n".into(), "".into())],
    );
    assert_eq!(
        header_list(&d),
        [("Cookie".to_string(), "k=\"v v\"; n=".to_string())]
    );
}

#[test]
fn response_cookies() {
    let mut d = msg(
        "/",
        &[
            (
                "Set-Cookie",
                "a=1; Path=/; HttpOnly, b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
            ),
            ("X", "y"),
            ("set-cookie", "a=3; Secure"),
        ],
        b"",
    );
    let got = m::response_cookies(&d);
    let s = |v: &str| v.to_string();
    assert_eq!(
        got,
        vec![
            (
                s("a"),
                Some(s("1")),
                vec![(s("Path"), Some(s("/"))), (s("HttpOnly"), None)]
            ),
            (
                s("b"),
                Some(s("2")),
                vec![(s("Expires"), Some(s("Wed, 21 Oct 2015 07:28:00 GMT")))]
            ),
            (s("a"), Some(s("3")), vec![(s("Secure"), None)]),
        ]
    );
    // Two fields for three cookies: the first two keep their places.
    m::set_response_cookies(&mut d, &got);
    assert_eq!(
        header_list(&d),
        [
            (s("Set-Cookie"), s("a=1; Path=/; HttpOnly")),
            (s("X"), s("y")),
            (
                s("set-cookie"),
                s("b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT")
            ),
            (s("set-cookie"), s("a=3; Secure")),
        ]
    );
    m::set_response_cookies(&mut d, &[]);
    assert_eq!(header_list(&d), [(s("X"), s("y"))]);
}

#[test]
fn urlencoded_forms() {
    let form = "application/x-www-form-urlencoded";
    let d = msg("/", &[("Content-Type", form)], b"a=%E9&b=\xe9+x");
    // Latin-1 by default: the raw byte is a code point; the escape stays a byte.
    let want = vec![
        (b"a".to_vec(), b"\xe9".to_vec()),
        (b"b".to_vec(), "\u{e9} x".into()),
    ];
    assert_eq!(m::urlencoded_form(&d), want);
    assert!(m::urlencoded_form(&msg("/", &[("Content-Type", "text/plain")], b"a=1")).is_empty());
    let mut d = msg("/", &[("content-type", "text/plain")], b"a&b=1");
    m::set_urlencoded_form(&mut d, &pairs(&[("x", ""), ("y", "1 2"), ("z", "")]));
    assert_eq!(
        d.get("content").and_then(Value::as_bytes),
        Some(&b"x&y=1+2&z"[..])
    );
    assert_eq!(
        header_list(&d),
        [
            ("content-type".to_string(), form.to_string()),
            ("content-length".to_string(), "9".to_string())
        ]
    );
}

#[test]
fn multipart_forms() {
    let ct = "multipart/form-data; boundary=XyZ";
    let mut d = msg("/", &[("Content-Type", ct)], b"");
    m::set_multipart_form(&mut d, &pairs(&[("a", "1"), ("file", "x\r\ny")])).unwrap();
    let body = d.get("content").and_then(Value::as_bytes).unwrap().to_vec();
    assert_eq!(
        body,
        b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n1\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\ny\r\n\r\n--XyZ--\r\n"
    );
    // mitmproxy's reader joins a part's lines without their breaks.
    assert_eq!(m::multipart_form(&d), pairs(&[("a", "1"), ("file", "xy")]));
    assert_eq!(
        m::set_multipart_form(&mut d, &pairs(&[("a", "--XyZ\n")])),
        Err(m::BoundaryInValue)
    );
    let mut d = msg("/", &[("Content-Type", "text/plain")], b"");
    m::set_multipart_form(&mut d, &pairs(&[("a", "1")])).unwrap();
    let ct = String::from_utf8(http::header(&d, "content-type").unwrap().to_vec()).unwrap();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
    assert_eq!(boundary.len(), 52);
    assert!(boundary.starts_with(&"-".repeat(20)));
    assert_eq!(m::multipart_form(&d), pairs(&[("a", "1")]));
}

#[test]
fn request_header_edits() {
    let mut d = msg(
        "/",
        &[
            ("If-None-Match", "x"),
            ("Accept-Encoding", "gzip, br, compress"),
            ("if-modified-since", "y"),
        ],
        b"",
    );
    m::anticache(&mut d);
    m::constrain_encoding(&mut d);
    assert_eq!(
        header_list(&d),
        [("Accept-Encoding".to_string(), "gzip, br".to_string())]
    );
    m::anticomp(&mut d);
    assert_eq!(
        header_list(&d),
        [("Accept-Encoding".to_string(), "identity".to_string())]
    );
}

#[test]
fn charset_names_resolve_as_python_codecs() {
    for (name, want) in [
        ("UTF-8", Charset::Utf8),
        ("\"utf8\"", Charset::Utf8),
        ("ISO-8859-1", Charset::Latin1),
        ("latin-1", Charset::Latin1),
        ("iso_8859-1:1987", Charset::Latin1),
        ("US-ASCII", Charset::Ascii),
        ("windows-1252", Charset::Cp1252),
        ("shift_jis", Charset::Other("shift_jis".into())),
    ] {
        assert_eq!(Charset::lookup(name), want, "{name}");
    }
    assert_eq!(
        Charset::Cp1252.decode(b"\x80\x9f"),
        Some("\u{20ac}\u{178}".into())
    );
    assert_eq!(Charset::Cp1252.decode(b"\x81"), None);
    assert_eq!(
        Charset::Cp1252.encode("\u{20ac}\u{e9}"),
        Some(b"\x80\xe9".to_vec())
    );
    assert_eq!(Charset::Latin1.encode("\u{20ac}"), None);
    assert_eq!(Charset::Ascii.decode(b"\xe9"), None);
}

#[test]
fn charsets_are_inferred_as_mitmproxy_does() {
    let check = |ct: &str, body: &[u8], want: &str| {
        assert_eq!(charset::infer(ct.as_bytes(), body), want, "{ct}");
    };
    check("text/html; charset=UTF-8", b"", "UTF-8");
    check("application/json", b"", "utf8");
    check(
        "text/html",
        b"<head><META http-equiv=x content='text/html; charset=windows-1252'>",
        "windows-1252",
    );
    check("text/html", b"<meta charset=\"utf-8\">", "utf-8");
    check("text/css", b"@charset \"cp1252\"; a{}", "cp1252");
    check("text/css", b" @charset \"cp1252\";", "latin-1");
    check("text/plain", b"<meta charset=utf-8>", "latin-1");
    check("text/html; charset=GBK", b"", "gb18030");
}

/// The boundary's text is `text`'s, whichever path gives it.
#[test]
fn text_bytes_is_text() {
    let cases: &[(&str, &[u8])] = &[
        ("text/plain; charset=utf-8", "h\u{e9}".as_bytes()),
        ("text/plain; charset=utf-8", b"h\xe9"),
        ("text/plain", b"h\xe9"),
        ("text/plain; charset=ascii", b"h\xe9"),
        ("text/plain; charset=koi8-r", b"x"),
        ("application/json", "{\"a\": \"\u{20ac}\"}".as_bytes()),
        ("text/html", b"<meta charset=utf-8>\xc3\xa9"),
        ("text/html; charset=windows-1252", b"\x80"),
    ];
    for (ct, body) in cases {
        let d = msg("/", &[("Content-Type", ct)], body);
        let text = m::text(&d).map(|t| t.map(String::into_bytes));
        let bytes = m::text_bytes(&d).map(|b| b.map(|b| b.to_vec()));
        assert_eq!(bytes, text, "{ct} {body:?}");
    }
}

#[test]
fn text_and_set_text() {
    let d = msg(
        "/",
        &[("Content-Type", "text/plain; charset=utf-8")],
        "h\u{e9}".as_bytes(),
    );
    assert_eq!(m::text(&d), Ok(Some("h\u{e9}".into())));
    let d = msg("/", &[("Content-Type", "text/plain")], b"h\xe9");
    assert_eq!(m::text(&d), Ok(Some("h\u{e9}".into())));
    let d = msg(
        "/",
        &[("Content-Type", "text/plain; charset=ascii")],
        b"h\xe9",
    );
    assert_eq!(
        m::text(&d),
        Err(TextError::Decode {
            charset: "ascii".into()
        })
    );
    let d = msg("/", &[("Content-Type", "text/plain; charset=koi8-r")], b"x");
    assert_eq!(
        m::text(&d),
        Err(TextError::Unsupported {
            charset: "koi8-r".into()
        })
    );
    let mut d = msg("/", &[("Content-Type", "text/plain")], b"");
    d.insert("content", Value::Null);
    assert_eq!(m::text(&d), Ok(None));

    // Latin-1 cannot hold the euro sign: UTF-8, and the Content-Type says so.
    let mut d = msg("/", &[("content-type", "text/html; q=1")], b"");
    m::set_text(&mut d, "\u{20ac}").unwrap();
    assert_eq!(
        d.get("content").and_then(Value::as_bytes),
        Some("\u{20ac}".as_bytes())
    );
    assert_eq!(
        header_list(&d),
        [
            (
                "content-type".to_string(),
                "text/html; q=1; charset=utf-8".to_string()
            ),
            ("content-length".to_string(), "3".to_string())
        ]
    );
    let mut d = msg("/", &[("Content-Type", "text/plain; charset=cp1252")], b"");
    m::set_text(&mut d, "\u{20ac}").unwrap();
    assert_eq!(
        d.get("content").and_then(Value::as_bytes),
        Some(&b"\x80"[..])
    );
}

#[test]
fn replace_in_body_and_headers() {
    let mut d = msg("/", &[("X-A", "foo"), ("X-B", "foo foo")], b"foo bar foo");
    let re = regex::bytes::Regex::new("fo(o)").unwrap();
    assert_eq!(m::replace(&mut d, &re, b"b$1", 0), Ok(5));
    assert_eq!(
        d.get("content").and_then(Value::as_bytes),
        Some(&b"bo bar bo"[..])
    );
    assert_eq!(
        header_list(&d)[..2],
        [
            ("X-A".to_string(), "bo".to_string()),
            ("X-B".to_string(), "bo bo".to_string())
        ]
    );
    // A count limits the body and the headers apart; `: ` must survive.
    let mut d = msg("/", &[("X-A", "foo"), ("X-B", "foo")], b"foo foo");
    assert_eq!(m::replace(&mut d, &re, b"x", 1), Ok(2));
    assert_eq!(
        d.get("content").and_then(Value::as_bytes),
        Some(&b"x foo"[..])
    );
    assert_eq!(header_list(&d)[1], ("X-B".to_string(), "foo".to_string()));
    let colon = regex::bytes::Regex::new(": ").unwrap();
    assert_eq!(m::replace(&mut d, &colon, b"", 0), Ok(0));
}
