//! `cargo xtask bench live`: requests/s and latency through the live proxy
//! (examples/add_header), next to direct-to-origin, `mitmdump -s
//! add_header.py` and hudsucker with the same header added, in one run.
//! wrk drives keep-alive connections with absolute-form request targets;
//! the origin answers 1 KiB.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::peer;
use crate::procs::{
    Running, build_hudsucker, free_port, hudsucker, memory_kib, mitmdump, runner, wait_ready,
};
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
    pub(crate) p99_ms: f64,
    pub(crate) errors: String,
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
    run_wrk(target, absolute.then_some(&*script), connections, seconds)
}

/// wrk with a Lua script of the caller's (the requests it makes).
pub(crate) fn wrk_with(
    target: &str,
    script: &std::path::Path,
    connections: u32,
    seconds: u32,
) -> Result<Load> {
    run_wrk(target, Some(script), connections, seconds)
}

fn run_wrk(
    target: &str,
    script: Option<&std::path::Path>,
    connections: u32,
    seconds: u32,
) -> Result<Load> {
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
    if let Some(script) = script {
        command.arg("-s").arg(script);
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

pub fn live(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 10)? as u32;
    let python = peer::ensure()?;
    cargo(&["build", "--release", "-p", "runner"])?;
    build_hudsucker()?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let origin_port = origin()?;

    let waylay_port = free_port()?;
    let mut waylay = runner(&["-s", "examples/add_header"], waylay_port)?;
    let mitm_port = free_port()?;
    let mut mitm = mitmdump(&python, &py_script, mitm_port)?;
    let huds_port = free_port()?;
    let mut huds = hudsucker(huds_port)?;
    wait_ready(&mut waylay, waylay_port)?;
    wait_ready(&mut mitm, mitm_port)?;
    wait_ready(&mut huds, huds_port)?;
    // Idle memory first, before load has grown any pools.
    eprintln!("xtask: idle connections");
    let idle = (
        idle_kib_per_connection(&waylay, waylay_port, 1000)?,
        idle_kib_per_connection(&mitm, mitm_port, 1000)?,
        idle_kib_per_connection(&huds, huds_port, 1000)?,
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
            (
                "hudsucker 0.25 + the same header",
                format!("http://127.0.0.1:{huds_port}/"),
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
        "\nPeak RSS under load: Waylay {:.1} MiB, mitmdump {:.1} MiB, hudsucker {:.1} MiB.",
        peak_rss_mib(&waylay),
        peak_rss_mib(&mitm),
        peak_rss_mib(&huds)
    )?;
    let p50 = |who: &str| {
        p50s.iter()
            .find(|(c, n, _)| *c == 1 && n.starts_with(who))
            .map_or(0.0, |r| r.2)
    };
    writeln!(
        report,
        "p50 latency added at 1 connection: Waylay {:.0} µs, mitmdump {:.0} µs, hudsucker {:.0} µs (over direct's {:.0} µs).",
        1000.0 * (p50("Waylay") - p50("direct")),
        1000.0 * (p50("mitmdump") - p50("direct")),
        1000.0 * (p50("hudsucker") - p50("direct")),
        1000.0 * p50("direct")
    )?;
    writeln!(
        report,
        "Memory per idle client connection (1,000 open, before any load): Waylay {:.1} KiB, mitmdump {:.1} KiB, hudsucker {:.1} KiB.",
        idle.0, idle.1, idle.2
    )?;
    eprintln!("xtask: a 1 GiB streamed body");
    let stream_port = free_port()?;
    let mut streaming = runner(
        &[
            "-s",
            "examples/add_header",
            "--set",
            "stream_large_bodies=1m",
        ],
        stream_port,
    )?;
    wait_ready(&mut streaming, stream_port)?;
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
            "At {connections} connections Waylay does {:.0}% of direct, {:.1}x mitmdump and {:.2}x hudsucker.",
            100.0 * rate("Waylay") / rate("direct"),
            rate("Waylay") / rate("mitmdump"),
            rate("Waylay") / rate("hudsucker")
        )?;
        if connections == 8 {
            let (share, vs_huds) = (
                rate("Waylay") / rate("direct"),
                rate("Waylay") / rate("hudsucker"),
            );
            let met = |ok: bool| if ok { "met" } else { "**missed**" };
            writeln!(
                report,
                "Targets at 8 connections: Waylay >= 45% of direct ({:.0}%: {}); Waylay >= 1.25x hudsucker ({:.2}x: {}).",
                100.0 * share,
                met(share >= 0.45),
                vs_huds,
                met(vs_huds >= 1.25)
            )?;
        }
    }
    drop((waylay, mitm, huds));
    println!("{report}");
    std::fs::write(dir.join("live.md"), &report)?;
    Ok(())
}
