//! HAR export against mitmproxy's own output, import, and the Python
//! details both rest on.

use std::io::Cursor;

use super::json::{J, py_bytes, py_str, write};
use super::text::{b64decode, b64encode, infer_content_encoding, iso_utc, parse_iso};
use super::*;
use crate::flowfile::FlowReader;
use crate::http;
use crate::test_support::golden;
use crate::tnetstring::Value;

fn flows(name: &str) -> Vec<crate::Flow> {
    FlowReader::new(Cursor::new(golden(name)))
        .map(Result::unwrap)
        .collect()
}

fn export(flows: &[crate::Flow]) -> String {
    let mut dump = HarDump::new();
    for flow in flows {
        dump.add(flow);
    }
    let mut out = Vec::new();
    dump.finish(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The document after `"entries": `.
fn entries_text(har: &str) -> &str {
    &har[har.find("\"entries\": ").unwrap()..]
}

#[test]
fn export_is_byte_for_byte_what_mitmproxy_wrote() {
    // all.har is mitmdump's `hardump` of all.mitm: only the creator differs.
    let ours = export(&flows("all.mitm"));
    let theirs = String::from_utf8(golden("all.har")).unwrap();
    assert_eq!(entries_text(&ours), entries_text(&theirs));
    assert!(ours.contains("\"name\": \"Waylay\""));
    let parsed: serde_json::Value = serde_json::from_str(&ours).unwrap();
    assert_eq!(parsed["log"]["entries"].as_array().unwrap().len(), 5);
}

#[test]
fn which_flows_make_entries() {
    // A WebSocket flow: one entry, with its messages.
    let ws = flows("websocket.mitm");
    let har = export(&ws);
    let doc: serde_json::Value = serde_json::from_str(&har).unwrap();
    let entry = &doc["log"]["entries"][0];
    assert_eq!(entry["_resourceType"], "websocket");
    assert_eq!(entry["_webSocketMessages"].as_array().unwrap().len(), 4);
    // TCP flows make none; an empty HAR is still a document.
    assert_eq!(
        export(&flows("tcp.mitm")),
        "{\n    \"log\": {\n        \"version\": \"1.2\",\n        \"creator\": {\n            \
         \"name\": \"Waylay\",\n            \"version\": \"0.1.0\",\n            \"comment\": \"\"\n        },\n        \
         \"pages\": [],\n        \"entries\": []\n    }\n}"
            .replace("0.1.0", env!("CARGO_PKG_VERSION"))
    );
    // A flow with a response and an error is saved by both hooks.
    let mut flow = flows("get.mitm").remove(0);
    flow.set_error("boom", 1.0);
    let mut dump = HarDump::new();
    assert_eq!(dump.add(&flow), 2);
    // A flow with neither: no hook saves it.
    flow.dict_mut().insert("response", Value::Null);
    flow.dict_mut().insert("error", Value::Null);
    assert_eq!(dump.add(&flow), 0);
    assert!(dump.push_entry(&flow));
}

#[test]
fn json_is_written_as_python_writes_it() {
    let mut out = String::new();
    let value = J::Obj(vec![
        (
            "a",
            J::List(vec![J::Int(1), J::Float(1.0), J::Float(0.1 + 0.2), J::Null]),
        ),
        ("b", J::Str("é\"\\\n\u{7f}😀".into())),
        ("c", J::Obj(Vec::new())),
        ("d", J::Str(py_str(b"a\xffb"))),
    ]);
    write(&value, 0, &mut out);
    assert_eq!(
        out,
        "{\n    \"a\": [\n        1,\n        1.0,\n        0.30000000000000004,\n        null\n    ],\n    \
         \"b\": \"\\u00e9\\\"\\\\\\n\\u007f\\ud83d\\ude00\",\n    \"c\": {},\n    \"d\": \"a\\udcffb\"\n}"
    );
    assert_eq!(
        py_bytes(&py_str(b"a\xff\xfe\xc3\xa9")),
        b"a\xff\xfe\xc3\xa9"
    );
}

#[test]
fn timestamps_round_trip_through_iso_text() {
    for (ts, text) in [
        (0.0, "1970-01-01T00:00:00+00:00"),
        (1_763_941_162.814_537, "2025-11-23T23:39:22.814537+00:00"),
        (951_782_400.5, "2000-02-29T00:00:00.500000+00:00"),
        (-1.25, "1969-12-31T23:59:58.750000+00:00"),
    ] {
        assert_eq!(iso_utc(ts), text);
        assert_eq!(parse_iso(text).unwrap(), ts, "{text}");
    }
    for (text, ts) in [
        ("2023-06-13T13:00:22.487Z", 1_686_661_222.487),
        ("2023-06-13T15:00:22.487+02:00", 1_686_661_222.487),
        ("20230613T130022", 1_686_661_222.0),
        ("2023-06-13", 1_686_614_400.0),
        ("2023-06-13T13:00:22.4871239Z", 1_686_661_222.487_123),
    ] {
        assert_eq!(parse_iso(text).unwrap(), ts, "{text}");
    }
    for bad in [
        "",
        "yesterday",
        "2023-13-01T00:00:00Z",
        "2023-02-29",
        "2023-06-13T25:00",
    ] {
        assert!(parse_iso(bad).is_err(), "{bad}");
    }
}

#[test]
fn base64_as_python() {
    assert_eq!(b64encode(b""), "");
    assert_eq!(b64encode(b"foo\xff"), "Zm9v/w==");
    assert_eq!(b64decode("Zm9v/w==").unwrap(), b"foo\xff");
    // Not validating: junk is skipped; data after the padding is ignored.
    assert_eq!(b64decode("Zm9v\n/w==!!").unwrap(), b"foo\xff");
    assert_eq!(b64decode("Zm9v/w==AAAA").unwrap(), b"foo\xff");
    assert!(b64decode("Zm9v/w").unwrap_err().contains("padding"));
    assert!(b64decode("Z").is_err());
}

#[test]
fn charsets_as_mitmproxy_infers_them() {
    assert_eq!(
        infer_content_encoding("text/html; charset=UTF-8", b""),
        "UTF-8"
    );
    assert_eq!(infer_content_encoding("application/json", b""), "utf8");
    assert_eq!(infer_content_encoding("text/plain", b""), "latin-1");
    assert_eq!(
        infer_content_encoding("text/html", b"<meta http-equiv=x charset=\"cp1252\">"),
        "cp1252"
    );
    assert_eq!(
        infer_content_encoding("text/html; charset=GBK", b""),
        "gb18030"
    );
}

#[test]
fn import_reads_what_mitmproxy_reads() {
    let flows = read_har(&golden("all.har")).unwrap();
    assert_eq!(flows.len(), 5);
    let post = &flows[1];
    let req = post.request().unwrap();
    assert_eq!(http::raw(req, "method"), b"POST");
    assert_eq!(http::url::url(req), "http://127.0.0.1:18081/submit");
    // Request.make sets Content-Length from the body.
    let body = http::raw_content(req).unwrap();
    assert_eq!(
        http::header(req, "content-length").unwrap(),
        body.len().to_string().as_bytes()
    );
    let client = post.conn("client_conn").unwrap();
    assert_eq!(client.get("timestamp_start"), req.get("timestamp_start"));
    // The refused flow: status 0, no server address.
    let refused = &flows[3];
    assert_eq!(
        refused.response().unwrap().get("status_code"),
        Some(&Value::Int(0))
    );
    // What we write, we read again with the same requests and responses
    // (not the same end times: a HAR's `time` counts the response twice
    // for a flow mitmproxy read from a HAR, as `receive` and as `send`).
    let again = read_har(export(&flows).as_bytes()).unwrap();
    for (a, b) in flows.iter().zip(&again) {
        let (ra, rb) = (a.request().unwrap(), b.request().unwrap());
        for key in [
            "method", "scheme", "host", "port", "path", "headers", "content",
        ] {
            assert_eq!(ra.get(key), rb.get(key), "{key}");
        }
        assert_eq!(
            http::raw_content(a.response().unwrap()),
            http::raw_content(b.response().unwrap())
        );
    }
}

#[test]
fn broken_entries_say_where() {
    let entry = |body: &str| format!("{{\"log\": {{\"entries\": [{body}]}}}}");
    let ok = r#"{"startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
        "request": {"method": "GET", "url": "http://x/", "httpVersion": "HTTP/1.1", "headers": []},
        "response": {"status": 200, "httpVersion": "HTTP/1.1", "headers": [], "content": {"text": "hi"}}}"#;
    assert_eq!(read_har(entry(ok).as_bytes()).unwrap().len(), 1);
    for (change, message) in [
        (
            ("\"time\": 1", "\"time\": \"1\""),
            "HAR entry 0: time is missing or not a number",
        ),
        (
            ("\"url\": \"http://x/\"", "\"url\": \"http://\""),
            "HAR entry 0: request.url: No hostname given",
        ),
        (
            ("\"headers\": []", "\"headers\": [{\"name\": \"a\"}]"),
            "HAR entry 0: request.headers[0] is missing",
        ),
        (
            ("\"2024-01-01T00:00:00Z\"", "\"noon\""),
            "HAR entry 0: startedDateTime: \"noon\" is not an ISO 8601",
        ),
        (
            (
                "\"text\": \"hi\"",
                "\"text\": \"hi\", \"encoding\": \"base64\"",
            ),
            "HAR entry 0: response.content.text: invalid base64",
        ),
    ] {
        let bad = ok.replacen(change.0, change.1, 1);
        let err = read_har(entry(&format!("{ok}, {bad}")).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&message.replace("entry 0", "entry 1")),
            "{err}"
        );
    }
    assert_eq!(read_har(b"{}").unwrap_err(), HarError::NoEntries);
    assert!(matches!(
        read_har(b"{\"log\": ").unwrap_err(),
        HarError::Json { .. }
    ));
    assert!(is_har(b"\xef\xbb\xbf{") && is_har(b"{") && !is_har(b"123:"));
}

#[test]
fn request_text_the_charset_cannot_hold_is_utf8() {
    let har = r#"{"log": {"entries": [{"startedDateTime": "2024-01-01T00:00:00Z", "time": 0,
        "request": {"method": "POST", "url": "https://x/", "httpVersion": "h2",
            "headers": [["Content-Type", "text/plain"]], "postData": {"text": "€"}},
        "response": {"status": 204, "httpVersion": "", "headers": [], "content": {}}}]}}"#;
    let flow = read_har(har.as_bytes()).unwrap().remove(0);
    let req = flow.request().unwrap();
    assert_eq!(
        http::header(req, "content-type").unwrap(),
        b"text/plain; charset=utf-8"
    );
    assert_eq!(&http::raw_content(req).unwrap()[..], "€".as_bytes());
    assert_eq!(http::raw(req, "http_version"), b"HTTP/1.1");
    let resp = flow.response().unwrap();
    assert_eq!(http::raw(resp, "reason"), b"No Content");
    assert_eq!(http::raw_content(resp).unwrap().len(), 0);
}

#[cfg(feature = "live")]
#[test]
fn the_fuzz_invariants_hold_on_real_har_files() {
    let dir = crate::test_support::testdata().join("har");
    let mut files = vec![golden("all.har")];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "har") {
            files.push(std::fs::read(path).unwrap());
        }
    }
    assert!(files.len() >= 5);
    for bytes in files {
        crate::fuzzing::har(&bytes);
        // Cut anywhere: an error, never a panic.
        for cut in [1, bytes.len() / 3, bytes.len() - 1] {
            crate::fuzzing::har(&bytes[..cut]);
        }
    }
}
