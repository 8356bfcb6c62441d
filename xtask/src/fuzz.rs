//! `cargo xtask fuzz [--time SECONDS] [--jobs N] [--target NAME]...`: every
//! cargo-fuzz target in `fuzz/` (or those named) for SECONDS each (600 by
//! default), N at a time, corpora seeded
//! from `testdata/flows` and a few hand-written inputs. Crashes land in
//! `fuzz/artifacts/TARGET/`; copy each into `fuzz/regressions/TARGET/`,
//! where `proxy/tests/fuzz_regressions.rs` replays it in the test suite.
//!
//! No sanitizer (`-s none`): AddressSanitizer needs a nightly compiler,
//! which this machine does not have, and the fuzzed code has no `unsafe`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::util::{arg_value, root, run};

/// The targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 15] = [
    "flowfile_read",
    "flowfile_roundtrip",
    "parsers",
    "client_bytes",
    "websocket_frames",
    "socks5",
    "mode_strings",
    "filter_expr",
    "rewrite_specs",
    "har",
    "old_flows",
    "web_api",
    "flow_rows",
    "compare_bodies",
    "compose_input",
];

/// Every file ending in `.EXT` in `dirs` (under the repository), as a
/// seed named by its folder and name.
fn files(seeds: &mut Vec<(String, Vec<u8>)>, dirs: &[&str], ext: &str) -> Result<()> {
    for dir in dirs {
        for entry in std::fs::read_dir(root().join(dir))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == ext) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                seeds.push((
                    format!("{dir}/{name}").replace('/', "-"),
                    std::fs::read(&path)?,
                ));
            }
        }
    }
    Ok(())
}

fn seed(dir: &Path, target: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    match target {
        "flowfile_read" | "flowfile_roundtrip" => files(&mut seeds, &["testdata/flows"], "mitm")?,
        "flow_rows" => {
            // One flow a seed: the index reads them one at a time.
            let mut all = Vec::new();
            files(&mut all, &["testdata/flows"], "mitm")?;
            for (name, bytes) in all {
                let mut rest = &bytes[..];
                let mut i = 0;
                while let Some(colon) = rest.iter().position(|&b| b == b':') {
                    let Some(len) = std::str::from_utf8(&rest[..colon])
                        .ok()
                        .and_then(|l| l.parse::<usize>().ok())
                    else {
                        break;
                    };
                    let end = colon + 1 + len + 1;
                    if end > rest.len() {
                        break;
                    }
                    seeds.push((format!("{name}-{i}"), rest[..end].to_vec()));
                    rest = &rest[end..];
                    i += 1;
                }
            }
        }
        "old_flows" => files(
            &mut seeds,
            &["testdata/old-flows", "testdata/old-flows/expected"],
            "mitm",
        )?,
        "har" => files(&mut seeds, &["testdata/flows", "testdata/har"], "har")?,
        "parsers" => {
            let inputs: [(u8, &[u8]); 10] = [
                (0, b"http://example.com:8080/path?q=1"),
                (1, b"[::1]:8443"),
                (2, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"),
                (3, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                (4, b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
                (5, b"Host: a\nX-B: b\n\x00x-b=2\n\x01host\n\x02new=3"),
                (6, b"123"),
                (7, b"5:hello,"),
                (7, b"16:1:a,5:hello,4:true!}"),
                (8, b"/p;x?a=1&&b=%41+c&%zz#f?g=h"),
            ];
            for (i, (which, input)) in inputs.iter().enumerate() {
                let mut bytes = vec![*which];
                bytes.extend_from_slice(input);
                seeds.push((format!("seed-{i}"), bytes));
            }
        }
        "socks5" => {
            let mut v4 = vec![5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
            seeds.push(("connect-v4".into(), v4.clone()));
            v4.splice(3..3, [1, 4, b'u', b's', b'e', b'r', 4, b'p', b'a', b's', b's']);
            seeds.push(("with-credentials".into(), v4));
            let mut name = vec![5, 1, 2, 5, 1, 0, 3, 11];
            name.extend_from_slice(b"example.com");
            name.extend_from_slice(&[1, 187]);
            seeds.push(("connect-name".into(), name));
        }
        "web_api" => {
            for (i, edit) in [
                r#"{"marked": ":red:", "comment": "look"}"#,
                r#"{"request": {"method": "PUT", "url": "https://example.com:8443/a?b=c", "headers": [["Host", "example.com"], ["X", "y"]], "text": "body"}}"#,
                r#"{"response": {"status_code": 404, "reason": "Gone", "headers": [["Content-Encoding", "gzip"]], "text": "zipped"}}"#,
                r#"{"request": {"http_version": "HTTP/2.0", "headers": [["Transfer-Encoding", "chunked"]]}}"#,
                "~d example.com & ~b secret",
                "status",
            ]
            .iter()
            .enumerate()
            {
                seeds.push((format!("seed-{i}"), edit.as_bytes().to_vec()));
            }
        }
        "compose_input" => {
            for (i, input) in [
                "\0curl 'https://e.com/a?b=1' -H 'accept: */*' --data-raw $'{\"a\":\"it\\'s\"}' --compressed",
                "\0curl -XPUT -sSL e.com:81/x -d a=1 -G --data-urlencode 'q=a b' -u me:pw -b 'k=v'",
                "\u{1}POST http://e.com/x HTTP/1.1\nHost: e.com\nContent-Type: text/plain\n\nbody",
                "\u{1}GET /p HTTP/1.1\r\nHost: e.com:8080\r\n\r\n",
                "\0{\"method\": \"PATCH\", \"url\": \"https://e.com/\", \"headers\": [[\"A\", \"b\"]], \"body_base64\": \"/wA=\"}",
            ]
            .iter()
            .enumerate()
            {
                seeds.push((format!("seed-{i}"), input.as_bytes().to_vec()));
            }
        }
        "compare_bodies" => {
            for (i, (left, right)) in [
                (r#"{"user": {"name": "ann", "tags": [1, 2]}}"#, r#"{"user": {"name": "bob", "tags": [2]}, "n": 1.5}"#),
                (r#"[{"id": 1}, {"id": 2}, {"id": 3}]"#, r#"[{"id": 1}, {"id": 3, "x": null}]"#),
                ("one\ntwo\nthree\n", "one\n2\nthree\nfour\n"),
                ("\u{0}\u{1}binary\u{ff}", "\u{0}\u{2}binary"),
            ]
            .iter()
            .enumerate()
            {
                let mut bytes = vec![(left.len() * 256 / (left.len() + right.len())) as u8];
                bytes.extend_from_slice(left.as_bytes());
                bytes.extend_from_slice(right.as_bytes());
                seeds.push((format!("seed-{i}"), bytes));
            }
        }
        "filter_expr" => {
            for (i, expression) in [
                "~d example.com & ~s & !~t image",
                "(~tcp | ~udp ) ~e",
                "!~c 200 | ~b \"password\\d+\" ~h 'set-cookie: .*; HttpOnly'",
                "~u '^https?://[^/]+/api/(v1|v2)/' & ~m POST",
                "~meta \"from: mitm\" ~marker :star: ~comment \"(?i)todo$\"",
                "~src 127\\.0\\.0\\.1 ~dst :443 ~replayq ~websocket ~dns ~all",
                "~d a|~d b & ~c 2xx",
                "~bq \"\\x12\\u04\\0\" ~bs [а-я]+ ~tq json ~ts (css",
            ]
            .iter()
            .enumerate()
            {
                seeds.push((format!("seed-{i}"), expression.as_bytes().to_vec()));
            }
        }
        "rewrite_specs" => {
            for (i, (which, spec)) in [
                (0u8, "|~d example|://example.com/|://example.org/"),
                (0, r"|~q|^(https?)://([^/]+)/v1/(.*)$|\1://\2/v2/\g<3>"),
                (1, "|~u /static/|/static/|/tmp"),
                (2, "|~q|User-Agent|"),
                (2, r"/~s/X-Note/a\x3ab\n"),
                (3, r"|~s & ~t json|\\d+|N"),
                (3, "|(?P<w>hello)|\\g<w> world"),
                (4, "~d shop.example"),
                (5, "~all"),
            ]
            .iter()
            .enumerate()
            {
                let mut bytes = vec![*which];
                bytes.extend_from_slice(spec.as_bytes());
                seeds.push((format!("seed-{i}"), bytes));
            }
        }
        "mode_strings" => {
            for (i, spec) in [
                "regular",
                "socks5@127.0.0.1:1080",
                "reverse:https://example.com:8443/@8080",
                "upstream:http://[::1]:3128",
                "reverse:tcp://localhost:22@[::1]:2222",
                "transparent@8080",
            ]
            .iter()
            .enumerate()
            {
                seeds.push((format!("seed-{i}"), spec.as_bytes().to_vec()));
            }
        }
        "websocket_frames" => {
            // The first byte picks the deflate parameters and the piece
            // size; then RFC 6455 and RFC 7692's example frames.
            let inputs: [&[u8]; 4] = [
                b"\x00\x81\x05Hello\x89\x00\x01\x03Hel\x80\x02lo\x88\x02\x03\xe8",
                b"\x00\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
                b"\x00\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\xc1\x05\xf2\x00\x11\x00\x00",
                b"\x35\x41\x03\xf2\x48\xcd\x80\x04\xc9\xc9\x07\x00\xc1\x08\xf3\x48\xcd\xc9\xc9\x07\x00\x00",
            ];
            for (i, input) in inputs.iter().enumerate() {
                seeds.push((format!("seed-{i}"), input.to_vec()));
            }
        }
        _ => {
            for (i, input) in [
                &b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"[..],
                b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
                b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            ]
            .iter()
            .enumerate()
            {
                seeds.push((format!("seed-{i}"), input.to_vec()));
            }
        }
    }
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}

/// libFuzzer's last stats line (`#N DONE cov: ... exec/s: ...`).
fn last_stats(log: &str) -> String {
    log.lines()
        .rev()
        .find(|l| l.contains("DONE") || l.contains("cov:"))
        .unwrap_or("(no stats)")
        .trim()
        .to_owned()
}

pub fn fuzz(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--time", 600)?;
    let jobs = arg_value(args, "--jobs", 2)?.max(1);
    let fuzz_dir = root().join("fuzz");
    if Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_or(true, |s| !s.success())
    {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    run(Command::new("cargo")
        .args(["fuzz", "build", "-O", "-s", "none"])
        .current_dir(&fuzz_dir))
    .context("building the fuzz targets")?;
    let mut report = format!("Each target {seconds} s, {jobs} at a time, no sanitizer.\n\n");
    let mut crashed = Vec::new();
    // `--target NAME` (repeatable) runs only those.
    let chosen: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--target")
        .map(|w| w[1])
        .collect();
    if let Some(unknown) = chosen.iter().find(|t| !TARGETS.contains(t)) {
        bail!(
            "--target {unknown}: no such fuzz target; the targets are {}",
            TARGETS.join(", ")
        );
    }
    let targets: Vec<&str> = TARGETS
        .into_iter()
        .filter(|t| chosen.is_empty() || chosen.contains(t))
        .collect();
    for batch in targets.chunks(jobs) {
        let mut running = Vec::new();
        for target in batch {
            let corpus = fuzz_dir.join("corpus").join(target);
            seed(&corpus, target)?;
            let log = root().join(format!("target/fuzz-{target}.log"));
            eprintln!(
                "xtask: fuzzing {target} for {seconds} s (log: {})",
                log.display()
            );
            let child = Command::new("cargo")
                .args(["fuzz", "run", "-O", "-s", "none", target])
                .arg(&corpus)
                .arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .arg("-print_final_stats=1")
                .current_dir(&fuzz_dir)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()?;
            running.push((*target, child, log));
        }
        for (target, mut child, log) in running {
            let status = child.wait()?;
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let runs = text
                .lines()
                .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
                .map_or("?".to_owned(), |n| n.trim().to_owned());
            let outcome = if status.success() {
                "no crash".to_owned()
            } else {
                crashed.push(target);
                format!("**crashed** (see {})", log.display())
            };
            writeln!(
                report,
                "- `{target}`: {runs} runs, {outcome}; {}",
                last_stats(&text)
            )?;
        }
    }
    println!("{report}");
    std::fs::write(root().join("target/fuzz-report.md"), &report)?;
    if !crashed.is_empty() {
        bail!(
            "crashes in {}: inputs in fuzz/artifacts/; copy them to fuzz/regressions/TARGET/",
            crashed.join(", ")
        );
    }
    Ok(())
}
