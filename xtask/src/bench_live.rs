//! `cargo xtask bench live`: requests/s and latency through the live proxy
//! (examples/add_header), next to direct-to-origin, `mitmdump -s
//! add_header.py` and hudsucker with the same header added, in one run.
//! wrk drives keep-alive connections with absolute-form request targets;
//! the origin answers 1 KiB: in-process, or nginx with `--origin nginx`.
//! `--against REV` adds REV's runner (A/B rows in the same run), and each
//! proxy's context switches and system calls per request are counted with
//! `perf stat` at 8 connections.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::ab::Variant;
use crate::peer;
use crate::procs::{
    Running, build_hudsucker, free_port, hudsucker, memory_kib, mitmdump, runner, runner_at,
    wait_ready,
};
use crate::util::{arg_value, root};

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

/// `--origin nginx` or the in-process origin (the default).
pub(crate) fn origin_from(
    args: &[&str],
    dir: &std::path::Path,
) -> Result<(u16, String, Option<Running>)> {
    match crate::util::arg_text(args, "--origin")? {
        None | Some("inproc") => Ok((
            origin()?,
            "in-process (a thread per connection), 1 KiB responses, keep-alive".into(),
            None,
        )),
        Some("nginx") => {
            let version = crate::nginx::nginx_version()?;
            let port = free_port()?;
            let mut nginx = crate::nginx::nginx_origin(dir, port, 2)?;
            wait_ready(&mut nginx, port)?;
            Ok((
                port,
                format!("{version}, 2 workers, `return 200` of 1 KiB, keep-alive"),
                Some(nginx),
            ))
        }
        _ => bail!("--origin takes nginx or inproc"),
    }
}

pub fn live(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 10)? as u32;
    let perf_seconds = arg_value(args, "--perf-seconds", 5)? as u32;
    let python = peer::ensure()?;
    let variants = Variant::from_args(args)?;
    build_hudsucker()?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let (origin_port, origin_text, origin_proc) = origin_from(args, &dir)?;
    // The 1 GiB download below is the in-process origin's.
    let inproc_port = if origin_proc.is_some() {
        origin()?
    } else {
        origin_port
    };

    let mut waylays = Vec::new();
    for v in &variants {
        let port = free_port()?;
        let mut proxy = runner_at(&v.runner, &["-s", &v.example("add_header")], port)?;
        wait_ready(&mut proxy, port)?;
        waylays.push((format!("Waylay + add_header ({})", v.label), port, proxy));
    }
    let mitm_port = free_port()?;
    let mut mitm = mitmdump(&python, &py_script, mitm_port)?;
    let huds_port = free_port()?;
    let mut huds = hudsucker(huds_port)?;
    wait_ready(&mut mitm, mitm_port)?;
    wait_ready(&mut huds, huds_port)?;
    // Idle memory first, before load has grown any pools.
    eprintln!("xtask: idle connections");
    let mut idle_waylay = Vec::new();
    for (name, port, proxy) in &waylays {
        idle_waylay.push((name.clone(), idle_kib_per_connection(proxy, *port, 1000)?));
    }
    let idle = (
        idle_kib_per_connection(&mitm, mitm_port, 1000)?,
        idle_kib_per_connection(&huds, huds_port, 1000)?,
    );

    let mut report = String::new();
    writeln!(
        report,
        "Origin: {origin_text}. Load: wrk -t2, {seconds} s per row, absolute-form targets through the proxies.\n"
    )?;
    writeln!(
        report,
        "| connections | target | requests/s | p50 | p99 | errors |"
    )?;
    writeln!(report, "|---|---|---|---|---|---|")?;
    let mut rates = Vec::new();
    let mut p50s = Vec::new();
    let mut rows = vec![("direct to origin".to_owned(), origin_port, false)];
    for (name, port, _) in &waylays {
        rows.push((name.clone(), *port, true));
    }
    rows.push(("mitmdump 11.0.2 + add_header.py".into(), mitm_port, true));
    rows.push(("hudsucker 0.25 + the same header".into(), huds_port, true));
    for connections in [1, 8, 64] {
        for (name, port, absolute) in &rows {
            eprintln!("xtask: {name}, {connections} connections");
            let target = format!("http://127.0.0.1:{port}/");
            let load = wrk(&target, origin_port, connections, seconds, *absolute)?;
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
            rates.push((connections, name.clone(), load.rps, load.p99_ms));
            p50s.push((connections, name.clone(), load.p50_ms));
        }
    }

    // Kernel work per request at 8 connections, each proxy on its own
    // (the origin's own share apart, unless it is nginx).
    writeln!(
        report,
        "\nKernel work per request at 8 connections (`perf stat -e context-switches,raw_syscalls:sys_enter` on the \
         proxy's process and threads, a {perf_seconds} s wrk run of its own):\n"
    )?;
    writeln!(
        report,
        "| process | requests/s | context switches / request | system calls / request |"
    )?;
    writeln!(report, "|---|---|---|---|")?;
    let mut counted: Vec<(String, Vec<u32>, u16, bool)> = Vec::new();
    if let Some(nginx) = &origin_proc {
        counted.push((
            "nginx origin (direct)".into(),
            crate::perf::with_children(nginx.0.id()),
            origin_port,
            false,
        ));
    }
    for (name, port, proxy) in &waylays {
        counted.push((name.clone(), vec![proxy.0.id()], *port, true));
    }
    counted.push(("hudsucker 0.25".into(), vec![huds.0.id()], huds_port, true));
    counted.push(("mitmdump 11.0.2".into(), vec![mitm.0.id()], mitm_port, true));
    let mut per_request = Vec::new();
    for (name, pids, port, absolute) in counted {
        eprintln!("xtask: perf stat, {name}");
        let target = format!("http://127.0.0.1:{port}/");
        let (load, counts) = crate::perf::stat(&pids, || {
            wrk(&target, origin_port, 8, perf_seconds, absolute)
        })?;
        let requests = (load.rps * f64::from(perf_seconds)).max(1.0);
        let cs = counts.context_switches as f64 / requests;
        let sc = counts.syscalls as f64 / requests;
        writeln!(report, "| {name} | {:.0} | {cs:.2} | {sc:.2} |", load.rps)?;
        per_request.push((name, cs));
    }
    let pr = |who: &str| {
        per_request
            .iter()
            .find(|(n, _)| n.starts_with(who))
            .map_or(0.0, |r| r.1)
    };
    writeln!(
        report,
        "\nTarget: Waylay's context switches per request <= hudsucker's ({:.2} against {:.2}: {}).",
        pr("Waylay"),
        pr("hudsucker"),
        if pr("Waylay") <= pr("hudsucker") {
            "met"
        } else {
            "**missed**"
        }
    )?;
    let peaks: Vec<String> = waylays
        .iter()
        .map(|(name, _, proxy)| format!("{name} {:.1} MiB", peak_rss_mib(proxy)))
        .collect();
    writeln!(
        report,
        "\nPeak RSS under load: {}, mitmdump {:.1} MiB, hudsucker {:.1} MiB.",
        peaks.join(", "),
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
    let idle_text: Vec<String> = idle_waylay
        .iter()
        .map(|(name, kib)| format!("{name} {kib:.1} KiB"))
        .collect();
    writeln!(
        report,
        "Memory per idle client connection (1,000 open, before any load): {}, mitmdump {:.1} KiB, hudsucker {:.1} KiB.",
        idle_text.join(", "),
        idle.0,
        idle.1
    )?;
    let origin_port = inproc_port;
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
        let row = |who: &str| {
            rates
                .iter()
                .find(|(c, n, _, _)| *c == connections && n.starts_with(who))
                .map_or((0.0, 0.0), |r| (r.2, r.3))
        };
        let rate = |who: &str| row(who).0;
        writeln!(
            report,
            "At {connections} connections Waylay does {:.0}% of direct, {:.1}x mitmdump and {:.2}x hudsucker.",
            100.0 * rate("Waylay") / rate("direct"),
            rate("Waylay") / rate("mitmdump"),
            rate("Waylay") / rate("hudsucker")
        )?;
        if waylays.len() > 1 {
            writeln!(
                report,
                "A/B at {connections} connections: {} / {} = {:.3}.",
                waylays[0].0,
                waylays[1].0,
                rate(&waylays[0].0) / rate(&waylays[1].0)
            )?;
        }
        if connections == 8 {
            let (share, vs_huds) = (
                rate("Waylay") / rate("direct"),
                rate("Waylay") / rate("hudsucker"),
            );
            let met = |ok: bool| if ok { "met" } else { "**missed**" };
            let (p99, huds_p99) = (row("Waylay").1, row("hudsucker").1);
            writeln!(
                report,
                "Targets at 8 connections: Waylay >= 45% of direct ({:.0}%: {}); Waylay >= 1.25x hudsucker ({:.2}x: {}); \
                 p99 <= hudsucker's ({p99:.2} ms against {huds_p99:.2} ms: {}).",
                100.0 * share,
                met(share >= 0.45),
                vs_huds,
                met(vs_huds >= 1.25),
                met(p99 <= huds_p99)
            )?;
        }
    }
    drop((waylays, mitm, huds, origin_proc));
    println!("{report}");
    std::fs::write(dir.join("live.md"), &report)?;
    Ok(())
}
