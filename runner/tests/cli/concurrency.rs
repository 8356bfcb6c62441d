//! The seed's concurrency model, live: hooks run one at a time unless the
//! script marks them concurrent.

use std::time::{Duration, Instant};

use crate::origin::Origin;
use crate::support::Proxy;

/// Sends 8 requests at once through `proxy`; returns how long all took.
fn eight_at_once(proxy: &Proxy, origin: &Origin) -> Duration {
    let started = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|i: u32| {
            let (proxy, url) = (proxy.url(), origin.url("/hello"));
            let _ = i;
            std::thread::spawn(move || {
                std::process::Command::new("curl")
                    .args(["-s", "-x", &proxy, &url])
                    .output()
                    .unwrap()
            })
        })
        .collect();
    for client in clients {
        assert_eq!(
            String::from_utf8_lossy(&client.join().unwrap().stdout),
            "hello from origin\n"
        );
    }
    started.elapsed()
}

#[test]
fn a_concurrent_hook_lets_flows_sleep_side_by_side() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "examples/nonblocking"]);
    let took = eight_at_once(&proxy, &origin);
    assert!(
        took < Duration::from_millis(3500),
        "8 one-second hooks took {took:?}"
    );
    let stopped = proxy.stop();
    assert_eq!(stopped.stdout.matches("handle request: ").count(), 8);
    assert_eq!(stopped.stdout.matches("start  request: ").count(), 8);
}

#[test]
fn without_the_marker_hooks_run_one_at_a_time() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/blocking"]);
    let addr = proxy.addr.clone();
    // While the hooks queue up, the proxy's I/O goes on: a request that
    // needs no script is answered at once.
    let probe = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        let started = Instant::now();
        let out = crate::support::raw(&addr, b"GET /not-absolute HTTP/1.1\r\n\r\n");
        (out, started.elapsed())
    });
    let took = eight_at_once(&proxy, &origin);
    assert!(
        took >= Duration::from_millis(7500),
        "8 serialized one-second hooks took only {took:?}"
    );
    let (out, answered_in) = probe.join().unwrap();
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    assert!(
        answered_in < Duration::from_millis(500),
        "the proxy stalled for {answered_in:?} behind a hook"
    );
}

/// Thread-per-core: connections are dealt out over `io_threads` threads in
/// turn, and a quick hook runs on the thread of its connection.
#[test]
fn connections_are_spread_over_the_io_threads() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/blocking 0",
        "--set",
        "io_threads=3",
    ]);
    for _ in 0..6 {
        // One connection each, one after the other.
        assert_eq!(
            crate::support::curl(&proxy, &[&origin.url("/hello")]),
            "hello from origin\n"
        );
    }
    let stopped = proxy.stop();
    let mut threads: Vec<&str> = stopped
        .stdout
        .lines()
        .filter_map(|l| l.split_once("handle request: /hello on ").map(|(_, t)| t))
        .collect();
    assert_eq!(threads.len(), 6, "{}", stopped.stdout);
    threads.sort_unstable();
    threads.dedup();
    assert_eq!(threads.len(), 3, "hooks ran on {threads:?}");
    assert!(
        threads.iter().any(|t| t.starts_with("waylay-io-")),
        "{threads:?}"
    );
}

/// An offline run reading all.mitm's flows four times over (a file made
/// in the run's folder), and that file's path.
fn all_four_times() -> (crate::offline_run::Offline, String) {
    let one = std::fs::read(crate::support::golden("all.mitm")).unwrap();
    let run = crate::offline_run::Offline::new();
    let input = run.path("in.mitm");
    std::fs::write(&input, one.repeat(4)).unwrap();
    (run.args(&["-r", &input]), input)
}

/// Offline, a script whose hooks are concurrent runs them over several
/// flows at once (mitmproxy's `@concurrent`), and the output keeps the
/// input's order: the flows written, and each flow's log lines said just
/// before its turn, as one flow at a time would say them.
#[test]
fn offline_concurrent_hooks_run_side_by_side_in_order() {
    // Each HTTP flow gets a `request` hook that sleeps 0.3 s.
    let (run, input) = all_four_times();
    let started = Instant::now();
    let ran = run.script("examples/nonblocking 0.3").write().run().ok();
    let took = started.elapsed();
    let read = crate::support::flows(&input);
    let written = ran.written();
    let ids = |flows: &[waylay_proxy::Flow]| -> Vec<String> {
        flows.iter().map(|f| f.id().to_owned()).collect()
    };
    assert_eq!(ids(&written), ids(&read), "the flows' order");
    let http: Vec<&waylay_proxy::Flow> = read
        .iter()
        .filter(|f| f.kind() == waylay_proxy::flow::FlowKind::Http)
        .collect();
    assert!(http.len() >= 8, "{} HTTP flows", http.len());
    let mut expected = Vec::new();
    for flow in &http {
        let request = flow.request().unwrap();
        let target = format!(
            "{}{}",
            String::from_utf8_lossy(waylay_proxy::http::raw(request, "host")),
            String::from_utf8_lossy(waylay_proxy::http::raw(request, "path"))
        );
        expected.push(format!("handle request: {target}"));
        expected.push(format!("start  request: {target}"));
    }
    let said: Vec<&str> = ran
        .stdout
        .lines()
        .filter_map(|l| l.find("request: ").map(|_| l))
        .collect();
    assert_eq!(said.len(), expected.len(), "{}", ran.stdout);
    for (line, want) in said.iter().zip(&expected) {
        assert!(
            line.ends_with(want.as_str()),
            "{line:?} is not {want:?}\n{}",
            ran.stdout
        );
    }
    // The first flow of each shape (plain, with an error, with a
    // WebSocket) runs alone, as its hooks are not all known yet; the
    // others run side by side. One at a time takes 0.3 s a flow (6.1 s
    // here before this was built); this takes about 1.3 s.
    assert!(
        took < Duration::from_millis(3000),
        "{} hooks of 0.3 s took {took:?}",
        http.len()
    );
}

/// Offline, a script with a concurrent hook beside a plain one: the plain
/// hook still sees the flows one at a time, in the file's order. Were the
/// flows handed to the workers, the plain `response` hooks would run in
/// whatever order their sleeping `request` hooks finished, and the count
/// each logs would not follow the flows.
#[test]
fn offline_a_plain_hook_beside_a_concurrent_one_sees_the_flows_in_order() {
    let (run, input) = all_four_times();
    let ran = run.script("runner/tests/fixtures/mixed 0.02").run().ok();
    let answered: Vec<String> = crate::support::flows(&input)
        .iter()
        .filter(|f| f.response().is_some())
        .map(|f| f.id().to_owned())
        .collect();
    assert!(
        answered.len() >= 8,
        "{} flows with a response",
        answered.len()
    );
    let said: Vec<&str> = ran
        .stdout
        .lines()
        .filter(|l| l.contains("] response "))
        .collect();
    assert_eq!(said.len(), answered.len(), "{}", ran.stdout);
    for (i, (line, id)) in said.iter().zip(&answered).enumerate() {
        assert!(
            line.ends_with(&format!("response {} {id}", i + 1)),
            "{line:?}: response {} should be flow {id}\n{}",
            i + 1,
            ran.stdout
        );
    }
}
