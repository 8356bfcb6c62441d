//! `cargo xtask bench live`: requests/s and latency through the live proxy
//! (examples/add_header), next to direct-to-origin and `mitmdump -s
//! add_header.py`, in one run. wrk drives keep-alive connections with
//! absolute-form request targets; the origin answers 1 KiB.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::peer;
use crate::util::{arg_value, cargo, root};

/// `cargo xtask origin PORT`: the benchmark's origin, until killed (for
/// profiling by hand).
pub fn serve_forever(port: u16) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream));
    }
    Ok(())
}

/// A keep-alive origin answering every request with 1 KiB.
pub(crate) fn origin() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    Ok(port)
}

fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let body = [b'x'; 1024];
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending = Vec::new();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        // Answer every complete head (wrk sends no bodies).
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let gigabyte = pending[..end].starts_with(b"GET /gigabyte");
            pending.drain(..end + 4);
            let sent = if gigabyte {
                send_gigabyte(&mut stream)
            } else {
                stream.write_all(&response)
            };
            if sent.is_err() {
                return;
            }
        }
    }
}

fn send_gigabyte(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 1u64 << 30).as_bytes(),
    )?;
    let block = vec![b'g'; 1 << 16];
    for _ in 0..(1 << 14) {
        stream.write_all(&block)?;
    }
    Ok(())
}

/// What wrk measured.
pub(crate) struct Load {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    p99_ms: f64,
    errors: String,
}

fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

pub(crate) fn wrk(
    target: &str,
    origin_port: u16,
    connections: u32,
    seconds: u32,
    absolute: bool,
) -> Result<Load> {
    let dir = root().join("target/bench");
    let script = dir.join("absolute.lua");
    std::fs::write(
        &script,
        format!(
            "request = function() return wrk.format(\"GET\", \"http://127.0.0.1:{origin_port}/\") end\n"
        ),
    )?;
    let threads = format!("-t{}", connections.min(2));
    let mut command = Command::new("wrk");
    command.args([
        threads.as_str(),
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
        "--timeout",
        "5s",
    ]);
    if absolute {
        command.arg("-s").arg(&script);
    }
    let out = command
        .arg(target)
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .context("wrk printed no Requests/sec")?;
    let p50 = field("50%")
        .and_then(|v| millis(&v))
        .context("wrk printed no 50% latency")?;
    let p99 = field("99%")
        .and_then(|v| millis(&v))
        .context("wrk printed no 99% latency")?;
    let errors = text
        .lines()
        .filter(|l| l.contains("Socket errors") || l.contains("Non-2xx"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Load {
        rps,
        p50_ms: p50,
        p99_ms: p99,
        errors,
    })
}

/// A memory figure of a running process from /proc, in KiB: `VmHWM`
/// (peak) or `VmRSS` (now).
pub(crate) fn memory_kib(child: &Running, field: &str) -> f64 {
    memory_kib_of(child.0.id(), field)
}

/// The current RSS of process `pid`, in KiB.
pub(crate) fn rss_kib_of(pid: u32) -> f64 {
    memory_kib_of(pid, "VmRSS")
}

fn memory_kib_of(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn peak_rss_mib(child: &Running) -> f64 {
    memory_kib(child, "VmHWM") / 1024.0
}

/// Memory per idle client connection: RSS with `n` connections open and
/// sent nothing, less RSS before, over `n`.
fn idle_kib_per_connection(child: &Running, port: u16, n: usize) -> Result<f64> {
    let before = memory_kib(child, "VmRSS");
    let idle: Vec<TcpStream> = (0..n)
        .map(|_| TcpStream::connect(("127.0.0.1", port)))
        .collect::<Result<_, _>>()?;
    std::thread::sleep(Duration::from_millis(1500));
    let after = memory_kib(child, "VmRSS");
    drop(idle);
    Ok((after - before) / n as f64)
}

pub(crate) fn wait_listening(port: u16) -> Result<()> {
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on port {port} after 60 s")
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process stopped (SIGINT, then kill) however the bench ends.
pub(crate) struct Running(pub(crate) Child);

/// `target/release/runner -q -p PORT ARGS`, stopped when dropped. Its CA
/// lives in `target/bench/waylay-conf` unless ARGS name a confdir: a bench
/// never writes to the user's home.
pub(crate) fn runner(args: &[&str], port: u16) -> Result<Running> {
    let mut command = Command::new(root().join("target/release/runner"));
    if !args.contains(&"--confdir") {
        command
            .arg("--confdir")
            .arg(root().join("target/bench/waylay-conf"));
    }
    let child = command
        .args(["-q", "-p", &port.to_string()])
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Running(child))
}

/// `mitmdump -q -s SCRIPT` on loopback at PORT, stopped when dropped.
pub(crate) fn mitmdump(
    python: &std::path::Path,
    script: &std::path::Path,
    port: u16,
) -> Result<Running> {
    mitmdump_with(python, script, port, &[])
}

/// `mitmdump` as above, with more arguments.
pub(crate) fn mitmdump_with(
    python: &std::path::Path,
    script: &std::path::Path,
    port: u16,
    extra: &[&str],
) -> Result<Running> {
    let child = Command::new(python.with_file_name("mitmdump"))
        .args(extra)
        .args([
            "-q",
            "--listen-host",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-s",
        ])
        .arg(script)
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Running(child))
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn live(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 10)? as u32;
    let python = peer::ensure()?;
    cargo(&["build", "--release", "-p", "runner"])?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let origin_port = origin()?;

    let waylay_port = free_port()?;
    let waylay = runner(&["-s", "examples/add_header"], waylay_port)?;
    let mitm_port = free_port()?;
    let mitm = mitmdump(&python, &py_script, mitm_port)?;
    wait_listening(waylay_port)?;
    wait_listening(mitm_port)?;
    // Idle memory first, before load has grown any pools.
    eprintln!("xtask: idle connections");
    let idle = (
        idle_kib_per_connection(&waylay, waylay_port, 1000)?,
        idle_kib_per_connection(&mitm, mitm_port, 1000)?,
    );

    let mut report = String::new();
    writeln!(
        report,
        "Origin: in-process, 1 KiB responses, keep-alive. Load: wrk -t2, {seconds} s per row, absolute-form targets through the proxies.\n"
    )?;
    writeln!(
        report,
        "| connections | target | requests/s | p50 | p99 | errors |"
    )?;
    writeln!(report, "|---|---|---|---|---|---|")?;
    let mut rates = Vec::new();
    let mut p50s = Vec::new();
    for connections in [1, 8, 64] {
        let rows = [
            (
                "direct to origin",
                format!("http://127.0.0.1:{origin_port}/"),
                false,
            ),
            (
                "Waylay + add_header",
                format!("http://127.0.0.1:{waylay_port}/"),
                true,
            ),
            (
                "mitmdump 11.0.2 + add_header.py",
                format!("http://127.0.0.1:{mitm_port}/"),
                true,
            ),
        ];
        for (name, target, absolute) in rows {
            eprintln!("xtask: {name}, {connections} connections");
            let load = wrk(&target, origin_port, connections, seconds, absolute)?;
            writeln!(
                report,
                "| {connections} | {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
                load.rps,
                load.p50_ms,
                load.p99_ms,
                if load.errors.is_empty() {
                    "none"
                } else {
                    &load.errors
                }
            )?;
            rates.push((connections, name, load.rps));
            p50s.push((connections, name, load.p50_ms));
        }
    }
    writeln!(
        report,
        "\nPeak RSS under load: Waylay {:.1} MiB, mitmdump {:.1} MiB.",
        peak_rss_mib(&waylay),
        peak_rss_mib(&mitm)
    )?;
    let p50 = |who: &str| {
        p50s.iter()
            .find(|(c, n, _)| *c == 1 && n.starts_with(who))
            .map_or(0.0, |r| r.2)
    };
    writeln!(
        report,
        "p50 latency added at 1 connection: Waylay {:.0} µs, mitmdump {:.0} µs (over direct's {:.0} µs).",
        1000.0 * (p50("Waylay") - p50("direct")),
        1000.0 * (p50("mitmdump") - p50("direct")),
        1000.0 * p50("direct")
    )?;
    writeln!(
        report,
        "Memory per idle client connection (1,000 open, before any load): Waylay {:.1} KiB, mitmdump {:.1} KiB.",
        idle.0, idle.1
    )?;
    eprintln!("xtask: a 1 GiB streamed body");
    let stream_port = free_port()?;
    let streaming = runner(
        &[
            "-s",
            "examples/add_header",
            "--set",
            "stream_large_bodies=1m",
        ],
        stream_port,
    )?;
    wait_listening(stream_port)?;
    let before = memory_kib(&streaming, "VmRSS");
    let fetched = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "-x",
            &format!("http://127.0.0.1:{stream_port}"),
        ])
        .arg(format!("http://127.0.0.1:{origin_port}/gigabyte"))
        .output()?;
    let extra = (memory_kib(&streaming, "VmHWM") - before) / 1024.0;
    writeln!(
        report,
        "A 1 GiB response streamed through Waylay ({} bytes arrived): peak RSS {:.1} MiB above the idle proxy's.",
        String::from_utf8_lossy(&fetched.stdout),
        extra
    )?;
    drop(streaming);
    for connections in [8, 64] {
        let rate = |who: &str| {
            rates
                .iter()
                .find(|(c, n, _)| *c == connections && n.starts_with(who))
                .map_or(0.0, |r| r.2)
        };
        writeln!(
            report,
            "At {connections} connections Waylay does {:.0}% of direct and {:.1}x mitmdump.",
            100.0 * rate("Waylay") / rate("direct"),
            rate("Waylay") / rate("mitmdump")
        )?;
    }
    drop((waylay, mitm));
    println!("{report}");
    std::fs::write(dir.join("live.md"), &report)?;
    Ok(())
}
