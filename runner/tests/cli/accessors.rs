//! The SDK's message accessors against mitmproxy 11 through the real script
//! boundary (issue 13): the fixture `runner/tests/fixtures/accessors` run by
//! the runner and its twin `runner/tests/interop/accessors.py` run by
//! mitmdump, over `testdata/flows/accessors.mitm` (`make_golden.py
//! accessors`). Both log one line per read accessor and flow (`ACC <flow id>
//! <hook> <accessor> <JSON>`) and apply the setters the request path names;
//! the lines must be equal, and so must the flows both write, field by field
//! (`gallery_compare.py`). Under `CI=true` a missing peer fails.
//!
//! The differences on purpose, normalized below: `Message::replace` takes
//! the `regex` crate's `$1` where the Python side (mitmproxy 11 has no
//! `replace`; the script does the seed's) takes `\1`; `constrain_encoding`
//! writes the encodings in a fixed order where mitmproxy iterates a Python
//! set (its order changes with the hash seed), so Accept-Encoding compares
//! as a set; `refresh` moves dates by the time since the response, which
//! differs between two runs by the seconds between them, so dates compare
//! within ten minutes. The cases keep to charsets Waylay knows (UTF-8,
//! Latin-1, ASCII, cp1252).

use std::process::Command;

use serde_json::Value as Json;

use crate::interop::peer;
use crate::offline_run::Offline;
use crate::support::{golden, path_in, root, scratch};

/// One log line: flow id, hook, accessor, value.
type Line = (String, String, String, Json);

/// The `ACC` lines of an output, JSON text the fixture hands over unparsed
/// (`Message::json` returns text; the script's own parser would read it)
/// parsed as mitmproxy's `json()` parses it.
fn lines(out: &str) -> Vec<Line> {
    out.lines()
        .filter_map(|l| l.find("ACC ").map(|i| &l[i + 4..]))
        .map(|l| {
            let mut parts = l.splitn(4, ' ');
            let mut next = || parts.next().expect("ACC id hook name json").to_owned();
            let (id, hook, name, value) = (next(), next(), next(), next());
            let mut value: Json =
                serde_json::from_str(&value).unwrap_or_else(|e| panic!("{e}: {value}"));
            if let Some(text) = value.get("json_text").and_then(Json::as_str) {
                value = serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::json!({"error": true}));
            }
            (id, hook, name, value)
        })
        .collect()
}

/// A request URL's first path segment: the case, which names the setters.
fn case_of(url: &str) -> String {
    let path = url.splitn(4, '/').nth(3).unwrap_or("");
    path.split(['/', '?', '#']).next().unwrap_or("").to_owned()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `Sun, 21 Sep 2042 03:00:43 GMT` as seconds since the epoch.
fn http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = s.as_bytes();
    if s.len() != 29 || b[3] != b',' || !s.ends_with(" GMT") {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let month = MONTHS.iter().position(|m| s.get(8..11) == Some(*m))? as i64 + 1;
    let (d, y) = (num(5..7)?, num(12..16)?);
    let (h, mi, sec) = (num(17..19)?, num(20..22)?, num(23..25)?);
    Some(days(y, month, d) * 86_400 + h * 3600 + mi * 60 + sec)
}

/// `s` with each HTTP date replaced by `<date>`, and the dates.
fn mask_dates(s: &str) -> (String, Vec<i64>) {
    let (mut out, mut dates, mut i) = (String::new(), Vec::new(), 0);
    while i < s.len() {
        if let Some(t) = s.get(i..i + 29).and_then(http_date) {
            out.push_str("<date>");
            dates.push(t);
            i += 29;
        } else {
            let c = s[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    (out, dates)
}

/// Whether two texts are the same but for dates at most ten minutes apart.
fn same_but_dates(a: &str, b: &str) -> bool {
    let ((a, x), (b, y)) = (mask_dates(a), mask_dates(b));
    a == b
        && !x.is_empty()
        && x.len() == y.len()
        && x.iter().zip(&y).all(|(x, y)| (x - y).abs() <= 600)
}

/// Accept-Encoding's items sorted: mitmproxy's `constrain_encoding` joins
/// a Python set.
fn sorted_encodings(v: &str) -> String {
    let mut items: Vec<&str> = v.split(',').map(str::trim).collect();
    items.sort_unstable();
    items.join(", ")
}

/// A header list value with Accept-Encoding sorted.
fn normalize_headers(value: &mut Json) {
    for field in value.as_array_mut().into_iter().flatten() {
        let name = field[0].as_str().unwrap_or("").to_ascii_lowercase();
        if name == "accept-encoding"
            && let Some(v) = field[1].as_str()
        {
            field[1] = Json::String(sorted_encodings(v));
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Waylay,
    Mitmproxy,
}

/// A read line with the differences on purpose taken out.
fn normalize(case: &str, name: &str, value: &mut Json, side: Side) {
    match (case, name) {
        ("constrain-encoding", "after.headers") => normalize_headers(value),
        // Other compressors: Content-Length differs, the decoded body not.
        ("encode-br" | "encode-zstd", "after.headers") => drop_header(value, "content-length"),
        // mitmproxy's `encode` sets Content-Length before it finds the
        // coding unknown; Waylay's `Err` changes nothing (its docs).
        ("encode-bogus", "after.headers") if side == Side::Mitmproxy => {
            drop_header(value, "content-length")
        }
        _ => {}
    }
}

fn drop_header(value: &mut Json, name: &str) {
    if let Some(fields) = value.as_array_mut() {
        fields.retain(|f| !f[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)));
    }
}

/// Every setter the fixture applies (its request paths' first segment).
const SETTERS: [&str; 30] = [
    "set-query",
    "query-mut",
    "set-url",
    "path-components",
    "form-mut",
    "set-form",
    "multipart",
    "multipart-mut",
    "cookies",
    "set-cookies",
    "text",
    "encode",
    "decode",
    "replace",
    "anticache",
    "anticomp",
    "constrain-encoding",
    "req-trailers",
    "respond",
    "resp-cookies",
    "refresh",
    "resp-text",
    "resp-trailers",
    "encode-deflate",
    "encode-br",
    "encode-zstd",
    "encode-bogus",
    "set-url-v6",
    "set-url-bad",
    "text-fits",
];

#[test]
fn each_accessor_reads_and_writes_what_mitmproxy_does() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let input = golden("accessors.mitm");
    let theirs = path_in(&dir, "theirs.mitm");
    let result = Offline::read(&input)
        .script("runner/tests/fixtures/accessors")
        .write()
        .run()
        .ok();
    let ours = result.out();
    let out = Command::new(python.with_file_name("mitmdump"))
        .args(["-n", "-q", "-r"])
        .arg(&input)
        .arg("-s")
        .arg(root().join("runner/tests/interop/accessors.py"))
        .args(["-w", &theirs])
        .output()
        .unwrap();
    let mitm_out = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mitmdump: {mitm_out}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut waylay = lines(&result.stdout);
    let mut mitmproxy = lines(&mitm_out);
    // Each flow's case, from mitmproxy's `url` line.
    let cases: std::collections::HashMap<String, String> = mitmproxy
        .iter()
        .filter(|(_, hook, name, _)| hook == "request" && name == "url")
        .map(|(id, _, _, url)| (id.clone(), case_of(url.as_str().unwrap())))
        .collect();
    assert_eq!(cases.len(), 96, "one url line per flow");
    let setters: Vec<&str> = waylay
        .iter()
        .filter(|(_, _, name, _)| name == "set")
        .map(|(id, _, _, _)| cases[id].as_str())
        .collect();
    for setter in SETTERS {
        assert!(
            setters.contains(&setter),
            "no flow applied {setter}: {setters:?}"
        );
    }
    for (lines, side) in [
        (&mut waylay, Side::Waylay),
        (&mut mitmproxy, Side::Mitmproxy),
    ] {
        for (id, _, name, value) in lines.iter_mut() {
            normalize(&cases[id.as_str()], name, value, side);
        }
    }

    let mut failures = Vec::new();
    if waylay.len() != mitmproxy.len() {
        failures.push(format!(
            "{} lines from waylay, {} from mitmproxy",
            waylay.len(),
            mitmproxy.len()
        ));
    }
    for (a, b) in waylay.iter().zip(&mitmproxy) {
        if a == b {
            continue;
        }
        let refreshed = a.0 == b.0
            && cases[a.0.as_str()] == "refresh"
            && a.2 == "after.headers"
            && same_but_dates(&a.3.to_string(), &b.3.to_string());
        if !refreshed {
            failures.push(format!(
                "/{} {} {}:\n  waylay    {:?} {}\n  mitmproxy {:?} {}",
                cases.get(&b.0).map_or("?", String::as_str),
                b.1,
                b.2,
                a.0,
                a.3,
                b.0,
                b.3
            ));
        }
    }

    let compared = Command::new(&python)
        .arg(root().join("runner/tests/interop/gallery_compare.py"))
        .args([ours, theirs.as_str()])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&compared.stdout).lines() {
        // `flow ID.FIELD: waylay X / mitmproxy Y`
        let id = line
            .strip_prefix("flow ")
            .and_then(|l| l.split('.').next())
            .unwrap_or("");
        let case = cases.get(id).map_or("", String::as_str);
        let (a, b) = line
            .split_once(": waylay ")
            .and_then(|(_, rest)| rest.split_once(" / mitmproxy "))
            .unwrap_or(("", "-"));
        let expected = match case {
            "refresh" => same_but_dates(a, b),
            // Other compressors' bytes, the same body (the read lines
            // compare it decoded).
            "encode-br" | "encode-zstd" => {
                let digits = |s: &str| {
                    let s = s.trim_start_matches("b'").trim_end_matches('\'');
                    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
                };
                line.contains(".request.content: ")
                    || (line.contains(".request.headers[") && digits(a) && digits(b))
            }
            // mitmproxy's failed encode leaves a Content-Length behind.
            "encode-bogus" => {
                line.contains(".request.headers: ")
                    && b.contains("content-length")
                    && !a.contains("content-length")
            }
            "constrain-encoding" => {
                let unquote =
                    |s: &str| s.trim_start_matches("b'").trim_end_matches('\'').to_owned();
                sorted_encodings(&unquote(a)) == sorted_encodings(&unquote(b))
            }
            _ => false,
        };
        if !expected {
            failures.push(format!("written flows (/{case}): {line}"));
        }
    }
    if !compared.status.success() && compared.stdout.is_empty() {
        failures.push(format!(
            "gallery_compare.py: {}",
            String::from_utf8_lossy(&compared.stderr)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
