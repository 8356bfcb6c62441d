//! Proxy modes and TCP flows end to end, with real clients: curl against
//! a reverse listener, through SOCKS5 and through a chain of proxies (a
//! second Waylay, and mitmdump 11 as the upstream); raw TCP clients
//! through CONNECT and SOCKS5; mitmproxy reading what was captured.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use waylay_proxy::Flow;
use waylay_proxy::tnetstring::Value;

use crate::origin::Origin;
use crate::support::{Proxy, flows, path_in, run, scratch};
use crate::tcp_origin::{TcpOrigin, exchange, read_head, read_some, tunnel};
use crate::tls_origin::{Cert, TlsOrigin};

const RECORDER: &str = "runner/tests/fixtures/recorder";

fn proxy_mode(flow: &Flow) -> String {
    flow.conn("client_conn")
        .and_then(|c| c.get("proxy_mode"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A TCP flow's messages as `(from_client, text)`.
pub(crate) fn tcp_messages(flow: &Flow) -> Vec<(bool, String)> {
    flow.dict()
        .get("messages")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let m = m.as_list().unwrap();
            (
                matches!(m[0], Value::Bool(true)),
                String::from_utf8_lossy(m[1].as_bytes().unwrap()).into_owned(),
            )
        })
        .collect()
}

/// curl with ARGS, straight (no proxy setting); what it printed.
pub(crate) fn curl_raw(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_reverse_proxy_sends_every_request_to_its_server_and_rewrites_host() {
    let origin = Origin::start();
    let spec = format!("reverse:http://{}", origin.addr);
    let dir = scratch();
    let file = path_in(&dir, "reverse.mitm");
    let proxy = Proxy::start(&["--mode", &spec, "-s", "examples/add_header", "-w", &file]);
    let out = curl_raw(&["-i", &format!("http://{}/headers", proxy.addr)]);
    assert!(out.contains("newheader: foo"), "{out}");
    assert!(
        out.contains(&format!("Host: {}", origin.addr)),
        "the origin saw its own name as Host: {out}"
    );
    proxy.stop();
    let kept = Proxy::start(&["--mode", &spec, "--set", "keep_host_header=true"]);
    let out = curl_raw(&[&format!("http://{}/headers", kept.addr)]);
    assert!(out.contains(&format!("Host: {}", kept.addr)), "{out}");
    kept.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1);
    assert_eq!(proxy_mode(&saved[0]), spec);
    let req = saved[0].request().unwrap();
    assert_eq!(
        req.get("port").and_then(Value::as_int),
        Some(i64::from(origin.addr.port()))
    );
}

#[test]
fn a_reverse_tcp_proxy_records_tcp_flows_and_a_dead_server_is_tcp_error() {
    let echo = TcpOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "tcp.mitm");
    let spec = format!("reverse:tcp://{}", echo.addr);
    let proxy = Proxy::start(&["--mode", &spec, "-s", RECORDER, "-w", &file]);
    let mut client = TcpStream::connect(&proxy.addr).unwrap();
    assert_eq!(exchange(&mut client, b"ping\n"), "ECHO ping\n");
    drop(client);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert_eq!(saved[0].kind_name(), "tcp");
    assert_eq!(proxy_mode(&saved[0]), spec);
    assert_eq!(
        tcp_messages(&saved[0]),
        [(true, "ping\n".into()), (false, "ECHO ping\n".into())]
    );
    let events: Vec<&str> = stopped
        .stdout
        .lines()
        .filter_map(|l| l.split_once("] - ").map(|(_, e)| e))
        .filter(|e| e.starts_with("tcp"))
        .collect();
    assert_eq!(
        events.first().copied().map(|e| e.split(' ').next()),
        Some(Some("tcp_start"))
    );
    assert!(
        events.last().is_some_and(|e| e.starts_with("tcp_end")),
        "{events:?}"
    );

    // A server that is not there: the flow gets its error and tcp_error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let file = path_in(&dir, "dead.mitm");
    let spec = format!("reverse:tcp://{dead}");
    let proxy = Proxy::start(&["--mode", &spec, "-s", RECORDER, "-w", &file]);
    let mut client = TcpStream::connect(&proxy.addr).unwrap();
    let _ = client.write_all(b"anyone?");
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    let stopped = proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1, "{}", stopped.stderr);
    assert!(
        saved[0]
            .error_msg()
            .unwrap_or_default()
            .contains("cannot connect")
    );
    assert!(stopped.stdout.contains("tcp_error"), "{}", stopped.stdout);
}

#[test]
fn raw_tcp_through_connect_is_a_tcp_flow_and_so_is_a_server_that_speaks_first() {
    let echo = TcpOrigin::start(false);
    let banner = TcpOrigin::start(true);
    let dir = scratch();
    let file = path_in(&dir, "tcp.mitm");
    let proxy = Proxy::start(&["-w", &file]);
    for (origin, first) in [(&echo, None), (&banner, Some("HELLO from server\n"))] {
        let mut client = tunnel(&proxy.addr, origin.addr);
        if let Some(first) = first {
            assert_eq!(read_some(&mut client), first);
        }
        assert_eq!(
            exchange(&mut client, b"\x00binary\x01"),
            "ECHO \x00binary\x01"
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 2);
    assert!(saved.iter().all(|f| f.kind_name() == "tcp"));
    let banner_flow = saved
        .iter()
        .find(|f| tcp_messages(f).first().is_some_and(|m| !m.0))
        .expect("the banner flow starts with the server");
    assert_eq!(
        tcp_messages(banner_flow)[0],
        (false, "HELLO from server\n".into())
    );
}

#[test]
fn tcp_hosts_forces_tcp_flows_for_http_bytes() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "forced.mitm");
    let pattern = format!("tcp_hosts=127\\.0\\.0\\.1:{}", origin.addr.port());
    let proxy = Proxy::start(&["--set", &pattern, "-w", &file]);
    let mut client = TcpStream::connect(&proxy.addr).unwrap();
    let connect = format!("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n", origin.addr);
    client.write_all(connect.as_bytes()).unwrap();
    assert!(read_head(&mut client).starts_with("HTTP/1.1 200"));
    let get = format!(
        "GET /hello HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        origin.addr
    );
    client.write_all(get.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);
    assert!(answer.ends_with("hello from origin\n"), "{answer}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].kind_name(), "tcp");
}

#[test]
fn socks5_serves_curl_and_raw_tcp_and_checks_credentials() {
    let origin = Origin::start();
    let echo = TcpOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "socks.mitm");
    let proxy = Proxy::start(&["--mode", "socks5", "-s", "examples/add_header", "-w", &file]);
    let out = curl_raw(&[
        "-i",
        "--socks5-hostname",
        &proxy.addr,
        &origin.url("/hello"),
    ]);
    assert!(
        out.contains("newheader: foo") && out.ends_with("hello from origin\n"),
        "{out}"
    );
    // A raw client: greeting, CONNECT by IPv4, then bytes.
    let mut client = TcpStream::connect(&proxy.addr).unwrap();
    client.write_all(&[5, 1, 0]).unwrap();
    let mut choice = [0u8; 2];
    client.read_exact(&mut choice).unwrap();
    assert_eq!(choice, [5, 0]);
    let mut request = vec![5, 1, 0, 1, 127, 0, 0, 1];
    request.extend_from_slice(&echo.addr.port().to_be_bytes());
    client.write_all(&request).unwrap();
    let mut reply = [0u8; 10];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[..2], [5, 0]);
    assert_eq!(exchange(&mut client, b"over socks"), "ECHO over socks");
    drop(client);
    std::thread::sleep(std::time::Duration::from_millis(300));
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 2);
    assert!(saved.iter().all(|f| proxy_mode(f) == "socks5"));
    assert!(saved.iter().any(|f| f.kind_name() == "tcp"));

    let guarded = Proxy::start(&["--mode", "socks5", "--proxyauth", "user:pass"]);
    let url = origin.url("/hello");
    let good = curl_raw(&[
        "--socks5-hostname",
        &format!("user:pass@{}", guarded.addr),
        &url,
    ]);
    assert_eq!(good, "hello from origin\n");
    let bad = curl_raw(&[
        "--socks5-hostname",
        &format!("user:nope@{}", guarded.addr),
        &url,
    ]);
    assert!(bad.is_empty(), "{bad}");
    let none = curl_raw(&["--socks5-hostname", &guarded.addr, &url]);
    assert!(none.is_empty(), "{none}");
    guarded.stop();
}

#[test]
fn upstream_mode_chains_through_a_second_waylay_which_records_the_flows() {
    let origin = Origin::start();
    let tls_origin = TlsOrigin::start(Cert::Trusted, false);
    let dir = scratch();
    let file = path_in(&dir, "upstream.mitm");
    let trusted = format!(
        "ssl_verify_upstream_trusted_ca={}",
        tls_origin.ca_file.display()
    );
    let second = Proxy::start(&["--proxyauth", "up:secret", "--set", &trusted, "-w", &file]);
    // The first trusts the second's CA: the second intercepts its TLS.
    let spec = format!("upstream:http://{}", second.addr);
    let trusts_second = format!("ssl_verify_upstream_trusted_ca={}", second.ca_cert());
    let first = Proxy::start(&[
        "--mode",
        &spec,
        "--set",
        "upstream_auth=up:secret",
        "--set",
        &trusts_second,
        "-s",
        "examples/add_header",
    ]);
    let out = crate::support::curl(&first, &["-i", &origin.url("/hello")]);
    assert!(
        out.contains("newheader: foo") && out.ends_with("hello from origin\n"),
        "{out}"
    );
    let out = crate::support::curl_https(&first, &["-i", &tls_origin.url("/hello")]);
    assert!(
        out.contains("newheader: foo") && out.ends_with("hello from origin\n"),
        "{out}"
    );
    first.stop();
    second.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 2, "the second proxy saw both requests");
    let schemes: Vec<&[u8]> = saved
        .iter()
        .map(|f| {
            f.request()
                .unwrap()
                .get("scheme")
                .and_then(Value::as_bytes)
                .unwrap()
        })
        .collect();
    assert_eq!(schemes, [&b"http"[..], b"https"]);
}

#[test]
fn bad_modes_and_clashing_listeners_are_one_line_each() {
    let out = run(&["--mode", "reverse:ftp://example.com"]);
    assert_eq!(out.code, 1);
    assert!(
        out.error_line().starts_with("runner: error: --mode reverse:ftp://example.com: unknown scheme (\"ftp\"); the forms are"),
        "{}",
        out.stderr
    );
    let out = run(&["--mode", "regular@18123", "--mode", "socks5@18123"]);
    assert_eq!(
        out.error_line(),
        "runner: error: --mode regular@18123 and --mode socks5@18123 would both listen on 127.0.0.1:18123; give one its own port with @PORT"
    );
}

/// Two network namespaces joined by a veth pair: a client at 10.200.N.2
/// and a router at 10.200.N.1 whose iptables send port 8000 to the
/// proxy's port 8080 (REDIRECT). Removed when dropped.
struct Netns {
    client: String,
    router: String,
}

impl Netns {
    /// `None` outside CI when this machine cannot make namespaces.
    fn make() -> Option<Netns> {
        let id = std::process::id() % 200 + 20;
        let (client, router) = (format!("wlc{id}"), format!("wlr{id}"));
        let (vc, vr) = (format!("wlvc{id}"), format!("wlvr{id}"));
        let net = Netns { client, router };
        let steps: Vec<Vec<String>> = [
            "netns add {c}",
            "netns add {r}",
            "link add {vc} type veth peer name {vr}",
            "link set {vc} netns {c}",
            "link set {vr} netns {r}",
            "-n {c} addr add 10.200.{id}.2/24 dev {vc}",
            "-n {r} addr add 10.200.{id}.1/24 dev {vr}",
            "-n {c} link set {vc} up",
            "-n {r} link set {vr} up",
            "-n {c} link set lo up",
            "-n {r} link set lo up",
        ]
        .iter()
        .map(|s| {
            s.replace("{c}", &net.client)
                .replace("{r}", &net.router)
                .replace("{vc}", &vc)
                .replace("{vr}", &vr)
                .replace("{id}", &id.to_string())
                .split(' ')
                .map(str::to_owned)
                .collect()
        })
        .collect();
        let fail = |what: String| {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{what}");
            }
            eprintln!("skipping: {what}");
            None::<Netns>
        };
        for step in steps {
            let out = Command::new("ip").args(&step).output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => {
                    return fail(format!(
                        "ip {}: {}",
                        step.join(" "),
                        String::from_utf8_lossy(&o.stderr).trim()
                    ));
                }
                Err(e) => return fail(format!("cannot run ip (apt-get install iproute2): {e}")),
            }
        }
        let rule = format!(
            "-t nat -A PREROUTING -p tcp -d 10.200.{id}.1 --dport 8000 -j REDIRECT --to-ports 8080"
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &net.router, "iptables"])
            .args(rule.split(' '))
            .output();
        match out {
            Ok(o) if o.status.success() => Some(net),
            Ok(o) => fail(format!(
                "iptables {rule}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => fail(format!(
                "cannot run iptables (apt-get install iptables): {e}"
            )),
        }
    }

    fn router_ip(&self) -> String {
        format!("10.200.{}.1", &self.router[3..])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for ns in [&self.client, &self.router] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Kills a child when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn transparent_mode_finds_the_original_destination_in_a_namespace() {
    let Some(net) = Netns::make() else { return };
    let ip = net.router_ip();
    let www = scratch();
    std::fs::write(www.path().join("hello.txt"), "hello through the redirect\n").unwrap();
    let _origin = Child(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &net.router,
                "python3",
                "-m",
                "http.server",
                "8000",
                "--bind",
                &ip,
            ])
            .current_dir(www.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let dir = scratch();
    let file = path_in(&dir, "transparent.mitm");
    let mut proxy = Command::new("ip")
        .args(["netns", "exec", &net.router, env!("CARGO_BIN_EXE_runner")])
        .args([
            "--mode",
            "transparent",
            "--listen-host",
            "0.0.0.0",
            "-p",
            "8080",
            "-w",
            &file,
        ])
        .arg("--confdir")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(proxy.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening at") {
        line.clear();
        use std::io::BufRead;
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the proxy did not start"
        );
    }
    let proxy = Child(proxy);
    // The origin may take a moment to listen.
    let mut got = String::new();
    for _ in 0..50 {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &net.client,
                "curl",
                "-s",
                "--max-time",
                "10",
            ])
            .arg(format!("http://{ip}:8000/hello.txt"))
            .output()
            .unwrap();
        got = String::from_utf8_lossy(&out.stdout).into_owned();
        if !got.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(got, "hello through the redirect\n");
    let pid = proxy.0.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    std::thread::sleep(std::time::Duration::from_millis(500));
    drop(proxy);
    let saved = flows(&file);
    let hello = saved
        .iter()
        .find(|f| {
            f.request()
                .and_then(|r| r.get("path"))
                .and_then(Value::as_bytes)
                == Some(b"/hello.txt")
        })
        .expect("the redirected request was recorded");
    assert_eq!(proxy_mode(hello), "transparent");
    let req = hello.request().unwrap();
    assert_eq!(req.get("host").and_then(Value::as_str), Some(ip.as_str()));
    assert_eq!(req.get("port").and_then(Value::as_int), Some(8000));
}

#[test]
fn several_modes_listen_at_once_and_each_flow_says_its_own() {
    let origin = Origin::start();
    let dir = scratch();
    let file = path_in(&dir, "both.mitm");
    let proxy = Proxy::start(&["--mode", "regular", "--mode", "socks5", "-w", &file]);
    assert_eq!(proxy.addrs.len(), 2);
    let url = origin.url("/hello");
    assert_eq!(
        curl_raw(&["-x", &format!("http://{}", proxy.addrs[0]), &url]),
        "hello from origin\n"
    );
    assert_eq!(
        curl_raw(&["--socks5-hostname", &proxy.addrs[1], &url]),
        "hello from origin\n"
    );
    proxy.stop();
    let modes: Vec<String> = flows(&file).iter().map(proxy_mode).collect();
    assert_eq!(modes, ["regular", "socks5"]);
}

/// The venv with mitmproxy 11.0.2, or `None` (outside CI) to skip.
fn peer() -> Option<std::path::PathBuf> {
    let venv = crate::support::root().join("target/mitmproxy-venv/bin");
    if venv.join("mitmdump").exists() {
        return Some(venv);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing; `cargo xtask test` installs it",
            venv.display()
        );
    }
    eprintln!(
        "skipping: {} is missing; run `cargo xtask peer`",
        venv.display()
    );
    None
}

#[test]
fn upstream_mode_chains_through_mitmdump_which_records_the_flows() {
    let Some(venv) = peer() else { return };
    let origin = Origin::start();
    let tls_origin = TlsOrigin::start(Cert::Trusted, false);
    let dir = scratch();
    let file = path_in(&dir, "mitmdump.mitm");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut mitmdump = Command::new(venv.join("mitmdump"))
        .args([
            "-q",
            "--listen-host",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-w",
            &file,
        ])
        .arg("--set")
        .arg(format!("confdir={}", dir.path().display()))
        .arg("--set")
        .arg(format!(
            "ssl_verify_upstream_trusted_ca={}",
            tls_origin.ca_file.display()
        ))
        .spawn()
        .expect("mitmdump runs");
    let up = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if TcpStream::connect(&up).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let spec = format!("upstream:http://{up}");
    let trusts_mitmdump = format!(
        "ssl_verify_upstream_trusted_ca={}",
        dir.path().join("mitmproxy-ca-cert.pem").display()
    );
    let first = Proxy::start(&[
        "--mode",
        &spec,
        "--set",
        &trusts_mitmdump,
        "-s",
        "examples/add_header",
    ]);
    let out = crate::support::curl(&first, &["-i", &origin.url("/hello")]);
    assert!(
        out.contains("newheader: foo") && out.ends_with("hello from origin\n"),
        "{out}"
    );
    let out = crate::support::curl_https(&first, &["-i", &tls_origin.url("/hello")]);
    assert!(
        out.contains("newheader: foo") && out.ends_with("hello from origin\n"),
        "{out}"
    );
    first.stop();
    let _ = Command::new("kill")
        .args(["-INT", &mitmdump.id().to_string()])
        .status();
    let _ = mitmdump.wait();
    let saved = flows(&file);
    let schemes: Vec<&[u8]> = saved
        .iter()
        .map(|f| {
            f.request()
                .unwrap()
                .get("scheme")
                .and_then(Value::as_bytes)
                .unwrap()
        })
        .collect();
    assert_eq!(schemes, [&b"http"[..], b"https"], "mitmdump recorded both");
}

#[test]
fn mitmproxy_reads_proxy_modes_and_tcp_messages_from_a_capture() {
    let Some(venv) = peer() else { return };
    let echo = TcpOrigin::start(false);
    let dir = scratch();
    let file = path_in(&dir, "modes.mitm");
    let spec = format!("reverse:tcp://{}", echo.addr);
    let proxy = Proxy::start(&["--mode", &spec, "--mode", "socks5", "-w", &file]);
    let mut client = TcpStream::connect(&proxy.addrs[0]).unwrap();
    assert_eq!(exchange(&mut client, b"one"), "ECHO one");
    drop(client);
    let origin = Origin::start();
    let out = curl_raw(&["--socks5-hostname", &proxy.addrs[1], &origin.url("/hello")]);
    assert_eq!(out, "hello from origin\n");
    std::thread::sleep(std::time::Duration::from_millis(300));
    proxy.stop();
    let script = r#"
import sys
from mitmproxy import io
with open(sys.argv[1], "rb") as f:
    for flow in io.FlowReader(f).stream():
        print(flow.type, flow.client_conn.proxy_mode.full_spec)
        if flow.type == "tcp":
            for m in flow.messages:
                print("client" if m.from_client else "server", m.content.decode())
"#;
    let out = Command::new(venv.join("python"))
        .args(["-c", script, &file])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    let mut expected = vec![
        format!("tcp {spec}"),
        "client one".to_owned(),
        "server ECHO one".to_owned(),
        "http socks5".to_owned(),
    ];
    expected.sort();
    assert_eq!(lines, expected);
}

#[test]
fn tls_with_other_bytes_inside_is_a_tcp_flow_over_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let echo = crate::tcp_origin::TlsEcho::start();
    let trusted = format!("ssl_verify_upstream_trusted_ca={}", echo.ca_file.display());
    let dir = scratch();
    let file = path_in(&dir, "tls-tcp.mitm");
    let proxy = Proxy::start(&["--set", &trusted, "-w", &file]);
    let ca = std::fs::read(proxy.ca_cert()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(async {
        let mut stream = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
        let connect = format!(
            "CONNECT localhost:{0} HTTP/1.1\r\nHost: localhost:{0}\r\n\r\n",
            echo.addr.port()
        );
        stream.write_all(connect.as_bytes()).await.unwrap();
        let mut head = [0u8; 39];
        stream.read_exact(&mut head).await.unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&ca) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, stream).await.unwrap();
        tls.write_all(b"\x01\x02 not http").await.unwrap();
        let mut buf = [0u8; 64];
        let n = tls.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    assert_eq!(answer, "ECHO \x01\x02 not http");
    std::thread::sleep(std::time::Duration::from_millis(300));
    proxy.stop();
    let saved = flows(&file);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].kind_name(), "tcp");
    assert_eq!(
        tcp_messages(&saved[0]),
        [
            (true, "\u{1}\u{2} not http".into()),
            (false, "ECHO \u{1}\u{2} not http".into())
        ]
    );
    let tls = |side: &str| {
        saved[0]
            .conn(side)
            .and_then(|c| c.get("tls"))
            .is_some_and(|v| matches!(v, Value::Bool(true)))
    };
    assert!(
        tls("client_conn") && tls("server_conn"),
        "TLS on both sides"
    );
}
