//! The differential test of the filter language: every expression of the
//! table, over every flow of every golden file, selects the same flows in
//! Waylay as in mitmproxy 11's `flowfilter`; every expression mitmproxy
//! refuses, Waylay refuses. The peer is the mitmproxy `cargo xtask peer`
//! installs into `target/mitmproxy-venv`; under `CI=true` a missing peer
//! fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use waylay_proxy::filter::Filter;

/// Expressions both accept: one per term, each operator, quoting and
/// escapes, Python regex features, and pyparsing's quirks.
const TABLE: &[&str] = &[
    "~a",
    "~e",
    "~http",
    "~marked",
    "~replay",
    "~replayq",
    "~replays",
    "~q",
    "~s",
    "~tcp",
    "~udp",
    "~dns",
    "~websocket",
    "~all",
    "~b content",
    "~b message",
    "~bq content",
    "~bs message",
    "~b hello",
    "~bq hello",
    r#"~bs "it's""#,
    "~b alice",
    "~bs t0k3n",
    "~bs boom",
    "~bq haystack",
    "~b needle",
    "~bs привет",
    "~bs Äÿ",
    "~bs 神",
    "~b spam",
    "~b dns.google",
    "~bs 8.8.4.4",
    "~bq google",
    "~b 2001:db8::1",
    "~b canonical",
    r#"~b "invalid A data""#,
    "~b 0xbeef",
    "~b line2$",
    "~b ^line1",
    "~b line1.line2",
    r#"~b "\x00\x01bin""#,
    r"~b \d+",
    r#"~bs "\\d{3}""#,
    r#"~b "^\\{\"user""#,
    r#"~bq "\x7b""#,
    "~b [а-я]+",
    "~t json",
    "~tq json",
    "~ts json",
    "~t image",
    r#"~ts "text/(css|html)""#,
    "~t Font",
    r#"~t "^application/json$""#,
    "~d address",
    "~d EXAMPLE.com",
    r"~d ^example\.com$",
    "~d h2.example.org",
    "~d пример",
    "~d xn--e1afmkfd",
    r#"~d "bad host""#,
    "~d 2001:db8",
    r#"~d "^(api|h2)\\.""#,
    r#"~d "(?x) exa mple""#,
    "~dst 2001:db8::1:443",
    "~dst address:22",
    "~src 127.0.0.1",
    r#"~src "^::1:5555$""#,
    "~h qvalue",
    r#"~h "header: qvalue""#,
    "~hq header-response",
    r#"~hs "^header-response: svalue""#,
    r#"~h "X-Multi: b""#,
    r#"~hq "^Host: ex""#,
    r#"~hq "^host: ex""#,
    "~h authorization",
    "~h Authorization",
    r#"~h "^content-type: text/css$""#,
    r#"~h "^[A-Z]""#,
    r#"~hq "(?i)^HOST:""#,
    "~m post",
    "~m ^DELETE$",
    "~m CONNECT",
    r#"~m "^(GET|PUT)$""#,
    "~u /path",
    "~u ^http://address:22/path$",
    r#"~u "https://example.com:8443/images""#,
    "~u tunnel.example.net:443",
    r#"~u "https://h2.example.org/static""#,
    r#"~u "https://2001:db8::1/v6""#,
    "~u dns.google",
    "~u q=Waylay",
    r#"~u "(?i)EXAMPLE""#,
    r#"~u "\\.css$""#,
    "/path",
    "search lang",
    r#"~meta "from: mitmproxy""#,
    r#"~meta "^n: 3$""#,
    r#"~meta "ok: True""#,
    r#"~meta "nested: {'a'""#,
    r#"~meta "raw: b""#,
    r#"~meta "pi: 3\.25""#,
    r#"~meta "none: None""#,
    r#"~meta "quote: it's""#,
    "~marker star",
    "~marker ^:default:$",
    "~comment second",
    r#"~comment "^second line""#,
    r#"~comment "line$""#,
    "~c 200",
    "~c 404",
    "~c 500",
    "~c 201 | ~c 204",
    "~c 0200",
    "~c 99999999999999999999",
    "!~s",
    "!~c 200",
    "~s & !~e",
    "~q | ~e",
    "~d example & ~s & !~t image",
    "(~tcp | ~udp ) & ~e",
    "!(~http | ~dns )",
    "( ~s )",
    "~c 2xx",
    "~d a|~d b",
    "~d example.com&~s",
    "~h 'header: qvalue' ~s",
    "~s |",
    "~s &",
    "!",
    "!!~s",
    "~s ~q",
    "~s | ~q ~e",
    "~e ~s | ~q",
    "~websocket & ~bs \"it's\"",
    "~all & !~http",
    "~tcp ~bs \"it's\"",
    "~udp & ~e",
    "~dns & ~s",
    "~dns & ~q",
    "~replay & ~replayq",
    "~marked & ~comment Waylay",
    "~src 22$ & ~dst 22$",
    "~d \"\"",
    "~sé",
    r#"~h "\r$""#,
    r#"~b "(?i)HELLO""#,
    r#"~bs "^message$""#,
    r"~b \Acontent\Z",
    r#"~t "json|css""#,
    r#"~u "[?&]q=""#,
    r#"~meta "^$""#,
    r#"~comment "^$""#,
    "!(!(~s ) )",
    "~d\texample",
    "~s\n&\n~q",
    r#""~s" 'address'"#,
    "~c 200 ~c 404",
    r#"~h "^(?:[^:]+): \w+\r$""#,
    r#"~b "\x12|\u04|\0""#,
    r#"~bq "\x{2}""#,
    r"~src ^127\.0\.0\.1:\d+$",
];

/// Expressions both refuse.
const REFUSED: &[&str] = &[
    "",
    " ",
    "(~s)",
    "!(~s)",
    "~s&~q",
    "~x",
    "~b",
    "~c",
    "~c99",
    "~h [",
    "~d \"abc",
    "(~q ~s )",
    "a~b",
    "~s | (",
    "~d (a)",
    "~u ~s",
    ")",
    "~d a)",
    "~m",
    "~b *",
    "~b a{2,1}",
    r#"~b "\\1""#,
    "~b (?P=x)",
];

/// Python regex features `regex` lacks: mitmproxy accepts these, Waylay
/// refuses them with a message that says so.
const PYTHON_ONLY: &[&str] = &[r#"~b "a(?=b)""#, r#"~b "(?<!a)b""#, r#"~b "(a)\\1""#];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python, or `None` (outside CI) to skip.
fn peer() -> Option<PathBuf> {
    let python = std::env::var_os("WAYLAY_MITMPROXY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/mitmproxy-venv/bin/python"));
    if python.exists() {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "mitmproxy is missing at {}; `cargo xtask peer` installs it",
            python.display()
        );
    }
    eprintln!(
        "skipping: mitmproxy is not installed at {}",
        python.display()
    );
    None
}

fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/flows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mitm"))
        .collect();
    files.sort();
    files
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads the peer's `[null, [true, false, ...], ...]`.
fn parse_answers(text: &str) -> Vec<Option<Vec<bool>>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<bool>> = None;
    let mut depth = 0;
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphabetic() {
            word.push(c);
            continue;
        }
        match word.as_str() {
            "null" => out.push(None),
            "true" => current.as_mut().unwrap().push(true),
            "false" => current.as_mut().unwrap().push(false),
            _ => {}
        }
        word.clear();
        match c {
            '[' => {
                depth += 1;
                if depth == 2 {
                    current = Some(Vec::new());
                }
            }
            ']' => {
                if depth == 2 {
                    out.push(current.take());
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    out
}

fn mitmproxy_answers(
    python: &Path,
    expressions: &[&str],
    files: &[PathBuf],
) -> Vec<Option<Vec<bool>>> {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("expressions.json");
    let json: Vec<String> = expressions.iter().map(|e| json_string(e)).collect();
    std::fs::write(&list, format!("[{}]", json.join(","))).unwrap();
    let out = Command::new(python)
        .arg(root().join("runner/tests/interop/filters.py"))
        .arg(&list)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "filters.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers = parse_answers(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        answers.len(),
        expressions.len(),
        "one answer per expression"
    );
    answers
}

#[test]
fn waylay_selects_the_flows_mitmproxy_selects() {
    let Some(python) = peer() else { return };
    let files = golden_files();
    let flows: Vec<(String, waylay_proxy::Flow)> = files
        .iter()
        .flat_map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            waylay_proxy::testing::read_flows(f)
                .into_iter()
                .enumerate()
                .map(move |(i, flow)| (format!("{name}#{i}"), flow))
        })
        .collect();
    let all: Vec<&str> = TABLE.iter().chain(REFUSED).copied().collect();
    let answers = mitmproxy_answers(&python, &all, &files);
    let mut differences = Vec::new();
    for (expression, theirs) in all.iter().zip(&answers) {
        let ours = Filter::parse(expression).map(|f| {
            flows
                .iter()
                .map(|(_, flow)| f.matches(flow))
                .collect::<Vec<_>>()
        });
        match (theirs, &ours) {
            (None, Err(_)) => {}
            (Some(theirs), Ok(ours)) => {
                let differing: Vec<String> = flows
                    .iter()
                    .zip(theirs.iter().zip(ours))
                    .filter(|(_, (t, o))| t != o)
                    .map(|((name, _), (t, _))| format!("{name} (mitmproxy {t})"))
                    .collect();
                if !differing.is_empty() {
                    differences.push(format!("{expression:?}: {}", differing.join(", ")));
                }
            }
            (None, Ok(_)) => differences.push(format!(
                "{expression:?}: mitmproxy refuses it, Waylay accepts it"
            )),
            (Some(_), Err(e)) => differences.push(format!(
                "{expression:?}: mitmproxy accepts it, Waylay refuses it: {e}"
            )),
        }
    }
    for (expression, answer) in TABLE.iter().zip(&answers) {
        if answer.is_none() {
            differences.push(format!(
                "the table's {expression:?} should be valid in mitmproxy"
            ));
        }
    }
    for (expression, answer) in REFUSED.iter().zip(&answers[TABLE.len()..]) {
        if answer.is_some() {
            differences.push(format!("{expression:?} should be refused by mitmproxy"));
        }
    }
    assert!(
        TABLE.len() >= 80 && flows.len() >= 40,
        "{} expressions, {} flows",
        TABLE.len(),
        flows.len()
    );
    assert!(
        differences.is_empty(),
        "{} difference(s):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[test]
fn python_only_regex_features_are_refused_with_a_reason() {
    if let Some(python) = peer() {
        let answers = mitmproxy_answers(&python, PYTHON_ONLY, &golden_files());
        assert!(
            answers.iter().all(Option::is_some),
            "mitmproxy accepts all of {PYTHON_ONLY:?}"
        );
    }
    for (expression, word) in
        PYTHON_ONLY
            .iter()
            .zip(["look-ahead", "look-behind", "backreferences"])
    {
        let e = Filter::parse(expression).unwrap_err().to_string();
        assert!(e.contains(word) && e.contains("not supported"), "{e}");
    }
}
