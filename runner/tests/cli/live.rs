//! The live proxy end to end: the runner binary, real scripts, an
//! in-process origin, curl and raw sockets, all on loopback.

use crate::origin::Origin;
use crate::support::{Proxy, answers, curl, flows, path_in, raw, scratch};

/// The script log lines (not flow lines) a run printed, without the
/// script's path prefix.
pub(crate) fn events(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("[runner/tests/fixtures/recorder] - "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn curl_through_add_header_sees_newheader() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "examples/add_header"]);
    let out = curl(&proxy, &["-i", &origin.url("/hello")]);
    assert!(out.contains("newheader: foo"), "{out}");
    assert!(out.contains("hello from origin"), "{out}");
    let stopped = proxy.stop();
    assert!(
        stopped
            .stdout
            .contains(&format!("GET {} << 200 OK 18b", origin.url("/hello"))),
        "{}",
        stopped.stdout
    );
}

#[test]
fn keep_alive_reuses_the_upstream_connection_and_events_are_in_order() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/recorder"]);
    // curl fetches both URLs over one client connection.
    let out = curl(&proxy, &[&origin.url("/hello"), &origin.url("/hello")]);
    assert_eq!(out, "hello from origin\nhello from origin\n");
    let stopped = proxy.stop();
    assert_eq!(
        origin.connections(),
        1,
        "the second request reused the upstream connection"
    );
    assert_eq!(
        events(&stopped.stdout),
        [
            "start []",
            "client_connect",
            "request_headers /hello",
            "request /hello",
            "server_connect",
            "response_headers /hello",
            "response /hello",
            "request_headers /hello",
            "request /hello",
            "response_headers /hello",
            "response /hello",
            "client_disconnect",
            "done",
        ]
    );
}

#[test]
fn a_response_set_in_request_never_reaches_a_server() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/recorder"]);
    let out = curl(&proxy, &["-i", &origin.url("/short")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("short-circuited\n"), "{out}");
    let stopped = proxy.stop();
    assert_eq!(origin.connections(), 0);
    assert_eq!(
        events(&stopped.stdout)[1..7],
        [
            "client_connect",
            "request_headers /short",
            "request /short",
            "response_headers /short",
            "response /short",
            "client_disconnect"
        ]
    );
}

#[test]
fn a_refused_upstream_is_an_error_event_and_a_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/recorder", "-w", &file]);
    let out = curl(&proxy, &["-i", &format!("http://{closed}/x")]);
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
    assert!(
        out.contains(&format!(
            "waylay: cannot connect to 127.0.0.1:{}: Connection refused",
            closed.port()
        )),
        "{out}"
    );
    let stopped = proxy.stop();
    assert_eq!(
        events(&stopped.stdout)[1..6],
        [
            "client_connect",
            "request_headers /x",
            "request /x",
            "server_connect",
            "error /x"
        ]
    );
    let saved = flows(&file);
    assert_eq!(saved.len(), 1);
    assert!(saved[0].response().is_none());
    assert!(saved[0].error_msg().unwrap().contains("Connection refused"));
}

#[test]
fn an_upstream_that_resets_mid_body_is_an_error() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/recorder"]);
    let out = curl(&proxy, &["-i", &origin.url("/reset")]);
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
    assert!(
        out.contains("the connection closed in the middle of a message"),
        "{out}"
    );
    let stopped = proxy.stop();
    let events = events(&stopped.stdout);
    assert_eq!(
        events[events.len() - 4..events.len() - 2],
        ["response_headers /reset", "error /reset"]
    );
}

#[test]
fn an_invalid_response_is_an_error() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[]);
    let out = curl(&proxy, &["-i", &origin.url("/garbage")]);
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
    assert!(out.contains("invalid response from the server"), "{out}");
}

#[test]
fn header_case_and_order_survive_both_ways() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[]);
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nX-Mixed-Case: 1\r\nx-dup: a\r\nAccept: */*\r\nX-DUP: b\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n",
        origin.url("/headers"),
        origin.addr
    );
    let out = raw(&proxy.addr, request.as_bytes());
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_default();
    assert_eq!(
        body,
        format!(
            "GET /headers HTTP/1.1\r\nHost: {}\r\nX-Mixed-Case: 1\r\nx-dup: a\r\nAccept: */*\r\nX-DUP: b\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n",
            origin.addr
        ),
        "the origin saw the flow's fields in order and case, as mitmdump sends them (wire.rs compares)"
    );
    let out = raw(
        &proxy.addr,
        format!(
            "GET {} HTTP/1.1\r\nConnection: close\r\n\r\n",
            origin.url("/hello")
        )
        .as_bytes(),
    );
    assert!(
        out.contains(
            "\r\nX-Origin-Case: Mixed\r\ncontent-TYPE: text/plain\r\nContent-Length: 18\r\n"
        ),
        "{out}"
    );
}

#[test]
fn chunked_and_head_responses() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[]);
    let out = curl(&proxy, &["-i", &origin.url("/chunked")]);
    assert!(
        out.contains("Transfer-Encoding: chunked\r\n")
            && !out.to_ascii_lowercase().contains("content-length")
            && out.ends_with("hello chunks"),
        "chunked stays chunked, as mitmdump sends it: {out}"
    );
    let out = curl(&proxy, &["-I", &origin.url("/hello")]);
    assert!(
        out.contains("Content-Length: 18\r\n"),
        "a HEAD keeps the server's length: {out}"
    );
    let out = curl(
        &proxy,
        &["--data-binary", "posted body", &origin.url("/echo")],
    );
    assert_eq!(out, "posted body");
}

#[test]
fn a_malformed_request_gets_a_400_and_a_log_line() {
    let proxy = Proxy::start(&[]);
    for (request, says) in [
        (
            &b"GET http://127.0.0.1:1/ HTTP/1.1\r\nBad Header Line\r\n\r\n"[..],
            &["Bad Request\r\n"][..],
        ),
        (
            b"GET /not-absolute HTTP/1.1\r\nHost: x\r\n\r\n",
            &["Bad Request\r\n", "absolute URL"],
        ),
        (
            b"POST http://127.0.0.1:1/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            &["Bad Request\r\n", "smuggling"],
        ),
    ] {
        answers(&proxy.addr, request, 400, says);
    }
    let stopped = proxy.stop();
    assert!(
        stopped.stderr.contains("malformed HTTP/1 head"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn a_panicking_hook_fails_only_its_flow() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/panicky"]);
    let out = curl(
        &proxy,
        &["-i", "--data-binary", "x", &origin.url("/submit")],
    );
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
    assert!(out.contains("a script's `response` hook panicked"), "{out}");
    let out = curl(&proxy, &["-i", &origin.url("/hello")]);
    assert!(
        out.contains("touched: yes") && out.ends_with("hello from origin\n"),
        "the proxy keeps serving: {out}"
    );
    let stopped = proxy.stop();
    assert!(
        stopped
            .stderr
            .contains("error: hook `response` panicked on flow")
            && stopped.stderr.contains("cannot handle submissions"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn with_script_error_continue_a_panicking_hooks_flow_goes_on_as_it_left_it() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/panicky",
        "--set",
        "script_error=continue",
    ]);
    let out = curl(
        &proxy,
        &["-i", "--data-binary", "x", &origin.url("/submit")],
    );
    // The origin's own answer, as the hook left it: not a 502.
    assert!(out.starts_with("HTTP/1.1 404 Not Found\r\n"), "{out}");
    assert!(out.contains("touched: yes"), "{out}");
    let stopped = proxy.stop();
    assert!(
        stopped
            .stderr
            .contains("cannot handle submissions (at runner/tests/fixtures/panicky/src/lib.rs:")
            && stopped
                .stderr
                .contains("; the flow goes on as the hook left it (script_error=continue)"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn proxyauth_and_body_size_limit() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--proxyauth", "user:pass", "--set", "body_size_limit=1k"]);
    let out = curl(&proxy, &["-i", &origin.url("/hello")]);
    assert!(
        out.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"),
        "{out}"
    );
    assert!(
        out.contains("proxy-authenticate: Basic realm=\"waylay\""),
        "{out}"
    );
    let out = curl(&proxy, &["-i", "-U", "user:pass", &origin.url("/hello")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    let big = "x".repeat(4096);
    let out = curl(
        &proxy,
        &[
            "-i",
            "-U",
            "user:pass",
            "--data-binary",
            &big,
            &origin.url("/echo"),
        ],
    );
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    let out = curl(&proxy, &["-i", "-U", "user:pass", &origin.url("/big")]);
    assert!(
        out.starts_with("HTTP/1.1 502 ") && out.contains("larger than body_size_limit"),
        "{out}"
    );
}

#[test]
fn shutdown_with_requests_in_flight_loses_no_flow() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/recorder", "-w", &file]);
    let url = origin.url("/slow");
    let proxy_url = proxy.url();
    let clients: Vec<_> = (0..5)
        .map(|_| {
            let (url, proxy_url) = (url.clone(), proxy_url.clone());
            std::thread::spawn(move || {
                let out = std::process::Command::new("curl")
                    .args(["-s", "-x", &proxy_url, &url])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).into_owned()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopped = proxy.stop();
    for client in clients {
        assert_eq!(
            client.join().unwrap(),
            "slow\n",
            "an in-flight request was answered"
        );
    }
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    assert_eq!(flows(&file).len(), 5, "every answered flow is in the file");
    assert_eq!(
        events(&stopped.stdout).last().map(String::as_str),
        Some("done")
    );
}

#[test]
fn a_panic_in_any_flow_hook_fails_that_flow_with_a_502() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/panicky"]);
    for hook in ["request_headers", "request", "response_headers", "response"] {
        let out = curl(&proxy, &["-i", &origin.url(&format!("/panic/{hook}"))]);
        assert!(
            out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
            "{hook}: {out}"
        );
        assert!(
            out.contains(&format!("a script's `{hook}` hook panicked")),
            "{hook}: {out}"
        );
    }
    // A panicking error hook: the flow had already failed; still a 502.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = curl(&proxy, &["-i", &format!("http://{closed}/panic/error")]);
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
    let out = curl(&proxy, &[&origin.url("/hello")]);
    assert_eq!(out, "hello from origin\n", "the proxy keeps serving");
    let stopped = proxy.stop();
    for hook in [
        "request_headers",
        "request",
        "response_headers",
        "response",
        "error",
    ] {
        let reported = stopped
            .stderr
            .lines()
            .filter(|l| l.contains(&format!("hook `{hook}` panicked")))
            .count();
        assert_eq!(reported, 1, "{hook} reported once:\n{}", stopped.stderr);
    }
}

#[test]
fn panics_in_connection_hooks_are_reported_and_traffic_goes_on() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/panicky client_connect server_connect client_disconnect done",
    ]);
    let out = curl(&proxy, &[&origin.url("/hello")]);
    assert_eq!(out, "hello from origin\n");
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    for hook in [
        "client_connect",
        "server_connect",
        "client_disconnect",
        "done",
    ] {
        assert!(
            stopped
                .stderr
                .contains(&format!("hook `{hook}` panicked: {hook} panics on purpose")),
            "{hook}:\n{}",
            stopped.stderr
        );
    }
}

#[test]
fn large_bodies_stream_and_are_not_kept() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/recorder",
        "--set",
        "stream_large_bodies=1m",
        "-w",
        &file,
    ]);
    // Over the threshold by Content-Length; chosen per flow by the script
    // (recorder streams /big*) for a chunked body.
    let big = curl(&proxy, &[&origin.url("/big")]);
    assert_eq!(big.len(), 2 << 20);
    let chunked = curl(&proxy, &[&origin.url("/big-chunked")]);
    assert_eq!(chunked.len(), 64 << 15);
    let small = curl(&proxy, &[&origin.url("/hello")]);
    assert_eq!(small, "hello from origin\n");
    let stopped = proxy.stop();
    let events = events(&stopped.stdout);
    assert!(
        events.contains(&"response /big (body not kept)".to_owned()),
        "{events:?}"
    );
    assert!(
        events.contains(&"response /big-chunked (body not kept)".to_owned()),
        "{events:?}"
    );
    assert!(events.contains(&"response /hello".to_owned()), "{events:?}");
    let saved = flows(&file);
    assert_eq!(saved.len(), 3);
    let bodies: Vec<Option<usize>> = saved
        .iter()
        .map(|f| waylay_proxy::http::raw_content(f.response().unwrap()).map(|b| b.len()))
        .collect();
    assert_eq!(bodies, [None, None, Some(18)]);
}

#[test]
fn a_gigabyte_streams_through_in_flat_memory() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--set", "stream_large_bodies=1m"]);
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "120",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "-x",
            &proxy.url(),
            &origin.url("/gigabyte"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        (1u64 << 30).to_string()
    );
    let peak_kib: u64 = std::fs::read_to_string(format!("/proc/{}/status", proxy.pid()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap();
    assert!(
        peak_kib < 100 * 1024,
        "peak RSS {peak_kib} KiB while streaming 1 GiB"
    );
}

#[test]
fn an_upstream_that_never_answers_times_out() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/recorder",
        "--set",
        "upstream_timeout=1",
    ]);
    let started = std::time::Instant::now();
    let out = curl(&proxy, &["-i", &origin.url("/stall")]);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert!(
        out.starts_with("HTTP/1.1 504 Gateway Time-out\r\n"),
        "{out}"
    );
    assert!(
        out.contains("waylay: the server sent no response in 1s"),
        "{out}"
    );
    let stopped = proxy.stop();
    assert!(events(&stopped.stdout).contains(&"error /stall".to_owned()));
}

#[test]
fn unknown_options_are_refused_at_start() {
    let out = crate::support::run(&["--set", "no_such_option=1"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --set no_such_option: no such option; `runner --options` lists them all (with -s, the scripts' too)"
    );
    let out = crate::support::run(&["--set", "upstream_timout=3"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --set upstream_timout: no such option; did you mean upstream_timeout? (`runner --options` lists them all)"
    );
}

#[test]
fn a_malformed_thread_count_is_refused_at_start() {
    for bad in ["0", "two", "5000"] {
        let out = crate::support::run(&["--set", &format!("io_threads={bad}")]);
        assert_eq!(
            out.error_line(),
            format!(
                "runner: error: --set io_threads={bad}: expected a number of threads from 1 to 1024"
            )
        );
    }
}

#[test]
fn a_malformed_stream_memory_is_refused_at_start() {
    let out = crate::support::run(&["--set", "stream_messages_memory=lots"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --set stream_messages_memory=lots: expected a size such as 1048576, 512k or 10m"
    );
}

#[test]
fn request_bodies_stream_too() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "flows.mitm");
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/recorder",
        "--set",
        "stream_large_bodies=64k",
        "-w",
        &file,
    ]);
    let upload = path_in(&dir, "upload.bin");
    std::fs::write(&upload, "u".repeat(200_000)).unwrap();
    // Over the threshold: streamed by size; /upload: chosen by the script.
    let echoed = curl(
        &proxy,
        &["--data-binary", &format!("@{upload}"), &origin.url("/echo")],
    );
    assert_eq!(echoed.len(), 200_000);
    let echoed = curl(
        &proxy,
        &["--data-binary", "small but chosen", &origin.url("/upload")],
    );
    assert_eq!(echoed, "small but chosen");
    let echoed = curl(&proxy, &["--data-binary", "small", &origin.url("/echo")]);
    assert_eq!(echoed, "small");
    let stopped = proxy.stop();
    let events = events(&stopped.stdout);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.ends_with("(body not kept)") && e.starts_with("request "))
            .count(),
        2,
        "{events:?}"
    );
    let kept: Vec<Option<usize>> = flows(&file)
        .iter()
        .map(|f| waylay_proxy::http::raw_content(f.request().unwrap()).map(|b| b.len()))
        .collect();
    assert_eq!(kept, [None, None, Some(5)]);
}

#[test]
fn a_slow_flow_does_not_hold_up_other_connections() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[]);
    let slow_proxy = proxy.url();
    let slow_url = origin.url("/slow");
    let slow = std::thread::spawn(move || {
        std::process::Command::new("curl")
            .args(["-s", "-x", &slow_proxy, &slow_url])
            .output()
            .unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    assert_eq!(
        curl(&proxy, &[&origin.url("/hello")]),
        "hello from origin\n"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "waited {:?} behind a slow flow",
        started.elapsed()
    );
    assert_eq!(
        String::from_utf8_lossy(&slow.join().unwrap().stdout),
        "slow\n"
    );
}

#[test]
fn interim_and_bodiless_responses_keep_the_connection_usable() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[]);
    let out = curl(&proxy, &["-i", &origin.url("/continue")]);
    assert!(
        out.starts_with("HTTP/1.1 200 OK\r\n") && out.ends_with("after continue\n"),
        "{out}"
    );
    // 204 and 304 carry no body; the next request on the same connection
    // still works.
    let out = curl(
        &proxy,
        &[
            "-i",
            &origin.url("/nocontent"),
            &origin.url("/notmodified"),
            &origin.url("/hello"),
        ],
    );
    assert!(
        out.starts_with("HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n"),
        "{out}"
    );
    assert!(
        out.contains("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK"),
        "{out}"
    );
    assert!(out.ends_with("hello from origin\n"), "{out}");
}

#[test]
fn a_server_that_closes_gets_a_new_connection_next_time() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["-s", "runner/tests/fixtures/recorder"]);
    let out = curl(&proxy, &[&origin.url("/close"), &origin.url("/close")]);
    assert_eq!(out, "closing\nclosing\n");
    let stopped = proxy.stop();
    assert_eq!(origin.connections(), 2);
    assert_eq!(
        events(&stopped.stdout)
            .iter()
            .filter(|e| *e == "server_connect")
            .count(),
        2
    );
}

/// Stalled flows on every I/O thread (three connections, dealt one to
/// each) are recorded as errors once the grace period is over.

#[test]
fn a_panic_after_a_streamed_response_closes_the_connection() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "-s",
        "runner/tests/fixtures/panicky",
        "--set",
        "stream_large_bodies=1",
    ]);
    // The body is out before `response` runs; the panic can only close the
    // connection, so curl's second request needs a new one.
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{num_connects}\n",
            "-x",
            &proxy.url(),
        ])
        .args([origin.url("/panic/response"), origin.url("/panic/response")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text, "404 1\n404 1\n",
        "each response arrived, each on its own connection"
    );
    let stopped = proxy.stop();
    assert_eq!(
        stopped
            .stderr
            .lines()
            .filter(|l| l.contains("hook `response` panicked"))
            .count(),
        2,
        "{}",
        stopped.stderr
    );
}

#[test]
fn a_request_to_the_proxy_itself_is_refused_not_looped() {
    let proxy = Proxy::start(&[]);
    let out = curl(&proxy, &["-i", &format!("http://{}/", proxy.addr)]);
    assert!(out.starts_with("HTTP/1.1 508 Loop Detected\r\n"), "{out}");
    assert!(
        out.contains("is this proxy; forwarding the request would loop"),
        "{out}"
    );
    let stopped = proxy.stop();
    assert!(
        stopped.stderr.contains("answered 508"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn another_loopback_address_on_the_proxys_port_is_not_a_loop() {
    // The proxy listens on 127.0.0.1 only; 127.0.0.2 on the same port is
    // another server, and the request goes there.
    let proxy = Proxy::start(&["--listen-host", "127.0.0.1"]);
    let port = proxy.addr.rsplit_once(':').unwrap().1;
    let origin = Origin::start_at(&format!("127.0.0.2:{port}"));
    let out = curl(&proxy, &["-i", &origin.url("/hello")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("hello from origin\n"), "{out}");
    assert_eq!(origin.connections(), 1);
    proxy.stop();
}
