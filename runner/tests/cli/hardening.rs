//! Malformed traffic, dying peers and the security defaults: each case
//! asserts what the client gets, the `error` event and the recorded flow.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::origin::Origin;
use crate::support::{Proxy, answers, curl, curl_https, flows, path_in, raw, scratch};

const RECORDER: &str = "runner/tests/fixtures/recorder t";

/// Requests a proxy must refuse rather than guess at: each is a way for
/// two HTTP parsers to disagree about where a message ends.
fn ambiguous(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "Content-Length with Transfer-Encoding",
            format!(
                "POST http://{origin}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
        ),
        (
            "two differing Content-Lengths",
            format!(
                "POST http://{origin}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
            ),
        ),
        (
            "obs-fold",
            format!("GET http://{origin}/hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
        ),
        (
            "bare LF",
            format!("GET http://{origin}/hello HTTP/1.1\nHost: x\n\n"),
        ),
        (
            "NUL in a field",
            format!("GET http://{origin}/hello HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"),
        ),
        (
            "invalid chunk size",
            format!(
                "POST http://{origin}/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
            ),
        ),
        (
            "Transfer-Encoding that does not end in chunked",
            format!(
                "POST http://{origin}/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello"
            ),
        ),
        (
            "Content-Length with a sign",
            format!(
                "POST http://{origin}/echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello"
            ),
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            format!(
                "POST http://{origin}/echo HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            ),
        ),
    ]
}

#[test]
fn ambiguous_requests_get_400_and_are_never_forwarded() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[]);
    for (_, bytes) in ambiguous(&origin.addr.to_string()) {
        answers(&proxy.addr, bytes, 400, &[]);
    }
    assert_eq!(origin.connections(), 0, "nothing reached the origin");
}

/// How hyper's HTTP/1 server treats the same bytes: "400" when it refuses
/// the request, "200" when its service is called with it. The README's
/// Security section states the differences.
#[test]
fn hyper_treats_the_same_bytes_like_this() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        |req: hyper::Request<hyper::body::Incoming>| async move {
                            use http_body_util::BodyExt;
                            let body = req.into_body().collect().await.map(|b| b.to_bytes());
                            let status = if body.is_ok() { 200 } else { 400 };
                            let mut resp = hyper::Response::new(http_body_util::Full::new(
                                bytes::Bytes::from_static(b"ok"),
                            ));
                            *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(resp)
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    let mut seen = Vec::new();
    for (what, bytes) in ambiguous("example.com") {
        let out = raw(&addr.to_string(), bytes.as_bytes());
        let status = out.get(9..12).unwrap_or("closed").to_owned();
        seen.push((what, status));
    }
    let expected = [
        ("Content-Length with Transfer-Encoding", "200"),
        ("two differing Content-Lengths", "400"),
        ("obs-fold", "400"),
        ("bare LF", "200"),
        ("NUL in a field", "400"),
        ("invalid chunk size", "400"),
        ("Transfer-Encoding that does not end in chunked", "400"),
        ("Content-Length with a sign", "400"),
        ("Transfer-Encoding in HTTP/1.0", "400"),
    ];
    let expected: Vec<(&str, String)> = expected
        .iter()
        .map(|(w, s)| (*w, (*s).to_owned()))
        .collect();
    assert_eq!(seen, expected);
}

/// Debian's nginx, or `None` (outside CI) to skip.
fn nginx() -> Option<&'static str> {
    let path = "/usr/sbin/nginx";
    if std::path::Path::new(path).exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{path} is missing; .ci/run installs Debian's nginx");
    }
    eprintln!("skipping: {path} is not installed (apt-get install nginx)");
    None
}

/// nginx as a reverse proxy in front of the origin, fed the same bytes:
/// its status, and whether the origin heard anything. The README's
/// Security section states the differences.
#[test]
fn nginx_treats_the_same_bytes_like_this() {
    let Some(nginx) = nginx() else { return };
    let dir = scratch();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut seen = Vec::new();
    for (what, _) in ambiguous("example.com") {
        // A fresh origin per case, to see which cases reach it.
        let origin = Origin::start();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off; master_process off; worker_processes 1; pid {0}/nginx.pid; error_log {0}/error.log;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{ access_log off; client_body_temp_path {0}; proxy_temp_path {0};\n\
                   server {{ listen {listen}; location / {{ proxy_pass http://{origin}; }} }} }}\n",
                dir.path().display(),
                origin = origin.addr
            ),
        )
        .unwrap();
        let mut child = std::process::Command::new(nginx)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        while TcpStream::connect(listen).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let bytes = ambiguous(&origin.addr.to_string())
            .into_iter()
            .find(|(w, _)| *w == what)
            .unwrap()
            .1
            // nginx is a reverse proxy: origin-form targets.
            .replacen(&format!("http://{}", origin.addr), "", 1);
        // Read what comes in two seconds: nginx keeps a good exchange's
        // connection open.
        let mut stream = TcpStream::connect(listen).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        stream.write_all(bytes.as_bytes()).unwrap();
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        let out = String::from_utf8_lossy(&got).into_owned();
        let _ = child.kill();
        let _ = child.wait();
        let status = out.get(9..12).unwrap_or("closed").to_owned();
        seen.push((what, status, origin.connections() > 0));
    }
    let expected = [
        ("Content-Length with Transfer-Encoding", "400", false),
        ("two differing Content-Lengths", "400", false),
        ("obs-fold", "400", false),
        ("bare LF", "200", true),
        ("NUL in a field", "400", false),
        ("invalid chunk size", "400", false),
        (
            "Transfer-Encoding that does not end in chunked",
            "501",
            false,
        ),
        ("Content-Length with a sign", "400", false),
        ("Transfer-Encoding in HTTP/1.0", "400", false),
    ];
    let expected: Vec<(&str, String, bool)> = expected
        .iter()
        .map(|(w, s, f)| (*w, (*s).to_owned(), *f))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_slowloris_client_gets_408_after_the_header_timeout() {
    let proxy = Proxy::start(&["--set", "header_timeout=1"]);
    let mut stream = TcpStream::connect(&proxy.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET http://example.com/ HTTP/1.1\r\nHost: exa")
        .unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
    assert!(out.contains("header_timeout (1s)"), "{out}");
    // An idle keep-alive connection is not a slowloris: it may wait.
    let mut idle = TcpStream::connect(&proxy.addr).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let origin = Origin::start();
    write!(
        idle,
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        origin.url("/hello")
    )
    .unwrap();
    let mut out = String::new();
    let _ = idle.read_to_string(&mut out);
    assert!(out.ends_with("hello from origin\n"), "{out}");
}

#[test]
fn huge_and_countless_headers_get_431() {
    let proxy = Proxy::start(&[]);
    let big = format!(
        "GET http://example.com/ HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    answers(&proxy.addr, big, 431, &[]);
    let many: String = (0..10_000).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET http://example.com/ HTTP/1.1\r\n{many}\r\n");
    answers(&proxy.addr, many, 431, &[]);
}

#[test]
fn servers_that_break_their_responses_fail_the_flow() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "broken.mitm");
    let proxy = Proxy::start(&["-s", RECORDER, "--set", "upstream_timeout=1", "-w", &file]);
    for (path, why) in [
        ("/bad-chunk", "invalid body framing"),
        ("/reset", "the connection closed in the middle of a message"),
        ("/garbage", "invalid response from the server"),
        ("/stall-body", "no data for 1s"),
    ] {
        let out = curl(&proxy, &["-i", &origin.url(path)]);
        assert!(out.starts_with("HTTP/1.1 502 "), "{path}: {out}");
        assert!(out.contains(why), "{path}: {out}");
    }
    let stopped = proxy.stop();
    for path in ["/bad-chunk", "/reset", "/garbage", "/stall-body"] {
        assert!(
            stopped.stdout.contains(&format!("t error {path}")),
            "{path}: {}",
            stopped.stdout
        );
    }
    let saved = flows(&file);
    assert_eq!(saved.len(), 4);
    assert!(saved.iter().all(|f| f.error_msg().is_some()));
}

#[test]
fn clients_that_vanish_mid_request_or_mid_response_are_recorded() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "vanished.mitm");
    let proxy = Proxy::start(&["-s", RECORDER, "-w", &file]);
    // Half a body, then gone.
    let mut stream = TcpStream::connect(&proxy.addr).unwrap();
    write!(
        stream,
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b",
        origin.url("/echo")
    )
    .unwrap();
    drop(stream);
    // A 32 MiB answer (more than the socket buffers take) to a client that
    // reads a little and leaves.
    let mut stream = TcpStream::connect(&proxy.addr).unwrap();
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: x\r\n\r\n",
        origin.url("/huge")
    )
    .unwrap();
    let mut some = [0u8; 100];
    stream.read_exact(&mut some).unwrap();
    drop(stream);
    std::thread::sleep(Duration::from_millis(500));
    // The proxy goes on serving.
    assert_eq!(
        curl(&proxy, &[&origin.url("/hello")]),
        "hello from origin\n"
    );
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 3, "{}", stopped.stdout);
    let errors: Vec<&str> = saved.iter().filter_map(|f| f.error_msg()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("reading the request body failed")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("the client went away")),
        "{errors:?}"
    );
    assert!(
        stopped.stdout.contains("t error /echo"),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.stdout.contains("t error /huge"),
        "{}",
        stopped.stdout
    );
}

#[test]
fn a_client_that_distrusts_the_ca_fails_its_handshake_and_nothing_else() {
    use crate::tls_origin::{Cert, TlsOrigin};
    let origin = TlsOrigin::start(Cert::Trusted, false);
    let trust = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let proxy = Proxy::start(&["--set", &trust]);
    // curl without --cacert does not trust Waylay's CA.
    let out = std::process::Command::new("curl")
        .args(["-s", "--max-time", "20", "-x", &proxy.url()])
        .arg(origin.url("/hello"))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(
        curl_https(&proxy, &[&origin.url("/hello")]),
        "hello from origin\n"
    );
    let stopped = proxy.stop();
    assert!(
        stopped
            .stderr
            .contains("the TLS handshake with the client failed"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("trust the waylay CA"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn security_defaults() {
    let proxy = Proxy::start(&[]);
    // Loopback unless told otherwise.
    assert!(proxy.addr.starts_with("127.0.0.1:"), "{}", proxy.addr);
    // Never a tunnel to itself.
    let to_itself = format!("CONNECT {} HTTP/1.1\r\n\r\n", proxy.addr);
    answers(&proxy.addr, to_itself, 508, &["is this proxy"]);
    // After interception, the confdir holds the CA's three files and no
    // leaf key.
    use crate::tls_origin::{Cert, TlsOrigin};
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let trust = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let tls = Proxy::start(&["--set", &trust]);
    assert_eq!(
        curl_https(&tls, &[&origin.url("/hello")]),
        "hello from origin\n"
    );
    let mut files: Vec<String> = std::fs::read_dir(&tls.confdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["waylay-ca-cert.cer", "waylay-ca-cert.pem", "waylay-ca.pem"]
    );
    // Upstream verification is on unless -k: an untrusted origin is a 502.
    let untrusted = Proxy::start(&[]);
    let out = curl_https(&untrusted, &[&origin.url("/hello")]);
    assert!(out.contains("unknown issuer"), "{out}");
}
