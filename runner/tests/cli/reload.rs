//! Hot reload while the proxy serves: a keep-alive connection survives
//! every reload, and a build that fails leaves the last good one serving.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::origin::Origin;
use crate::support::{Proxy, manifest, scratch, write_crate};

fn script(version: &str) -> String {
    format!(
        "use waylay_sdk::{{Context, Flow, Script}};\n\n#[derive(Default)]\npub struct V;\n\nimpl Script for V {{\n    \
         fn response(&mut self, _: &Context, flow: &mut Flow) {{\n        if let Some(r) = flow.response_mut() {{\n            \
         r.headers_mut().set(\"x-version\", \"{version}\");\n        }}\n    }}\n}}\n\nwaylay_sdk::export_script!(V);\n"
    )
}

/// One keep-alive request on `conn`; returns the x-version it came back with.
fn version(conn: &mut BufReader<TcpStream>, url: &str) -> String {
    conn.get_mut()
        .write_all(format!("GET {url} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .expect("the connection is still open");
    let (mut length, mut version) = (0usize, String::new());
    loop {
        let mut line = String::new();
        assert!(
            conn.read_line(&mut line)
                .expect("the connection is still open")
                > 0,
            "the proxy closed the connection"
        );
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        if let Some(v) = lower.strip_prefix("x-version:") {
            version = v.trim().to_owned();
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).unwrap();
    version
}

fn wait_for(conn: &mut BufReader<TcpStream>, url: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if version(conn, url) == want {
            return;
        }
        assert!(Instant::now() < deadline, "version {want} never arrived");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn edits_reload_without_dropping_a_connection_and_a_broken_build_changes_nothing() {
    let origin = Origin::start();
    let dir = scratch();
    write_crate(
        dir.path(),
        &[
            ("Cargo.toml", &manifest("versioned", "\"cdylib\"", true)),
            ("src/lib.rs", &script("1")),
        ],
    );
    let proxy = Proxy::start(&["-s", dir.path().to_str().unwrap()]);
    let url = origin.url("/hello");
    let mut conn = BufReader::new(TcpStream::connect(&proxy.addr).unwrap());
    conn.get_mut()
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    assert_eq!(version(&mut conn, &url), "1");

    std::fs::write(dir.path().join("src/lib.rs"), script("2")).unwrap();
    wait_for(&mut conn, &url, "2");

    std::fs::write(dir.path().join("src/lib.rs"), "this does not compile").unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        version(&mut conn, &url),
        "2",
        "the last good build keeps serving"
    );

    std::fs::write(dir.path().join("src/lib.rs"), script("3")).unwrap();
    wait_for(&mut conn, &url, "3");

    let stopped = proxy.stop();
    assert_eq!(
        stopped.stderr.matches("reloaded").count(),
        2,
        "{}",
        stopped.stderr
    );
    assert_eq!(
        stopped.stderr.matches("error: expected one of").count(),
        1,
        "the compiler's errors show once:\n{}",
        stopped.stderr
    );
    // A warning, not a fatal-looking error: the previous build serves on.
    assert!(
        stopped.stderr.contains("runner: warning: the rebuild of ")
            && stopped
                .stderr
                .contains(" failed, so the previous build of it still runs: "),
        "{}",
        stopped.stderr
    );
    assert!(
        !stopped.stderr.contains("runner: error:"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn no_reload_keeps_the_first_build() {
    let origin = Origin::start();
    let dir = scratch();
    write_crate(
        dir.path(),
        &[
            ("Cargo.toml", &manifest("pinned", "\"cdylib\"", true)),
            ("src/lib.rs", &script("1")),
        ],
    );
    let proxy = Proxy::start(&["--no-reload", "-s", dir.path().to_str().unwrap()]);
    let url = origin.url("/hello");
    let mut conn = BufReader::new(TcpStream::connect(&proxy.addr).unwrap());
    std::fs::write(dir.path().join("src/lib.rs"), script("2")).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(version(&mut conn, &url), "1");
}

#[test]
fn a_long_offline_run_picks_up_edits() {
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    let dir = scratch();
    write_crate(
        dir.path(),
        &[
            (
                "Cargo.toml",
                &manifest("versioned_offline", "\"cdylib\"", true),
            ),
            ("src/lib.rs", &script("1")),
        ],
    );
    let outdir = scratch();
    let out = outdir.path().join("out.mitm");
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args([
            "-n",
            "-r",
            "-",
            "-s",
            dir.path().to_str().unwrap(),
            "-w",
            out.to_str().unwrap(),
        ])
        .current_dir(crate::support::root())
        .env(
            "CARGO_TARGET_DIR",
            crate::support::root().join("target/test-scripts"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let flow = std::fs::read(crate::support::golden("get.mitm")).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for _ in 0..3 {
        stdin.write_all(&flow).unwrap();
    }
    stdin.flush().unwrap();
    // Edited only once the first build runs (a flow line is printed), so
    // the watcher has seen the crate as it was.
    let mut flow_lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        flow_lines.next().is_some_and(|l| l.is_ok()),
        "the first build runs and prints a flow line"
    );
    std::thread::spawn(move || flow_lines.for_each(drop));
    std::thread::sleep(Duration::from_secs(1));
    std::fs::write(dir.path().join("src/lib.rs"), script("2")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a reload within 90 s");
        if line.ends_with("reloaded") {
            break;
        }
    }
    for _ in 0..3 {
        stdin.write_all(&flow).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let versions: Vec<String> = crate::support::flows(&out)
        .iter()
        .map(|f| {
            String::from_utf8_lossy(
                waylay_proxy::http::header(f.response().unwrap(), "x-version").unwrap(),
            )
            .into_owned()
        })
        .collect();
    assert_eq!(versions, ["1", "1", "1", "2", "2", "2"]);
}
