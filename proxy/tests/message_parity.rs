//! The differential test of the message accessors (`http::message`): each
//! case (a request or response, an operation) runs in mitmproxy 11.0.2
//! (`tests/message_parity.py`, with the Python of the venv `cargo xtask
//! peer` installs) and here, from the same starting state; what the
//! accessors return and what the setters leave (path, headers, body) must
//! be the same. Under `CI=true` a missing peer fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};
use waylay_proxy::http::message as m;
use waylay_proxy::tnetstring::{Dict, Value};

/// One case: a message, an operation and its argument.
struct Case {
    name: &'static str,
    json: Json,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex_pairs(pairs: &[(&[u8], &[u8])]) -> Json {
    pairs.iter().map(|(k, v)| json!([hex(k), hex(v)])).collect()
}

fn message(
    name: &'static str,
    start: Json,
    headers: &[(&str, &[u8])],
    body: Option<&[u8]>,
    op: &str,
    arg: Json,
) -> Case {
    let mut json = start;
    json["headers"] = headers
        .iter()
        .map(|(n, v)| json!([hex(n.as_bytes()), hex(v)]))
        .collect();
    json["content"] = body.map_or(Json::Null, |b| json!(hex(b)));
    json["op"] = json!(op);
    json["arg"] = arg;
    Case { name, json }
}

/// A GET of `url` (its path replaced by `path`, raw bytes, when given).
fn req(
    name: &'static str,
    url: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
    op: &str,
    arg: Json,
) -> Case {
    let start = json!({"kind": "request", "method": "GET", "url": url});
    message(name, start, headers, Some(body), op, arg)
}

/// A request whose path is `path`, raw bytes.
fn req_path(name: &'static str, path: &[u8], op: &str, arg: Json) -> Case {
    let mut case = req(name, "http://h/", &[], b"", op, arg);
    case.json["path"] = json!(hex(path));
    case
}

/// A CONNECT to `host` (its URL is `host:443`).
fn connect(name: &'static str, host: &str, op: &str, arg: Json) -> Case {
    let url = format!("http://{host}:443/");
    let start = json!({"kind": "request", "method": "CONNECT", "url": url, "path": ""});
    message(name, start, &[], Some(b""), op, arg)
}

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(body).unwrap();
    z.finish().unwrap()
}

fn resp(name: &'static str, headers: &[(&str, &[u8])], body: &[u8], op: &str, arg: Json) -> Case {
    let start = json!({"kind": "response", "status": 200});
    message(name, start, headers, Some(body), op, arg)
}

const FORM: (&str, &[u8]) = ("Content-Type", b"application/x-www-form-urlencoded");
const MULTIPART: (&str, &[u8]) = ("Content-Type", b"multipart/form-data; boundary=b0undary");

fn ct(value: &'static str) -> (&'static str, &'static [u8]) {
    ("Content-Type", value.as_bytes())
}

const FILE_PART: &[u8] = b"--b0undary\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue one\r\n--b0undary\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\xff\r\n--b0undary--\r\n";

fn cases() -> Vec<Case> {
    let none = Json::Null;
    let e: &[(&str, &[u8])] = &[];
    let utf8_html = "<p>caf\u{e9} \u{20ac}</p>".as_bytes();
    vec![
        // Query strings.
        req("dup keys", "http://h/p?a=1&a=2&b=3&a=4", e, b"", "query", none.clone()),
        req("plus and %20", "http://h/p?x=a+b%20c%2B&y=%2b+", e, b"", "query", none.clone()),
        req("blank values", "http://h/p?a=&b&&c==&=d", e, b"", "query", none.clone()),
        req("non-utf8 escapes", "http://h/p?k=%FF%fe&%E9t%C3%A9=%C3", e, b"", "query", none.clone()),
        req("query, params, fragment", "http://h/a;p/b;q?x=1#frag?y=2", e, b"", "query", none.clone()),
        req("no query", "http://h/p#f", e, b"", "query", none.clone()),
        req("port and bad escapes", "https://h:8443/p?a=%zz&b=%", e, b"", "query", none.clone()),
        req("set query", "http://h/a/b;p?old=1#f", e, b"", "set_query",
            hex_pairs(&[(b"x y", b"1+2&=?"), ("\u{e9}".as_bytes(), b""), (b"k", b"\xff\x00/~")])),
        req("set empty query", "http://h/a?x=1#f", e, b"", "set_query", json!([])),
        req("set query, empty params", "http://h/a;?x=1", e, b"", "set_query", hex_pairs(&[(b"k", b"v")])),
        req("set query, no path", "http://h", e, b"", "set_query", hex_pairs(&[(b"a", b"b")])),
        req("set query, dup keys", "http://h/?q", e, b"", "set_query",
            hex_pairs(&[(b"a", b"1"), (b"a", b"2"), (b"", b"")])),
        req_path("raw bytes in the path", b"/\xc3\xa9/\xff?k=\xc3\xa9\xff&t=a\tb", "query", none.clone()),
        req_path("set query, raw path", b"/\xc3\xa9/\xff;\xfe?x#\xfd", "set_query", hex_pairs(&[(b"k", b"v")])),
        req_path("path without a slash", b"abc/def?x=1", "query", none.clone()),
        req_path("set query, path without a slash", b"abc/def?x=1", "set_query", hex_pairs(&[(b"k", b"v")])),
        req_path("asterisk", b"*", "query", none.clone()),
        req_path("fragment before query", b"/a#b?c=1", "set_query", hex_pairs(&[(b"k", b"v")])),
        connect("connect query", "h", "query", none.clone()),
        connect("connect set query", "h", "set_query", hex_pairs(&[(b"k", b"v")])),
        connect("connect path components", "h", "path_components", none.clone()),
        connect("connect to an address", "10.0.0.1", "path_components", none.clone()),
        connect("connect to an address, set query", "10.0.0.1", "set_query", hex_pairs(&[(b"k", b"v")])),
        connect("connect to http", "http", "set_path_components", json!([hex(b"a")])),
        // Path components.
        req_path("raw path components", b"/\xc3\xa9/\xff/a%2F;b/c;d?q", "path_components", none.clone()),
        req_path("set path components, tab", b"/a\tb;p", "set_path_components", json!([hex(b"x")])),
        req("path components", "http://h/a%20b//c%2Fd/%FF;p?q=1#f", e, b"", "path_components", none.clone()),
        req("root path components", "http://h/", e, b"", "path_components", none.clone()),
        req("set path components", "http://h/old;p?q=1#f", e, b"", "set_path_components",
            json!([hex(b"x/y"), hex(b"z z"), hex("\u{e9}".as_bytes()), hex(b"\xff~")])),
        // Request cookies.
        req("cookies", "http://h/", &[("Cookie", b"a=1; b=x=y==; c=\"q\\\"d;e\"; d; =e")], b"", "cookies", none.clone()),
        req("several cookie fields", "http://h/", &[("Cookie", b"a=1"), ("X", b"y"), ("cookie", b" b=2;c=3 ;")], b"", "cookies", none.clone()),
        req("set cookies", "http://h/", &[("X", b"y"), ("COOKIE", b"a=1"), ("cookie", b"b=2")], b"", "set_cookies",
            json!([[hex(b"k"), hex(b"v=w")], [hex(b"s"), hex(b"a b;\"c\"")], [hex(b"e"), hex(b"")]])),
        // Response cookies.
        resp("set-cookie attributes", &[("Set-Cookie", b"id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly; Path=/; SameSite=Lax")], b"", "cookies", none.clone()),
        resp("several set-cookie", &[("Set-Cookie", b"a=1; Path=/"), ("X", b"y"), ("set-cookie", b"b=2, c=3; Max-Age=5"), ("Set-Cookie", b"flag; Domain=h"), ("Set-Cookie", b"a=4")], b"", "cookies", none.clone()),
        resp("set-cookie quoted and =", &[("Set-Cookie", b"q=\"x,y; z\"; Comment=a=b")], b"", "cookies", none.clone()),
        resp("set set-cookie", &[("Set-Cookie", b"old=1"), ("X", b"y")], b"", "set_cookies",
            json!([[hex(b"a"), hex(b"1"), [[hex(b"Path"), hex(b"/a b")], [hex(b"HttpOnly"), null]]],
                   [hex(b"b"), null, [[hex(b"Expires"), hex(b"Wed, 21 Oct 2015 07:28:00 GMT")]]],
                   [hex(b"c"), hex(b"x y"), [[hex(b"Comment"), hex(b"a;b")]]]])),
        resp("set fewer set-cookie", &[("Set-Cookie", b"a=1"), ("X", b"y"), ("set-cookie", b"b=2")], b"", "set_cookies",
            json!([[hex(b"z"), hex(b"9"), []]])),
        // Urlencoded forms.
        req("form", "http://h/", &[FORM], b"a=1&a=2&b=x+y%20z&c=&d", "urlencoded_form", none.clone()),
        req("form latin-1 bytes", "http://h/", &[FORM], b"n=\xe9t\xe9&m=%E9%FF", "urlencoded_form", none.clone()),
        req("form utf-8 charset", "http://h/", &[("content-type", b"application/x-www-form-urlencoded; charset=utf-8")], "n=\u{e9}&bad=\u{e9}".as_bytes(), "urlencoded_form", none.clone()),
        req("form undecodable utf-8", "http://h/", &[("content-type", b"application/x-www-form-urlencoded; charset=utf-8")], b"n=\xe9&m=%C3%A9", "urlencoded_form", none.clone()),
        req("form cp1252", "http://h/", &[("content-type", b"Application/X-WWW-Form-Urlencoded; charset=windows-1252")], b"e=\x80&x=\x81", "urlencoded_form", none.clone()),
        req("not a form", "http://h/", &[ct("text/plain")], b"a=1", "urlencoded_form", none.clone()),
        req("set form", "http://h/", &[ct("text/plain; charset=utf-8")], "old=\u{e9}".as_bytes(), "set_urlencoded_form",
            hex_pairs(&[(b"a b", b"1&2"), ("\u{e9}".as_bytes(), b"\xff"), (b"e", b"")])),
        req("set form like old", "http://h/", &[FORM, ("Content-Length", b"5")], b"a&b=1", "set_urlencoded_form",
            hex_pairs(&[(b"x", b""), (b"y", b"1"), (b"z", b"")])),
        // Multipart forms.
        req("multipart with a file", "http://h/", &[MULTIPART], FILE_PART, "multipart_form", none.clone()),
        req("multipart quoted boundary", "http://h/", &[ct("multipart/form-data; boundary=\"b0undary\"")], FILE_PART, "multipart_form", none.clone()),
        req("multipart wrong type", "http://h/", &[ct("text/plain; boundary=b0undary")], FILE_PART, "multipart_form", none.clone()),
        req("set multipart", "http://h/", &[MULTIPART], b"", "set_multipart_form",
            hex_pairs(&[(b"field", b"v"), (b"upload", b"\x89PNG\r\n\x00\xff"), (b"", b"skipped"), (b"a.txt", b"t")])),
        req("set multipart, new boundary", "http://h/", &[ct("text/plain")], b"old", "set_multipart_form",
            hex_pairs(&[(b"f", b"1"), (b"g", b"2\r\n")])),
        req("set multipart, boundary to quote", "http://h/", &[ct("multipart/form-data; boundary=\"a b/c\"")], b"", "set_multipart_form",
            hex_pairs(&[(b"f", b"1")])),
        req("set multipart, boundary in value", "http://h/", &[MULTIPART], b"", "set_multipart_form",
            hex_pairs(&[(b"f", b"--b0undary\n")])),
        // Text and charsets.
        resp("utf-8", &[ct("text/plain; charset=UTF-8")], "caf\u{e9} \u{20ac} \u{1f600}".as_bytes(), "text", none.clone()),
        resp("bad utf-8", &[ct("text/plain; charset=utf-8")], b"caf\xe9", "text", none.clone()),
        resp("latin-1 default", &[ct("text/plain")], b"caf\xe9 \x80\xff", "text", none.clone()),
        resp("iso-8859-1", &[ct("text/html; charset=\"ISO-8859-1\"")], b"caf\xe9", "text", none.clone()),
        resp("cp1252", &[ct("text/plain; charset=windows-1252")], b"\x80 \x93q\x94 \x9f \xe9", "text", none.clone()),
        resp("cp1252 undefined", &[ct("text/plain; charset=cp1252")], b"a\x81", "text", none.clone()),
        resp("ascii", &[ct("text/plain; charset=us-ascii")], b"plain", "text", none.clone()),
        resp("ascii error", &[ct("text/plain; charset=ascii")], b"caf\xe9", "text", none.clone()),
        resp("html meta charset", &[ct("text/html")], utf8_html, "text", none.clone()),
        resp("html meta http-equiv", &[ct("text/html")], b"<html><META http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">\x80</html>", "text", none.clone()),
        resp("html without meta", &[ct("text/html")], b"<p>caf\xe9</p>", "text", none.clone()),
        resp("html header wins", &[ct("text/html; charset=latin-1")], b"<meta charset=utf-8>\xc3\xa9", "text", none.clone()),
        resp("css @charset", &[ct("text/css")], b"@charset \"UTF-8\"; a::after{content:\"\xe2\x82\xac\"}", "text", none.clone()),
        resp("css late @charset", &[ct("text/css")], b"\n@charset \"UTF-8\"; \xe2\x82\xac", "text", none.clone()),
        resp("json default", &[ct("application/json")], "{\"k\": \"\u{e9}\u{20ac}\"}".as_bytes(), "text", none.clone()),
        resp("json bad utf-8", &[ct("application/json")], b"{\"k\": \"\xe9\"}", "text", none.clone()),
        resp("gzip", &[ct("text/plain; charset=utf-8"), ("Content-Encoding", b"gzip")], &gzip("caf\u{e9}".as_bytes()), "text", none.clone()),
        resp("bad gzip", &[ct("text/plain"), ("Content-Encoding", b"gzip")], b"not gzip", "text", none.clone()),
        req("gzip form", "http://h/", &[FORM, ("Content-Encoding", b"gzip")], &gzip(b"a=1&b=%E9"), "urlencoded_form", none.clone()),
        req("bad gzip form", "http://h/", &[FORM, ("Content-Encoding", b"gzip")], b"a=\xe9", "urlencoded_form", none.clone()),
        resp("no content-type", e, b"caf\xe9", "text", none.clone()),
        resp("no body", e, b"", "text", none.clone()),
        // Setting text.
        resp("set utf-8", &[ct("text/plain; charset=utf-8"), ("Content-Length", b"1")], b"x", "set_text", json!("caf\u{e9} \u{20ac}")),
        resp("set latin-1", &[ct("text/plain")], b"", "set_text", json!("caf\u{e9}")),
        resp("set latin-1 fallback", &[ct("text/plain; format=flowed")], b"", "set_text", json!("\u{20ac}")),
        resp("set iso-8859-1 fallback", &[ct("text/plain; charset=iso-8859-1; x=y")], b"", "set_text", json!("\u{20ac}")),
        resp("set cp1252", &[ct("text/plain; charset=cp1252")], b"", "set_text", json!("\u{20ac}\u{e9}\u{178}")),
        resp("set cp1252 fallback", &[ct("text/plain; charset=cp1252")], b"", "set_text", json!("\u{81}")),
        resp("set ascii fallback", &[ct("text/plain; charset=ascii")], b"", "set_text", json!("caf\u{e9}")),
        resp("set json", &[ct("application/json")], b"", "set_text", json!("{\"k\": \"\u{20ac}\"}")),
        resp("set html", &[ct("text/html")], b"<meta charset=utf-8>", "set_text", json!("<meta charset=utf-8>\u{e9}")),
        resp("set html fallback", &[ct("text/html")], b"", "set_text", json!("<meta charset=utf-8>\u{20ac}")),
        resp("set css", &[ct("text/css")], b"", "set_text", json!("@charset \"UTF-8\"; \u{e9}")),
        resp("set no content-type", e, b"", "set_text", json!("\u{20ac}")),
        resp("set unparsable content-type", &[ct("garbage")], b"", "set_text", json!("\u{20ac}")),
        resp("set with transfer-encoding", &[ct("text/plain"), ("Transfer-Encoding", b"chunked")], b"", "set_text", json!("x")),
        // Header edits.
        req("anticache", "http://h/", &[("If-None-Match", b"x"), ("A", b"b"), ("if-modified-since", b"y"), ("IF-NONE-MATCH", b"z")], b"", "anticache", none.clone()),
        req("anticomp", "http://h/", &[("Accept-Encoding", b"gzip"), ("A", b"b"), ("accept-encoding", b"br")], b"", "anticomp", none.clone()),
        req("anticomp, none", "http://h/", e, b"", "anticomp", none.clone()),
        req("constrain encoding", "http://h/", &[("Accept-Encoding", b"gzip, deflate, br, zstd, compress, identity;q=0")], b"", "constrain_encoding", none.clone()),
        req("constrain encoding, none kept", "http://h/", &[("accept-encoding", b"compress")], b"", "constrain_encoding", none.clone()),
        req("constrain encoding, absent", "http://h/", e, b"", "constrain_encoding", none),
    ]
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python, or `None` (outside CI) to skip.
fn peer() -> Option<PathBuf> {
    let python = root().join("target/mitmproxy-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "mitmproxy is missing at {}: install the peer with `cargo xtask peer`",
            python.display()
        );
    }
    eprintln!(
        "note: skipping the message parity test: no mitmproxy at {}; install the peer with `cargo xtask peer`",
        python.display()
    );
    None
}

fn mitmproxy_answers(python: &Path, cases: &[Case]) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("cases.json");
    let json: Vec<&Json> = cases.iter().map(|c| &c.json).collect();
    std::fs::write(&list, serde_json::to_vec(&json).unwrap()).unwrap();
    let out = Command::new(python)
        .arg(root().join("proxy/tests/message_parity.py"))
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "message_parity.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Json> =
        serde_json::from_slice(&out.stdout).expect("JSON from message_parity.py");
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    answers
}

fn bytes_of(state: &Json, key: &str) -> Value {
    Value::bytes(&unhex(state[key].as_str().unwrap_or_default()))
}

/// The dict mitmproxy's message was in before the operation.
fn dict_of(state: &Json) -> Dict {
    let mut d = Dict::new();
    for key in [
        "method",
        "scheme",
        "path",
        "authority",
        "http_version",
        "reason",
    ] {
        if state.get(key).is_some() {
            d.insert(key, bytes_of(state, key));
        }
    }
    if let Some(host) = state.get("host").and_then(Json::as_str) {
        d.insert("host", Value::text(host));
    }
    for key in ["port", "status_code"] {
        if let Some(n) = state.get(key).and_then(Json::as_i64) {
            d.insert(key, Value::Int(n));
        }
    }
    let fields = state["headers"].as_array().unwrap().iter().map(|f| {
        Value::list(vec![
            Value::bytes(&unhex(f[0].as_str().unwrap())),
            Value::bytes(&unhex(f[1].as_str().unwrap())),
        ])
    });
    d.insert("headers", Value::list(fields.collect()));
    let content = match state["content"].as_str() {
        Some(h) => Value::bytes(&unhex(h)),
        None => Value::Null,
    };
    d.insert("content", content);
    d
}

/// [`dict_of`] backwards: the state as the Python side writes it.
fn state_of(d: &Dict, like: &Json) -> Json {
    let mut out = serde_json::Map::new();
    for (key, was) in like.as_object().unwrap() {
        let now = match d.get(key) {
            None | Some(Value::Null) => Json::Null,
            Some(Value::Int(n)) => json!(n),
            Some(Value::List(_)) => json!(
                waylay_proxy::http::fields(d)
                    .map(|(n, v)| json!([hex(n), hex(v)]))
                    .collect::<Vec<_>>()
            ),
            Some(v) if was.is_string() && key == "host" => json!(v.as_str().unwrap_or_default()),
            Some(v) => json!(hex(v.as_bytes().unwrap_or_default())),
        };
        out.insert(key.clone(), now);
    }
    Json::Object(out)
}

fn hex_strings(items: &[Vec<u8>]) -> Json {
    items.iter().map(|i| json!(hex(i))).collect()
}

fn pairs_of(items: &[(Vec<u8>, Vec<u8>)]) -> Json {
    items.iter().map(|(k, v)| json!([hex(k), hex(v)])).collect()
}

fn arg_pairs(arg: &Json) -> Vec<(Vec<u8>, Vec<u8>)> {
    arg.as_array()
        .unwrap()
        .iter()
        .map(|p| (unhex(p[0].as_str().unwrap()), unhex(p[1].as_str().unwrap())))
        .collect()
}

fn arg_text(j: &Json) -> String {
    String::from_utf8(unhex(j.as_str().unwrap())).unwrap()
}

fn opt_text(j: &Json) -> Option<String> {
    j.as_str().map(|h| String::from_utf8(unhex(h)).unwrap())
}

fn opt_hex(s: &Option<String>) -> Json {
    s.as_ref().map_or(Json::Null, |s| json!(hex(s.as_bytes())))
}

/// Runs the operation here: `Ok(result)` (null for setters), or `Err`
/// where mitmproxy raises.
fn run(d: &mut Dict, kind: &str, op: &str, arg: &Json) -> Result<Json, String> {
    let request = kind == "request";
    Ok(match op {
        "query" => pairs_of(&m::query(d)),
        "set_query" => {
            m::set_query(d, &arg_pairs(arg));
            Json::Null
        }
        "path_components" => hex_strings(&m::path_components(d)),
        "set_path_components" => {
            let parts: Vec<Vec<u8>> = arg
                .as_array()
                .unwrap()
                .iter()
                .map(|c| unhex(c.as_str().unwrap()))
                .collect();
            m::set_path_components(d, &parts);
            Json::Null
        }
        "cookies" if request => m::request_cookies(d)
            .iter()
            .map(|(k, v)| json!([hex(k.as_bytes()), hex(v.as_bytes())]))
            .collect(),
        "set_cookies" if request => {
            let pairs: Vec<(String, String)> = arg
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (arg_text(&p[0]), arg_text(&p[1])))
                .collect();
            m::set_request_cookies(d, &pairs);
            Json::Null
        }
        "cookies" => m::response_cookies(d)
            .iter()
            .map(|(name, value, attrs)| {
                let attrs: Vec<Json> = attrs
                    .iter()
                    .map(|(k, v)| json!([hex(k.as_bytes()), opt_hex(v)]))
                    .collect();
                json!([hex(name.as_bytes()), opt_hex(value), attrs])
            })
            .collect(),
        "set_cookies" => {
            let cookies: Vec<m::ResponseCookie> = arg
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let attrs = c[2]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| (arg_text(&a[0]), opt_text(&a[1])));
                    (arg_text(&c[0]), opt_text(&c[1]), attrs.collect())
                })
                .collect();
            m::set_response_cookies(d, &cookies);
            Json::Null
        }
        "urlencoded_form" => pairs_of(&m::urlencoded_form(d)),
        "set_urlencoded_form" => {
            m::set_urlencoded_form(d, &arg_pairs(arg));
            Json::Null
        }
        "multipart_form" => pairs_of(&m::multipart_form(d)),
        "set_multipart_form" => {
            m::set_multipart_form(d, &arg_pairs(arg)).map_err(|e| e.to_string())?;
            Json::Null
        }
        "text" => json!({"text": m::text(d).map_err(|e| e.to_string())?}),
        "set_text" => {
            m::set_text(d, arg.as_str().unwrap()).map_err(|e| e.to_string())?;
            Json::Null
        }
        "anticache" | "anticomp" | "constrain_encoding" => {
            match op {
                "anticache" => m::anticache(d),
                "anticomp" => m::anticomp(d),
                _ => m::constrain_encoding(d),
            }
            Json::Null
        }
        other => panic!("unknown operation {other}"),
    })
}

/// The header value (hex) of `name` in a state, if any.
fn header_hex<'a>(state: &'a Json, name: &str) -> Option<&'a str> {
    state["headers"].as_array()?.iter().find_map(|f| {
        let n = unhex(f[0].as_str()?);
        n.eq_ignore_ascii_case(name.as_bytes())
            .then(|| f[1].as_str())
            .flatten()
    })
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < haystack.len() {
        if !from.is_empty() && haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// What may differ by design: the random multipart boundary (mitmproxy's
/// is replaced by ours) and the order of `constrain_encoding` (a Python
/// set's; both sorted).
fn normalize(op: &str, theirs: &mut Json, ours: &Json) {
    let boundary = |state: &Json| {
        let ct = String::from_utf8(unhex(header_hex(state, "content-type")?)).ok()?;
        ct.split_once("boundary=").map(|(_, b)| b.to_owned())
    };
    if op == "set_multipart_form"
        && let (Some(a), Some(b)) = (boundary(theirs), boundary(ours))
        && a.starts_with(&"-".repeat(20))
    {
        let fix = |j: &mut Json| {
            if let Some(h) = j.as_str() {
                *j = json!(hex(&replace_bytes(&unhex(h), a.as_bytes(), b.as_bytes())));
            }
        };
        fix(&mut theirs["content"]);
        for f in theirs["headers"].as_array_mut().unwrap() {
            fix(&mut f[1]);
        }
    }
    if op == "constrain_encoding" {
        for f in theirs["headers"].as_array_mut().unwrap() {
            if unhex(f[0].as_str().unwrap()).eq_ignore_ascii_case(b"accept-encoding") {
                let value = String::from_utf8(unhex(f[1].as_str().unwrap())).unwrap();
                let mut parts: Vec<&str> = value.split(", ").collect();
                let order = ["gzip", "identity", "deflate", "br", "zstd"];
                parts.sort_by_key(|p| order.iter().position(|o| o == p));
                f[1] = json!(hex(parts.join(", ").as_bytes()));
            }
        }
    }
}

/// A state with its hex decoded where it is text, for reading.
fn readable(j: &Json) -> String {
    fn walk(j: &Json) -> Json {
        match j {
            Json::String(s)
                if s.len() % 2 == 0
                    && s.bytes().all(|b| b.is_ascii_hexdigit())
                    && !s.is_empty() =>
            {
                json!(
                    String::from_utf8_lossy(&unhex(s))
                        .escape_debug()
                        .to_string()
                )
            }
            Json::Array(a) => Json::Array(a.iter().map(walk).collect()),
            Json::Object(o) => Json::Object(o.iter().map(|(k, v)| (k.clone(), walk(v))).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string_pretty(&walk(j)).unwrap()
}

#[test]
fn accessors_and_setters_do_what_mitmproxy_does() {
    let Some(python) = peer() else { return };
    let cases = cases();
    let answers = mitmproxy_answers(&python, &cases);
    let mut failures = Vec::new();
    for (case, answer) in cases.iter().zip(&answers) {
        let (kind, op) = (
            case.json["kind"].as_str().unwrap(),
            case.json["op"].as_str().unwrap(),
        );
        let before = &answer["before"];
        let mut d = dict_of(before);
        let ours = match run(&mut d, kind, op, &case.json["arg"]) {
            Ok(result) => json!({"result": result, "after": state_of(&d, before)}),
            Err(e) => json!({"error": e}),
        };
        let mut theirs = match answer.get("error") {
            Some(e) => json!({"error": e}),
            None => json!({"result": answer["result"], "after": answer["after"]}),
        };
        if let Some(after) = theirs.get_mut("after") {
            normalize(op, after, &ours["after"]);
        }
        let same = match (theirs.get("error"), ours.get("error")) {
            (Some(_), Some(_)) => true,
            (None, None) => theirs == ours,
            _ => false,
        };
        if !same {
            failures.push(format!(
                "case {:?} ({op}):\n  input: {}\n  mitmproxy: {}\n  waylay:    {}",
                case.name,
                readable(before),
                readable(&theirs),
                readable(&ours)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from mitmproxy 11:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
