//! The proxy around its flows: saved flows read while it serves (`-r`
//! without `-n`), shutting down (the grace period, a second Ctrl-C), and
//! a client that hangs up mid-response.

use crate::live::events;
use crate::origin::Origin;
use crate::support::{Proxy, curl, flows, path_in, scratch};

/// curl through `proxy` asking `origin` for a response that never comes,
/// on a thread of its own.
fn stalled(
    proxy: &Proxy,
    origin: &Origin,
) -> std::thread::JoinHandle<std::io::Result<std::process::Output>> {
    let (proxy_url, url) = (proxy.url(), origin.url("/stall"));
    std::thread::spawn(move || {
        std::process::Command::new("curl")
            .args(["-s", "-x", &proxy_url, &url])
            .output()
    })
}

#[test]
fn a_second_ctrl_c_quits_at_once_and_the_capture_stays_readable() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    // The default grace, 10 s: the second Ctrl-C must not wait for it.
    let proxy = Proxy::start(&["-w", &file]);
    let client = stalled(&proxy, &origin);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let started = std::time::Instant::now();
    proxy.interrupt();
    std::thread::sleep(std::time::Duration::from_millis(500));
    proxy.interrupt();
    let stopped = proxy.stop();
    let _ = client.join();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "quit at once, not after the grace: {:?}",
        started.elapsed()
    );
    assert!(
        stopped
            .stderr
            .contains("runner: waiting for 1 flow(s) to finish (Ctrl-C again to quit)"),
        "{}",
        stopped.stderr
    );
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert_eq!(
        saved[0].error_msg(),
        Some("the proxy was told to quit at once (a second Ctrl-C) before the flow finished")
    );
}

#[test]
fn r_without_n_runs_the_saved_flows_through_the_scripts_then_serves() {
    let input = crate::support::golden("all.mitm");
    let input = input.to_str().unwrap();
    let offline = crate::offline_run::Offline::read(input)
        .script("runner/tests/fixtures/recorder")
        .run()
        .ok();
    let saved_events: Vec<String> = events(&offline.stdout)
        .into_iter()
        .filter(|e| e != "start" && e != "done")
        .collect();
    assert!(!saved_events.is_empty());

    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    let proxy = Proxy::start(&[
        "-r",
        input,
        "-s",
        "runner/tests/fixtures/recorder",
        "-w",
        &file,
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::metadata(&file).map_or(0, |m| m.len()) < std::fs::metadata(input).unwrap().len()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = curl(&proxy, &["-i", &origin.url("/hello")]);
    assert!(
        out.ends_with("hello from origin\n"),
        "the proxy serves: {out}"
    );
    let stopped = proxy.stop();
    let live_events = events(&stopped.stdout);
    assert!(
        live_events
            .windows(saved_events.len())
            .any(|w| w == saved_events.as_slice()),
        "the saved flows' events, in the offline order:\n{saved_events:#?}\nlive:\n{live_events:#?}"
    );
    let ids =
        |flows: &[waylay_proxy::Flow]| flows.iter().map(|f| f.id().to_owned()).collect::<Vec<_>>();
    let (before, after) = (flows(input), flows(&file));
    assert_eq!(after.len(), before.len() + 1, "{}", stopped.stderr);
    assert_eq!(ids(&after[..before.len()]), ids(&before));
    let path = after[before.len()]
        .request()
        .and_then(|r| r.get("path"))
        .and_then(waylay_proxy::tnetstring::Value::as_bytes);
    assert_eq!(path, Some(&b"/hello"[..]));
}

#[test]
fn r_without_n_reports_a_broken_file_and_goes_on_serving() {
    let dir = scratch();
    let cut = path_in(&dir, "cut.mitm");
    let bytes = std::fs::read(crate::support::golden("all.mitm")).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let origin = Origin::start();
    let proxy = Proxy::start(&["-r", &cut]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = curl(&proxy, &["-i", &origin.url("/hello")]);
    assert!(out.ends_with("hello from origin\n"), "{out}");
    let stopped = proxy.stop();
    assert!(
        stopped.stderr.contains(&format!("-r {cut}: byte "))
            && stopped
                .stderr
                .contains("; the 4 flow(s) before it were loaded, and the proxy goes on serving"),
        "{}",
        stopped.stderr
    );
    // Live as offline: the file read is never the file written.
    for w in [cut.clone(), format!("+{cut}")] {
        let same = crate::support::run(&["-r", &cut, "-w", &w]);
        assert_eq!(same.code, 1, "{}", same.stderr);
        assert!(
            same.error_line().ends_with(
                "refusing to write flows to the file they are read from; pass another -w path"
            ),
            "{}",
            same.stderr
        );
        assert_eq!(std::fs::read(&cut).unwrap().len(), bytes.len() - 10);
    }
    let stdin = crate::support::run(&["-r", "-"]);
    assert_eq!(
        (stdin.code, stdin.error_line()),
        (
            1,
            "runner: error: -r -: the live proxy reads saved flows from a file, not standard input; name the file, or add -n for an offline run"
        )
    );
    let missing = crate::support::run(&["-r", "no/such.mitm"]);
    assert_eq!(
        (missing.code, missing.error_line()),
        (
            1,
            "runner: error: no/such.mitm: cannot read flows: No such file or directory (os error 2)"
        )
    );
}

#[test]
fn a_client_that_hangs_up_mid_response_is_said_on_its_flow_line() {
    use std::io::{Read, Write};
    let origin = Origin::start();
    let proxy = Proxy::start(&["--set", "stream_large_bodies=1"]);
    let mut client = std::net::TcpStream::connect(&proxy.addr).unwrap();
    let url = origin.url("/huge");
    client
        .write_all(format!("GET {url} HTTP/1.1\r\nHost: {}\r\n\r\n", origin.addr).as_bytes())
        .unwrap();
    let mut first = [0u8; 4096];
    let _ = client.read(&mut first).unwrap();
    drop(client);
    // The proxy notices when a write fails, which takes a full buffer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !proxy.lines().iter().any(|l| l.contains("/huge")) && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let stopped = proxy.stop();
    let line = stopped
        .stdout
        .lines()
        .find(|l| l.contains("/huge"))
        .unwrap_or_else(|| panic!("no flow line:\n{}", stopped.stdout));
    assert!(
        line.contains(
            " << 200 OK (content missing) << the client went away during the streamed body: "
        ),
        "{line}"
    );
}

#[test]
fn flows_that_outlast_the_shutdown_grace_are_recorded_as_errors() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/recorder",
        "--set",
        "shutdown_grace=1",
        "--set",
        "io_threads=3",
        "-w",
        &file,
    ]);
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let client = stalled(&proxy, &origin);
            // One at a time, so each lands on the next thread.
            std::thread::sleep(std::time::Duration::from_millis(200));
            client
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopped = proxy.stop();
    for client in clients {
        let _ = client.join();
    }
    let saved = flows(&file);
    assert_eq!(saved.len(), 3, "{}", stopped.stderr);
    for flow in &saved {
        assert_eq!(
            flow.error_msg(),
            Some("the proxy shut down before the flow finished (1s grace)")
        );
    }
    let events = events(&stopped.stdout);
    assert_eq!(
        events[events.len() - 4..],
        ["error /stall", "error /stall", "error /stall", "done"]
    );
}
