//! Drafts: from flows, JSON, raw text and curl commands, and back to
//! flows.

use serde_json::json;

use super::*;
use crate::flowfile::FlowReader;
use crate::test_support::golden;
use crate::view::Invalid;

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_flow_becomes_a_draft_and_a_draft_a_flow_to_send() {
    let flows: Vec<Flow> = FlowReader::new(&golden("all.mitm")[..])
        .map(Result::unwrap)
        .collect();
    let post = &flows[1];
    let draft = Draft::of(post).unwrap();
    assert_eq!(draft.method, "POST");
    assert!(
        draft.url.starts_with("http://127.0.0.1:18081/"),
        "{draft:?}"
    );
    let mut edited = draft.clone();
    edited.body = b"{\"n\": 2}".to_vec();
    edited.url = "http://127.0.0.1:9/other?x=1".into();
    let flow = edited.to_flow(Some(post)).unwrap();
    assert_ne!(flow.id(), post.id());
    assert!(flow.response().is_none());
    assert_eq!(flow.text("is_replay"), Some("request"));
    let req = flow.request().unwrap();
    assert_eq!(http::raw(req, "path"), b"/other?x=1");
    assert_eq!(http::raw(req, "host"), b"127.0.0.1");
    assert_eq!(http::raw_content(req).unwrap().as_ref(), b"{\"n\": 2}");
    assert_eq!(http::header(req, "content-length"), Some(&b"8"[..]));
    // The connection details of the flow it came from stay.
    assert_eq!(flow.conn("client_conn"), post.conn("client_conn"));
    // And back: the draft of the flow sent is the draft.
    assert_eq!(Draft::of(&flow).unwrap().body, edited.body);
}

#[test]
fn a_draft_from_scratch_has_no_body_length_it_was_not_given() {
    let draft = Draft {
        url: "https://api.example.com:8443/v1/items?limit=2".into(),
        headers: headers(&[("Host", "api.example.com:8443"), ("Accept", "*/*")]),
        ..Draft::default()
    };
    let flow = draft.to_flow(None).unwrap();
    assert_eq!(flow.kind(), crate::flow::FlowKind::Http);
    let req = flow.request().unwrap();
    assert_eq!(http::raw(req, "scheme"), b"https");
    assert_eq!(req.get("port").and_then(Value::as_int), Some(8443));
    assert_eq!(http::header(req, "content-length"), None);
    assert_eq!(flow.replay_problem(), None);
    // A Host the draft gives wins over the URL's (a virtual host to test).
    let vhost = Draft {
        headers: headers(&[("Host", "vhost.test")]),
        url: "http://127.0.0.1:8080/".into(),
        ..Draft::default()
    }
    .to_flow(None)
    .unwrap();
    let req = vhost.request().unwrap();
    assert_eq!(http::header(req, "host"), Some(&b"vhost.test"[..]));
    assert_eq!(http::raw(req, "host"), b"127.0.0.1");
}

#[test]
fn drafts_cross_as_json_with_binary_bodies_in_base64() {
    let draft = Draft {
        body: vec![0xff, 0, 1],
        ..Draft::default()
    };
    let j = draft.json();
    assert_eq!(j["body_base64"], "/wAB");
    assert!(j.get("body").is_none());
    assert_eq!(Draft::from_json(&j).unwrap(), draft);
    let text = Draft::default().json();
    assert_eq!(text["body"], "");
    assert_eq!(Draft::from_json(&text).unwrap(), Draft::default());
    for (bad, says) in [
        (json!({"method": "GET"}), "url: a request needs a URL"),
        (
            json!({"url": "http://x/", "headers": [["a"]]}),
            "headers: expected",
        ),
        (
            json!({"url": "http://x/", "body_base64": "%%"}),
            "body_base64: not base64",
        ),
        (json!({"url": 5}), "url: expected text"),
    ] {
        let e = Draft::from_json(&bad).unwrap_err().to_string();
        assert!(e.starts_with(says), "{e}");
    }
    // A bad URL or header is refused when the flow is made.
    let e = Draft {
        url: "nowhere".into(),
        ..Draft::default()
    }
    .to_flow(None)
    .unwrap_err();
    assert!(
        matches!(&e, Invalid::At { at, .. } if at == "request.url"),
        "{e}"
    );
}

#[test]
fn raw_text_round_trips_and_says_which_line_is_wrong() {
    let draft = Draft {
        method: "PUT".into(),
        url: "http://h:81/a?b".into(),
        headers: headers(&[("Host", "h:81"), ("X-A", "1")]),
        body: b"line one\nline two".to_vec(),
        ..Draft::default()
    };
    let text = draft.raw();
    assert_eq!(
        text,
        "PUT http://h:81/a?b HTTP/1.1\nHost: h:81\nX-A: 1\n\nline one\nline two"
    );
    assert_eq!(Draft::from_raw(&text, "http").unwrap(), draft);
    // CRLF, a path with a Host header, no version, no body.
    let d = Draft::from_raw("GET /x HTTP/1.1\r\nHost: e.com\r\n\r\n", "https").unwrap();
    assert_eq!((d.url.as_str(), d.body.len()), ("https://e.com/x", 0));
    let d = Draft::from_raw("DELETE http://e.com/y", "http").unwrap();
    assert_eq!(
        (d.method.as_str(), d.http_version.as_str()),
        ("DELETE", "HTTP/1.1")
    );
    for (bad, says) in [
        ("", "line 1: expected `METHOD URL HTTP/1.1`"),
        ("GET", "line 1: expected"),
        ("GET /x HTTP/1.1", "line 1: \"/x\" is a path"),
        (
            "GET ftp.example.com HTTP/1.1",
            "line 1: \"ftp.example.com\" is not a URL",
        ),
        (
            "GET http://e/ HTTP/1.1\nno colon here",
            "line 2: expected `Name: value`",
        ),
        ("GET http://e/ HTTP/1.1 extra", "line 1: expected"),
        (
            "GET /p HTTP/1.1\nHost: a b.com",
            "the Host header \"a b.com\" is not a host[:port]",
        ),
    ] {
        let e = Draft::from_raw(bad, "http").unwrap_err().to_string();
        assert!(e.starts_with(says), "{bad:?}: {e}");
        assert!(!e.contains('\n'));
    }
}

#[test]
fn shell_words_read_as_bash_reads_them() {
    let w = |s: &str| shell_words(s).unwrap();
    assert_eq!(
        w("curl  'a b' \"c \\\"d\\\"\" e\\ f"),
        ["curl", "a b", "c \"d\"", "e f"]
    );
    assert_eq!(w("curl \\\n  -H x"), ["curl", "-H", "x"]);
    assert_eq!(w(r"$'it\'s\n\x41\u00e9\101'"), ["it's\nAé\u{41}"]);
    assert_eq!(w("a''b \"\""), ["ab", ""]);
    assert_eq!(shell_words("'open").unwrap_err(), CurlError::Unclosed('\''));
    assert_eq!(shell_words("\"open").unwrap_err(), CurlError::Unclosed('"'));
    assert_eq!(
        shell_words("$'open").unwrap_err(),
        CurlError::Unclosed('\'')
    );
}

#[test]
fn a_curl_command_as_chrome_copies_it() {
    let d = Draft::from_curl(
        r#"curl 'https://api.example.com/v1/login?x=1' \
  -H 'accept: application/json' \
  -H 'content-type: application/json' \
  -b 'sid=abc; theme=dark' \
  --data-raw $'{"user":"o\'brien"}' \
  --compressed"#,
    )
    .unwrap();
    assert_eq!(d.method, "POST");
    assert_eq!(d.url, "https://api.example.com/v1/login?x=1");
    assert_eq!(d.body, br#"{"user":"o'brien"}"#);
    assert_eq!(
        d.headers,
        headers(&[
            ("Host", "api.example.com"),
            ("Cookie", "sid=abc; theme=dark"),
            ("Accept-Encoding", "deflate, gzip"),
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("Content-Length", "18"),
        ])
    );
}

#[test]
fn curl_options_as_curl_reads_them() {
    let c = |s: &str| Draft::from_curl(s).unwrap();
    let d = c("curl -XPUT -sSL example.com:8080/a -d a=1 -d b=2 -A ua -u me:pw");
    assert_eq!(
        (d.method.as_str(), d.url.as_str()),
        ("PUT", "http://example.com:8080/a")
    );
    assert_eq!(d.body, b"a=1&b=2");
    let h = |d: &Draft, n: &str| {
        d.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(h(&d, "user-agent").as_deref(), Some("ua"));
    assert_eq!(h(&d, "authorization").as_deref(), Some("Basic bWU6cHc="));
    assert_eq!(
        h(&d, "content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let d = c("curl -G https://e.com/s?q=1 --data-urlencode 'w=a b&c' -d x=2");
    assert_eq!(
        (d.method.as_str(), d.url.as_str()),
        ("GET", "https://e.com/s?q=1&w=a%20b%26c&x=2")
    );
    assert!(d.body.is_empty());
    assert_eq!(c("curl -I http://e/").method, "HEAD");
    let d = c("curl --json '{\"a\":1}' http://e/");
    assert_eq!(
        (d.method.as_str(), h(&d, "accept").as_deref()),
        ("POST", Some("application/json"))
    );
    assert_eq!(
        c("curl -H 'X-Empty;' http://e/").headers[2],
        ("X-Empty".into(), String::new())
    );
    // `Name:` takes curl's own header out; a header given twice is sent
    // twice.
    assert_eq!(
        c("curl -H 'Accept:' http://e/").headers,
        headers(&[("Host", "e")])
    );
    assert_eq!(
        c("curl -H 'X: 1' -H 'X: 2' http://e/").headers[2..],
        headers(&[("X", "1"), ("X", "2")])
    );
    assert_eq!(
        c("curl --http2 -o out.txt --url http://e/").http_version,
        "HTTP/2.0"
    );
    // Data is sent as given, line breaks too; `-d ''` still posts.
    assert_eq!(c("curl -d $'a\nb' http://e/").body, b"a\nb");
    let empty = c("curl -d '' http://e/");
    assert_eq!(
        (
            empty.method.as_str(),
            h(&empty, "content-length").as_deref()
        ),
        ("POST", Some("0"))
    );
    // Credentials in the URL become Basic authorization.
    let d = c("curl https://me:pw@e.com/x");
    assert_eq!(d.url, "https://e.com/x");
    assert_eq!(h(&d, "authorization").as_deref(), Some("Basic bWU6cHc="));
    // UTF-16 pairs in `$'…'`, and text that is not ASCII after a short flag.
    assert_eq!(shell_words(r"$'\ud83d\ude00'").unwrap(), ["😀"]);
    assert_eq!(
        Draft::from_curl("curl -é http://e/").unwrap_err(),
        CurlError::Unknown("-é".into())
    );
    assert_eq!(
        Draft::from_curl("").unwrap_err().to_string(),
        "nothing to read; paste a curl command (`curl https://…`)"
    );
    for (bad, want) in [
        ("wget http://e/", CurlError::NotCurl("wget".into())),
        ("curl", CurlError::NoUrl),
        ("curl http://e/ -H", CurlError::NoValue("-H".into())),
        (
            "curl --frobnicate http://e/",
            CurlError::Unknown("--frobnicate".into()),
        ),
    ] {
        assert_eq!(Draft::from_curl(bad).unwrap_err(), want, "{bad}");
    }
    for bad in [
        "curl -d @file.json http://e/",
        "curl -F a=b http://e/",
        "curl -b jar.txt http://e/",
    ] {
        let e = Draft::from_curl(bad).unwrap_err().to_string();
        assert!(!e.contains('\n') && e.contains(": "), "{bad}: {e}");
    }
}
