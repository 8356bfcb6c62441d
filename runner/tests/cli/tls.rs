//! HTTPS interception end to end: curl (HTTP/1.1 and h2) through the proxy
//! to in-test HTTPS origins, upstream certificate checks, the CA's life,
//! the leaf cache, h2 multiplexing and translation, and tunnels that pass
//! through.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;

use waylay_proxy::tnetstring::Value;

use crate::origin::Origin;
use crate::support::{Proxy, curl_https, flows, path_in, run, scratch};
use crate::tls_origin::{Cert, TlsOrigin};

/// curl through `proxy`, trusting its CA; returns stdout with headers.
fn curl_tls(proxy: &Proxy, args: &[&str]) -> String {
    crate::support::curl_https(proxy, &[&["-i"], args].concat())
}

fn trust(origin: &TlsOrigin) -> String {
    format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    )
}

fn text<'a>(d: &'a waylay_proxy::tnetstring::Dict, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn bytes<'a>(d: &'a waylay_proxy::tnetstring::Dict, key: &str) -> &'a [u8] {
    d.get(key).and_then(Value::as_bytes).unwrap_or_default()
}

#[test]
fn curl_reaches_an_https_origin_over_h1_and_h2_with_the_header_added() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let dir = scratch();
    let file = path_in(&dir, "https.mitm");
    let proxy = Proxy::start(&[
        "-s",
        "examples/add_header",
        "--set",
        &trust(&origin),
        "-w",
        &file,
    ]);
    let h1 = curl_tls(&proxy, &["--http1.1", &origin.url("/version")]);
    assert!(h1.contains("HTTP/1.1 200"), "{h1}");
    assert!(h1.contains("newheader: foo"), "{h1}");
    assert!(h1.ends_with("HTTP/1.1\n"), "the origin saw HTTP/1.1: {h1}");
    let h2 = curl_tls(&proxy, &["--http2", &origin.url("/version")]);
    assert!(h2.contains("HTTP/2 200"), "{h2}");
    assert!(h2.contains("newheader: foo"), "{h2}");
    assert!(h2.ends_with("HTTP/2.0\n"), "the origin saw h2: {h2}");
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    let saved = flows(&file);
    assert_eq!(saved.len(), 2);
    for (flow, version, alpn) in [
        (&saved[0], "HTTP/1.1", &b"http/1.1"[..]),
        (&saved[1], "HTTP/2.0", b"h2"),
    ] {
        let req = flow.request().unwrap();
        assert_eq!(bytes(req, "scheme"), b"https");
        assert_eq!(text(req, "host"), "localhost");
        assert_eq!(bytes(req, "http_version"), version.as_bytes());
        let client = flow.conn("client_conn").unwrap();
        assert_eq!(client.get("tls"), Some(&Value::Bool(true)));
        assert_eq!(text(client, "sni"), "localhost");
        assert_eq!(bytes(client, "alpn"), alpn);
        assert_eq!(text(client, "tls_version"), "TLSv1.3");
        assert!(!text(client, "cipher").is_empty());
        let server = flow.conn("server_conn").unwrap();
        assert_eq!(server.get("tls"), Some(&Value::Bool(true)));
        assert_eq!(text(server, "sni"), "localhost");
        assert_eq!(bytes(server, "alpn"), alpn);
        let certs = server
            .get("certificate_list")
            .and_then(Value::as_list)
            .unwrap();
        assert_eq!(certs.len(), 2, "the origin's leaf and CA");
        assert!(
            certs[0]
                .as_bytes()
                .unwrap()
                .starts_with(b"-----BEGIN CERTIFICATE-----\n")
        );
    }
}

#[test]
fn bad_upstream_certificates_fail_with_502_unless_insecure() {
    for (cert, why) in [
        (Cert::SelfSigned, "unknown issuer"),
        (Cert::Expired, "has expired"),
        (Cert::WrongHost, "is not valid for the name localhost"),
    ] {
        let origin = TlsOrigin::start(cert, false);
        let dir = scratch();
        let file = path_in(&dir, "bad.mitm");
        let proxy = Proxy::start(&["--set", &trust(&origin), "-w", &file]);
        let out = curl_tls(&proxy, &[&origin.url("/hello")]);
        // With no TLS server to follow, the client gets its first choice,
        // h2, as from mitmdump.
        assert!(out.contains("HTTP/2 502"), "{cert:?}: {out}");
        assert!(out.contains(why), "{cert:?}: {out}");
        assert!(out.contains("--ssl-insecure"), "says what to do: {out}");
        proxy.stop();
        let saved = flows(&file);
        assert_eq!(saved.len(), 1, "{cert:?}");
        assert!(saved[0].error_msg().unwrap().contains(why), "{cert:?}");

        let insecure = Proxy::start(&["-k"]);
        let out = curl_tls(&insecure, &[&origin.url("/hello")]);
        assert!(out.contains("hello from origin"), "{cert:?} with -k: {out}");
    }
}

#[test]
fn a_client_without_sni_gets_a_leaf_for_the_connect_address() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let dir = scratch();
    let file = path_in(&dir, "ip.mitm");
    let proxy = Proxy::start(&["--set", &trust(&origin), "-w", &file]);
    // curl sends no SNI for an IP address; it checks the leaf's IP SAN.
    let url = format!("https://127.0.0.1:{}/hello", origin.addr.port());
    let out = curl_tls(&proxy, &[&url]);
    assert!(out.contains("hello from origin"), "{out}");
    proxy.stop();
    let saved = flows(&file);
    let client = saved[0].conn("client_conn").unwrap();
    assert_eq!(client.get("sni"), Some(&Value::Null));
    assert_eq!(text(saved[0].request().unwrap(), "host"), "127.0.0.1");
}

/// Opens a tunnel through `proxy` to `host:port` by hand, speaks TLS in
/// it trusting the proxy's CA, and returns the leaf the proxy showed.
fn leaf_through(proxy: &Proxy, host: &str, port: u16) -> Vec<u8> {
    use rustls::pki_types::ServerName;
    use rustls::pki_types::pem::PemObject;
    let mut tcp = TcpStream::connect(&proxy.addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(tcp, "CONNECT {host}:{port} HTTP/1.1\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(proxy.ca_cert()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET /hello HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response);
    assert!(response.contains("hello from origin"), "{response}");
    tls.conn.peer_certificates().unwrap()[0].to_vec()
}

#[test]
fn a_second_connection_to_a_host_reuses_its_leaf() {
    let origin = TlsOrigin::start(Cert::Trusted, false);
    let proxy = Proxy::start(&["--set", &trust(&origin)]);
    let port = origin.addr.port();
    let first = leaf_through(&proxy, "localhost", port);
    let second = leaf_through(&proxy, "localhost", port);
    // Every mint has a fresh random serial: the same bytes mean no mint.
    assert_eq!(first, second, "the cached leaf is reused");
    let other = leaf_through(&proxy, "127.0.0.1", port);
    assert_ne!(first, other, "another host gets its own leaf");
}

#[test]
fn h2_streams_on_one_connection_are_flows_that_do_not_block_each_other() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let dir = scratch();
    let file = path_in(&dir, "streams.mitm");
    let proxy = Proxy::start(&["--set", &trust(&origin), "-w", &file]);
    let mut args: Vec<String> = ["--http2", "--parallel", "--parallel-max", "100"]
        .map(String::from)
        .to_vec();
    for i in 0..100 {
        args.push(origin.url(&format!("/slow/{i}")));
        args.extend(["-o".into(), "/dev/null".into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl_tls(&proxy, &args);
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    let saved = flows(&file);
    assert_eq!(saved.len(), 100);
    let first = text(saved[0].conn("client_conn").unwrap(), "id").to_owned();
    for flow in &saved {
        assert_eq!(
            text(flow.conn("client_conn").unwrap(), "id"),
            first,
            "one client connection"
        );
        let resp = flow.response().unwrap();
        assert_eq!(resp.get("status_code").and_then(Value::as_int), Some(200));
        assert_eq!(bytes(resp, "http_version"), b"HTTP/2.0");
    }
    assert!(
        origin.most_in_flight() > 10,
        "streams overlapped at the origin: at most {} at once",
        origin.most_in_flight()
    );
}

#[test]
fn h2_and_http11_are_translated_both_ways() {
    // An h2 client whose flows a script sends to an HTTP/1.1-only server,
    // then an HTTP/1.1 client whose flows go to an h2 server.
    for (client_h2, front_h2, back_h2) in [(true, true, false), (false, false, true)] {
        let front = TlsOrigin::start(Cert::Trusted, front_h2);
        let back = TlsOrigin::start(Cert::Trusted, back_h2);
        let dir = scratch();
        let file = path_in(&dir, "translated.mitm");
        let reroute = format!("recorder_reroute=localhost:{}", back.addr.port());
        let proxy = Proxy::start(&[
            "-s",
            "runner/tests/fixtures/recorder t",
            "--set",
            &reroute,
            "-k",
            "-w",
            &file,
        ]);
        let version = if client_h2 { "--http2" } else { "--http1.1" };
        let out = curl_tls(
            &proxy,
            &[version, "-d", "ping", &front.url("/reroute/echo")],
        );
        let (client_line, back_saw) = if client_h2 {
            ("HTTP/2 200", "HTTP/1.1")
        } else {
            ("HTTP/1.1 200", "HTTP/2.0")
        };
        assert!(out.contains(&format!("\n{client_line}")), "{out}");
        assert!(
            out.contains(&format!("x-origin-version: {back_saw}")),
            "{out}"
        );
        assert!(out.ends_with("ping"), "the body made it both ways: {out}");
        let stopped = proxy.stop();
        // The script saw the TLS details of both sides.
        let alpn = if client_h2 { "h2" } else { "http/1.1" };
        assert!(
            stopped
                .stdout
                .contains(&format!("t tls sni=Some(\"localhost\") alpn={alpn}")),
            "{}",
            stopped.stdout
        );
        assert!(
            stopped
                .stdout
                .contains("t server_cert [\"localhost\", \"127.0.0.1\"] issued by test origin CA"),
            "{}",
            stopped.stdout
        );
        let saved = flows(&file);
        let req = saved[0].request().unwrap();
        let resp = saved[0].response().unwrap();
        let (req_v, resp_v) = if client_h2 {
            ("HTTP/2.0", "HTTP/1.1")
        } else {
            ("HTTP/1.1", "HTTP/2.0")
        };
        assert_eq!(bytes(req, "http_version"), req_v.as_bytes());
        assert_eq!(bytes(resp, "http_version"), resp_v.as_bytes());
        assert_eq!(
            req.get("port").and_then(Value::as_int),
            Some(i64::from(back.addr.port()))
        );
    }
}

#[test]
fn ignored_hosts_pass_through_untouched() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let dir = scratch();
    let file = path_in(&dir, "ignored.mitm");
    let pattern = format!("^localhost:{}$", origin.addr.port());
    let proxy = Proxy::start(&["--ignore-hosts", &pattern, "-w", &file]);
    // The origin's own certificate reaches the client: only its CA works.
    let ca = origin.ca_file.display().to_string();
    let direct = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-x",
            &proxy.url(),
            "--cacert",
            &ca,
        ])
        .arg(origin.url("/hello"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&direct.stdout),
        "hello from origin\n"
    );
    let ours = curl_tls(&proxy, &[&origin.url("/hello")]);
    assert!(!ours.contains("hello from origin"), "{ours}");
    proxy.stop();
    assert!(
        flows(&file).is_empty(),
        "a passed-through tunnel is no flow"
    );

    let allowed = Proxy::start(&["--allow-hosts", "^elsewhere:"]);
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-x",
            &allowed.url(),
            "--cacert",
            &ca,
        ])
        .arg(origin.url("/hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from origin\n");
}

#[test]
fn plain_http_and_other_bytes_in_a_tunnel() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "plain.mitm");
    let proxy = Proxy::start(&["-s", "examples/add_header", "-w", &file]);
    // HTTP inside the tunnel is served as HTTP, script and all.
    let mut tcp = TcpStream::connect(&proxy.addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        tcp,
        "CONNECT {0} HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nHost: {0}\r\nConnection: close\r\n\r\n",
        origin.addr
    )
    .unwrap();
    let mut out = String::new();
    let _ = tcp.read_to_string(&mut out);
    assert!(
        out.starts_with("HTTP/1.1 200 Connection established\r\n\r\n"),
        "{out}"
    );
    assert!(out.contains("newheader: foo"), "{out}");
    assert!(out.ends_with("hello from origin\n"), "{out}");

    // Anything else passes through: an echo server echoes.
    let echo = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let echo_addr = echo.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = echo.accept() {
            let mut buf = [0u8; 64];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    let mut tcp = TcpStream::connect(&proxy.addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(tcp, "CONNECT {echo_addr} HTTP/1.1\r\n\r\n").unwrap();
    let mut head = [0u8; 39];
    tcp.read_exact(&mut head).unwrap();
    assert_eq!(&head[..], b"HTTP/1.1 200 Connection established\r\n\r\n");
    tcp.write_all(b"\x00\x01 not http").unwrap();
    let mut back = [0u8; 11];
    tcp.read_exact(&mut back).unwrap();
    assert_eq!(&back[..], b"\x00\x01 not http");
    drop(tcp);
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(
        saved.len(),
        2,
        "the HTTP flow and the other bytes' TCP flow"
    );
    assert_eq!(bytes(saved[0].request().unwrap(), "scheme"), b"http");
    assert_eq!(saved[1].kind_name(), "tcp");
}

#[test]
fn connect_to_a_closed_port_answers_502_and_records_the_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = scratch();
    let file = path_in(&dir, "refused.mitm");
    let proxy = Proxy::start(&["-w", &file]);
    let connect = format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n");
    let refused = format!("cannot connect to 127.0.0.1:{port}");
    crate::support::answers(&proxy.addr, connect, 502, &[&refused]);
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1);
    assert_eq!(bytes(saved[0].request().unwrap(), "method"), b"CONNECT");
    assert!(saved[0].error_msg().unwrap().contains("cannot connect"));
}

#[test]
fn the_ca_is_made_once_then_reused_and_a_broken_one_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let conf = dir.path().join("conf");
    let conf_arg = conf.display().to_string();
    let first = Proxy::start(&["--confdir", &conf_arg]);
    let made = first.stop();
    assert!(made.stdout.contains("Created a CA in"), "{}", made.stdout);
    let key = conf.join("waylay-ca.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the CA key is private");
    let cert = std::fs::read(conf.join("waylay-ca-cert.pem")).unwrap();
    assert!(conf.join("waylay-ca-cert.cer").exists());

    let again = Proxy::start(&["--confdir", &conf_arg]);
    let reused = again.stop();
    assert!(!reused.stdout.contains("Created a CA"), "{}", reused.stdout);
    assert_eq!(
        std::fs::read(conf.join("waylay-ca-cert.pem")).unwrap(),
        cert
    );

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loose = Proxy::start(&["--confdir", &conf_arg]).stop();
    assert!(
        loose.stderr.contains("readable by other users") && loose.stderr.contains("chmod 600"),
        "{}",
        loose.stderr
    );

    std::fs::write(&key, "garbage").unwrap();
    let broken = run(&["--confdir", &conf_arg, "-p", "0"]);
    assert_eq!(broken.code, 1);
    let line = broken.error_line();
    assert!(
        line.contains("waylay-ca.pem") && line.contains("move it away"),
        "{line}"
    );
}

#[test]
fn proxyauth_guards_connect_and_what_runs_inside_it() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let proxy = Proxy::start(&["--set", &trust(&origin), "--proxyauth", "ann:secret"]);
    let refused = curl_tls(&proxy, &[&origin.url("/hello")]);
    assert!(refused.starts_with("HTTP/1.1 407"), "{refused}");
    for version in ["--http1.1", "--http2"] {
        let out = curl_tls(
            &proxy,
            &["--proxy-user", "ann:secret", version, &origin.url("/hello")],
        );
        assert!(out.ends_with("hello from origin\n"), "{version}: {out}");
    }
}

#[test]
fn alpn_follows_the_server_a_client_offering_h2_to_an_http11_server_gets_http11() {
    let origin = TlsOrigin::start(Cert::Trusted, false);
    let dir = scratch();
    let file = path_in(&dir, "alpn.mitm");
    let proxy = Proxy::start(&["--set", &trust(&origin), "-w", &file]);
    let out = curl_tls(&proxy, &["--http2", &origin.url("/version")]);
    assert!(out.contains("\nHTTP/1.1 200"), "{out}");
    assert!(out.ends_with("HTTP/1.1\n"), "{out}");
    proxy.stop();
    let saved = flows(&file);
    let client = saved[0].conn("client_conn").unwrap();
    let offers = client.get("alpn_offers").and_then(Value::as_list).unwrap();
    assert!(
        offers.iter().any(|o| o.as_bytes() == Some(b"h2")),
        "{offers:?}"
    );
    assert_eq!(bytes(client, "alpn"), b"http/1.1");
}

/// The proxy's peak resident memory so far, in KiB.
fn peak_kib(proxy: &Proxy) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", proxy.pid()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap()
}

#[test]
fn http2_bodies_stream_both_ways_in_flat_memory_even_to_a_slow_reader() {
    let origin = TlsOrigin::start(Cert::Trusted, true);
    let trusted = format!(
        "ssl_verify_upstream_trusted_ca={}",
        origin.ca_file.display()
    );
    let dir = scratch();
    let file = path_in(&dir, "h2.mitm");
    let proxy = Proxy::start(&[
        "--set",
        "stream_large_bodies=1m",
        "--set",
        &trusted,
        "-w",
        &file,
    ]);
    // 300 MiB down over h2, no length announced.
    let down = curl_https(
        &proxy,
        &[
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{size_download}",
            &origin.url("/zeros/300"),
        ],
    );
    assert_eq!(down, format!("2 {}", 300u64 << 20));
    // 100 MiB up, read by the origin as it comes.
    let upload = path_in(&dir, "upload.bin");
    std::fs::File::create(&upload)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let up = curl_https(&proxy, &["--http2", "-T", &upload, &origin.url("/count")]);
    assert_eq!(up, (100u64 << 20).to_string());
    // A slow reader: the origin is fast, the client takes 40 MiB at
    // 20 MiB/s; flow control keeps the rest at the origin.
    let slow = curl_https(
        &proxy,
        &[
            "--http2",
            "--limit-rate",
            "20M",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            &origin.url("/zeros/40"),
        ],
    );
    assert_eq!(slow, (40u64 << 20).to_string());
    let peak = peak_kib(&proxy);
    assert!(
        peak < 64 * 1024,
        "peak RSS {peak} KiB while streaming over HTTP/2"
    );
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 3);
    for (i, flow) in saved.iter().enumerate() {
        let resp = flow.response().unwrap();
        assert_eq!(
            resp.get("http_version").and_then(Value::as_bytes),
            Some(&b"HTTP/2.0"[..])
        );
        let kept = !resp.get("content").is_none_or(Value::is_null);
        assert_eq!(
            kept,
            i == 1,
            "flow {i}: only the upload's short answer is kept"
        );
    }
    assert!(
        saved[1]
            .request()
            .unwrap()
            .get("content")
            .is_none_or(Value::is_null),
        "the upload streamed, not kept"
    );
}

#[test]
fn a_self_signed_certificate_made_with_openssl_is_trusted_as_itself() {
    let dir = scratch();
    let (cert, key) = (path_in(&dir, "cert.pem"), path_in(&dir, "key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-keyout", &key, "-out", &cert])
        .output()
        .expect("openssl runs (apt-get install openssl)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let origin = TlsOrigin::from_pem(cert.as_ref(), key.as_ref(), false);
    // Untrusted: a sentence, no Rust debug rendering.
    let refused = Proxy::start(&[]);
    let out = curl_https(&refused, &["-i", &origin.url("/hello")]);
    assert!(out.contains("HTTP/2 502"), "{out}");
    assert!(
        out.contains("is a CA certificate used as a server's own"),
        "{out}"
    );
    assert!(!out.contains("Other(") && !out.contains('{'), "{out}");
    refused.stop();
    // Trusted as exactly itself: accepted, though openssl marks it CA:TRUE.
    let trusted = format!("ssl_verify_upstream_trusted_ca={cert}");
    let proxy = Proxy::start(&["--set", &trusted]);
    let out = curl_https(&proxy, &[&origin.url("/hello")]);
    assert_eq!(out, "hello from origin\n");
    proxy.stop();
}
