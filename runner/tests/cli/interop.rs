//! mitmproxy 11 reads what Waylay writes, and Waylay reads what mitmproxy
//! writes. The peer is the mitmproxy that `.ci/run` installs into
//! `target/mitmproxy-venv`; under `CI=true` a missing peer fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::offline_run::Offline;
use crate::support::{GOLDEN, golden, path_in, root, scratch};

/// The Python of the venv with mitmproxy, or `None` (outside CI) to skip.
pub(crate) fn peer() -> Option<PathBuf> {
    let python = std::env::var_os("WAYLAY_MITMPROXY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/mitmproxy-venv/bin/python"));
    if python.exists() {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "mitmproxy is missing at {}; .ci/run installs it",
            python.display()
        );
    }
    eprintln!(
        "skipping: mitmproxy is not installed at {} (run .ci/run)",
        python.display()
    );
    None
}

fn compare(python: &PathBuf, args: &[&str]) {
    let script = root().join("runner/tests/interop/compare.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compare.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mitmproxy_reads_what_waylay_writes() {
    let Some(python) = peer() else { return };
    for name in ["all.mitm"].iter().chain(&GOLDEN) {
        let input = golden(name);
        let input = input.to_str().unwrap();
        let run = || Offline::golden(name).args(&["-q"]);
        let added = run().script("examples/add_header").write().run().ok();
        let added_header = ["added-header", input, added.out(), "newheader", "foo"];
        compare(&python, &added_header);
        let copy = run().write().run().ok();
        compare(&python, &["same", input, copy.out()]);
    }
}

#[test]
fn waylay_reads_what_mitmproxy_writes() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let written = path_in(&dir, "by-mitmproxy.mitm");
    let goldens: Vec<String> = GOLDEN
        .iter()
        .map(|g| golden(g).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["write", written.as_str()];
    args.extend(goldens.iter().map(String::as_str));
    compare(&python, &args);

    // A plain copy is byte for byte.
    let copy = Offline::read(&written).args(&["-q"]).write().run().ok();
    assert!(
        copy.written_bytes() == std::fs::read(&written).unwrap(),
        "copy differs from mitmproxy's file"
    );

    // Scripts see mitmproxy's flows, and mitmproxy reads the result.
    let result = Offline::read(&written)
        .script("examples/add_header")
        .write()
        .run()
        .ok();
    assert_eq!(result.stdout.lines().count(), 13, "{}", result.stdout);
    let added_header = ["added-header", &written, result.out(), "newheader", "foo"];
    compare(&python, &added_header);
}

#[test]
fn mitmproxy_reads_a_live_capture() {
    let Some(python) = peer() else { return };
    let origin = crate::origin::Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "live.mitm");
    let proxy = crate::support::Proxy::start(&["-s", "examples/add_header", "-w", &file]);
    for path in ["/hello", "/chunked", "/echo"] {
        crate::support::curl(&proxy, &[&origin.url(path)]);
    }
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    compare(&python, &["live", &file, "3", "newheader", "foo"]);
}

#[test]
fn mitmproxy_reads_an_https_capture_with_its_tls_details() {
    let Some(python) = peer() else { return };
    use crate::tls_origin::{Cert, TlsOrigin};
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let dir = scratch();
    let file = path_in(&dir, "https.mitm");
    let trust = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let proxy = crate::support::Proxy::start(&["--set", &trust, "-w", &file]);
    for version in ["--http1.1", "--http2"] {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-x",
                &proxy.url(),
                "--cacert",
                &proxy.ca_cert(),
                version,
            ])
            .arg(origin.url("/hello"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from origin\n");
    }
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    compare(&python, &["https", &file, "2"]);
}

#[test]
fn mitmproxy_reads_a_rewritten_websocket() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let (input, out) = crate::offline_websocket::rewrite_chat(&dir);
    compare(&python, &["websocket", &input, &out, "hello", "hi"]);
}

#[test]
fn mitmproxy_reads_a_rewritten_tcp_flow() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let (input, out) = crate::offline_tcp::rewrite_pings(&dir);
    compare(&python, &["tcp", &input, &out, "ping", "pong"]);
}

/// mitmdump's own TCP events over `file`, as the recorder would log them.
fn mitmdump_tcp_events(python: &Path, file: &str) -> Vec<String> {
    let mitmdump = python.with_file_name("mitmdump");
    let addon = root().join("runner/tests/interop/tcp_events.py");
    let out = Command::new(mitmdump)
        .args(["-n", "-r", file, "-s"])
        .arg(addon)
        .args(["--set", "flow_detail=0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mitmdump failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("mitm: "))
        .map(str::to_owned)
        .collect()
}

/// Waylay's TCP events over `file`, from the recorder's log.
fn waylay_tcp_events(file: &str) -> Vec<String> {
    let recorder = "runner/tests/fixtures/recorder";
    let result = Offline::read(file)
        .script(&format!("{recorder} t"))
        .run()
        .ok();
    result
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("[{recorder}] t ")))
        .filter(|l| *l != "done" && !l.starts_with("start "))
        // The server's address is the recorder's own addition.
        .map(|l| l.split(", server ").next().unwrap().to_owned())
        .collect()
}

#[test]
fn mitmproxy_fires_the_same_tcp_events() {
    let Some(python) = peer() else { return };
    let dir = scratch();
    let failed = crate::offline_tcp::failed_flow_file(&dir);
    for file in [golden("tcp.mitm").to_string_lossy().into_owned(), failed] {
        let (mitmproxy, waylay) = (
            mitmdump_tcp_events(&python, &file),
            waylay_tcp_events(&file),
        );
        assert_eq!(waylay, mitmproxy, "{file}");
        assert_eq!(waylay.len(), 6, "{waylay:?}");
    }
}

/// `path`'s flows written again, connection ids blanked: mitmproxy makes
/// those at random for 0.11 and 0.18 files.
fn without_ids(path: &str) -> Vec<u8> {
    let mut writer = waylay_proxy::flowfile::FlowWriter::new(Vec::new());
    for mut flow in crate::support::flows(path) {
        for conn in ["client_conn", "server_conn"] {
            if let Some(c) = flow
                .dict_mut()
                .get_mut(conn)
                .and_then(waylay_proxy::tnetstring::Value::as_dict_mut)
            {
                c.insert("id", waylay_proxy::tnetstring::Value::text("-"));
            }
        }
        writer.write_flow(&flow).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn old_captures_are_read_and_rewritten_as_mitmdump_does() {
    let Some(python) = peer() else {
        return;
    };
    let dir = scratch();
    for name in [
        "dumpfile-011",
        "dumpfile-018",
        "dumpfile-019",
        "dumpfile-10",
        "dumpfile-19",
        "dumpfile-7",
        "dumpfile-7-websocket",
    ] {
        let old = root().join(format!("testdata/old-flows/{name}.mitm"));
        let old = old.to_str().unwrap();
        let (ours, theirs) = (
            path_in(&dir, &format!("{name}.waylay.mitm")),
            path_in(&dir, &format!("{name}.mitmdump.mitm")),
        );
        Offline::read(old).args(&["-q", "-w", &ours]).run().ok();
        let out = Command::new(python.with_file_name("mitmdump"))
            .args(["-q", "-n", "-r", old, "-w", &theirs])
            .output()
            .unwrap();
        assert!(out.status.success(), "mitmdump over {name}");
        assert!(
            without_ids(&ours) == without_ids(&theirs),
            "{name}: what Waylay wrote differs from what mitmdump wrote"
        );
        // And mitmproxy reads what Waylay wrote, flow for flow.
        compare(&python, &["same-but-conn-ids", &ours, &theirs]);
    }
    // 0.10: mitmproxy 11 refuses it too.
    let old = root().join("testdata/old-flows/dumpfile-010.mitm");
    Offline::read(&old).run().fails(&format!(
        "runner: error: {}: byte 0: flow format version 0.10 is older than any mitmproxy 11 reads (0.11 and newer); \
         open the file with the mitmproxy that wrote it and save it again; the 0 flow(s) before it were processed",
        old.display()
    ));
}
