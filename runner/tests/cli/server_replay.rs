//! Server replay (`-S`): recorded live through the runner and served back
//! with the server gone, compared with mitmdump offline under several
//! option sets, and the one line each bad input gets.

use std::process::Command;

use crate::offline_run::Offline;
use crate::origin::Origin;
use crate::support::{Proxy, curl, flows, golden, path_in, root, run, scratch};

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `STATUS BODY` of a GET through `proxy` (`000` when there is no answer).
fn get(proxy: &Proxy, url: &str) -> String {
    curl(proxy, &["-w", "%{http_code}|", "-o", "/dev/stderr", url])
        .trim_end_matches('|')
        .to_owned()
}

fn status_and_body(proxy: &Proxy, url: &str) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-x",
            &proxy.url(),
            "-w",
            "\n%{http_code}",
            url,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.to_owned(), body.to_owned())
}

#[test]
fn replays_recorded_responses_without_the_server() {
    let dir = scratch();
    let recorded = path_in(&dir, "recorded.mitm");
    let origin = Origin::start();
    let proxy = Proxy::start(&["-w", &recorded]);
    for path in ["/hello", "/nocontent", "/chunked"] {
        curl(&proxy, &[&origin.url(path)]);
    }
    proxy.stop();
    assert_eq!(flows(&recorded).len(), 3);

    // The recordings name the origin's port; the requests go to a dead
    // one, matched with the port ignored: nothing can answer but replay.
    let dead = dead_port();
    let url = |path: &str| format!("http://127.0.0.1:{dead}{path}");
    let start = |extra: &[&str], capture: &str| {
        let mut args = vec![
            "-S",
            recorded.as_str(),
            "--set",
            "server_replay_ignore_port=true",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-w", capture]);
        Proxy::start(&args)
    };

    let capture = path_in(&dir, "replayed.mitm");
    let proxy = start(&["--set", "server_replay_extra=404"], &capture);
    assert!(
        proxy
            .lines()
            .iter()
            .any(|l| l.contains("server replay: 3 flows from"))
    );
    assert_eq!(
        status_and_body(&proxy, &url("/hello")),
        ("200".to_owned(), "hello from origin\n".to_owned())
    );
    assert_eq!(status_and_body(&proxy, &url("/nocontent")).0, "204");
    assert_eq!(
        status_and_body(&proxy, &url("/nope")),
        ("404".to_owned(), String::new())
    );
    // Used up: the second /hello is an extra request too.
    assert_eq!(status_and_body(&proxy, &url("/hello")).0, "404");
    proxy.stop();
    let written = flows(&capture);
    let hello = written
        .iter()
        .find(|f| {
            f.request()
                .is_some_and(|r| r.get("path").and_then(|p| p.as_bytes()) == Some(b"/hello"))
        })
        .unwrap();
    assert_eq!(hello.text("is_replay"), Some("response"));

    let proxy = start(
        &["--set", "server_replay_extra=kill"],
        &path_in(&dir, "k.mitm"),
    );
    assert_eq!(get(&proxy, &url("/nope")), "000");
    assert_eq!(status_and_body(&proxy, &url("/chunked")).1, "hello chunks");
    proxy.stop();

    let proxy = start(&["--server-replay-reuse"], &path_in(&dir, "r.mitm"));
    for _ in 0..2 {
        assert_eq!(
            status_and_body(&proxy, &url("/hello")).1,
            "hello from origin\n"
        );
    }
    proxy.stop();

    // Without reuse the second falls through to the (dead) server.
    let proxy = start(&[], &path_in(&dir, "f.mitm"));
    assert_eq!(status_and_body(&proxy, &url("/hello")).0, "200");
    assert_eq!(status_and_body(&proxy, &url("/hello")).0, "502");
    proxy.stop();
}

#[test]
fn matches_what_mitmdump_replays() {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let script = root().join("runner/tests/interop/server_replay.py");
    let dir = scratch();
    let d = dir.path().to_str().unwrap();
    let made = Command::new(&python)
        .arg(&script)
        .args(["make", d])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (requests, recorded) = (
        path_in(&dir, "requests.mitm"),
        path_in(&dir, "recorded.mitm"),
    );
    let summary = |file: &str| {
        let out = Command::new(&python)
            .arg(&script)
            .args(["summary", file])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // Offline, mitmdump's kill is an error ("Flow is not killable.") that
    // ends its start-up: `kill` is compared live, above.
    let combos: [&[&str]; 4] = [
        &[],
        &[
            "--set",
            "server_replay_ignore_params=t",
            "--set",
            "server_replay_ignore_payload_params=t",
            "--set",
            "server_replay_ignore_port=true",
            "--set",
            "server_replay_use_headers=x-a",
            "--set",
            "server_replay_extra=404",
        ],
        &[
            "--server-replay-reuse",
            "--set",
            "server_replay_ignore_host=true",
            "--set",
            "server_replay_ignore_content=true",
            "--server-replay-extra",
            "204",
        ],
        &[
            "--set",
            "server_replay_extra=500",
            "--set",
            "server_replay_ignore_params=q",
            "--set",
            "server_replay_ignore_params=a",
            "--set",
            "server_replay_ignore_payload_params=a",
        ],
    ];
    for (i, combo) in combos.iter().enumerate() {
        let ours = path_in(&dir, &format!("ours{i}.mitm"));
        let theirs = path_in(&dir, &format!("theirs{i}.mitm"));
        let base = ["-n", "-q", "-r", &requests, "-S", &recorded];
        let out = run(&[&base[..], combo, &["-w", &ours]].concat());
        assert_eq!(out.code, 0, "{combo:?}: {}", out.stderr);
        // mitmdump keeps serving while recordings remain: stop.py ends it
        // once -r is read.
        let stop = path_in(&dir, "stop.py");
        let status = Command::new(python.with_file_name("mitmdump"))
            .args(&base[..])
            .args(*combo)
            .args(["-s", &stop, "-w", &theirs])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        assert_eq!(summary(&ours), summary(&theirs), "options {combo:?}");
    }
}

#[test]
fn bad_input_gets_one_line() {
    let get = golden("get.mitm");
    let get = get.to_str().unwrap();
    let dir = scratch();
    let broken = path_in(&dir, "broken.mitm");
    let mut bytes = std::fs::read(get).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&broken, bytes).unwrap();
    let cut_short = format!("-S {broken}: byte ");
    let not_a_value =
        "\"302\": not a value it takes; the values are forward, kill, 204, 400, 404, 500";
    // (arguments after `-r get.mitm`, how the one error line starts, what
    // it then says)
    let error = "runner: error: ";
    for (args, start, then) in [
        (
            &["-S", "/nonexistent/flows.mitm"][..],
            "runner: error: -S /nonexistent/flows.mitm: cannot read the flows to replay",
            &[][..],
        ),
        (
            &["-S", &broken],
            error,
            &[&cut_short, "no server replay started"],
        ),
        (
            &["-S", get, "--set", "server_replay_extra=302"],
            error,
            &[not_a_value],
        ),
        (
            &["-S", get, "--server-replay-extra", "302"],
            error,
            &[not_a_value],
        ),
    ] {
        let ran = Offline::golden("get.mitm").args(args).run();
        assert_eq!(ran.code, 1, "{args:?}: {}", ran.stderr);
        let line = ran.error_line();
        assert!(
            line.starts_with(start) && then.iter().all(|p| line.contains(p)),
            "{args:?}: {line}"
        );
        assert_eq!(ran.runner_lines().len(), 1, "{}", ran.stderr);
    }
}
