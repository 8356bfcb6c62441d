//! `cargo xtask bench modes`: the proxy modes of issue 11 next to their
//! peers, in one run: reverse mode's keep-alive requests/s (wrk) beside
//! nginx's `proxy_pass`, `mitmdump --mode reverse` and direct; a TCP echo
//! through CONNECT beside direct, hudsucker's tunnel and mitmdump; new SOCKS5 connections/s,
//! each with a 1-byte echo, beside mitmdump's and plain new connections.
//! `--against REV` adds REV's runner to every section (A/B in the same
//! run); `--origin nginx` puts nginx behind the reverse proxies instead of
//! the in-process origin. `--waylay-set NAME=VALUE` passes `--set
//! NAME=VALUE` to every Waylay (`io_threads=1`, say).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use tokio::runtime::Runtime;

use crate::ab::Variant;
use crate::bench_live::wrk;
use crate::nginx::{nginx, nginx_version};
use crate::peer;
use crate::procs::{
    Running, build_hudsucker, free_port, hudsucker, memory_kib, mitmdump_with, runner_at,
};
use crate::tcp_load::{self, CLIENT_THREAD, ORIGIN_THREAD, Route, Tally, measure};
use crate::tls_load::Measured;
use crate::util::{arg_value, root};

/// What the runs are given.
#[derive(Clone, Copy, Debug)]
struct Load {
    seconds: u64,
    connections: usize,
    size: usize,
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// `mitmdump --mode MODE -s add_header.py`, its CA under target/bench.
fn mitm(python: &Path, script: &Path, port: u16, mode: &str) -> Result<Running> {
    let conf = format!(
        "confdir={}",
        root().join("target/bench/mitm-conf").display()
    );
    mitmdump_with(python, script, port, &["--mode", mode, "--set", &conf])
}

pub fn modes(args: &[&str]) -> Result<()> {
    let load = Load {
        seconds: arg_value(args, "--seconds", 10)?.max(1) as u64,
        connections: arg_value(args, "--connections", 8)?.max(1),
        size: arg_value(args, "--size", 1024)?.max(8),
    };
    let client_threads = arg_value(args, "--client-threads", 1)?.max(1);
    let nginx_version = nginx_version()?;
    let python = peer::ensure()?;
    let variants = Variant::from_args(args)?;
    let waylay_set = crate::util::arg_text(args, "--waylay-set")?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let mut report = String::new();
    if let Some(set) = waylay_set {
        writeln!(report, "Every Waylay runs with `--set {set}`.\n")?;
    }
    let (origin, origin_text, origin_proc) = crate::bench_live::origin_from(args, &dir)?;
    reverse(
        &mut report,
        &variants,
        (&python, &py_script),
        &nginx_version,
        (origin, &origin_text),
        load,
        waylay_set,
    )?;
    drop(origin_proc);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .thread_name(CLIENT_THREAD)
        .enable_all()
        .build()?;
    let origin = tcp_load::echo_origin()?;
    writeln!(
        report,
        "\nTCP: an in-process echo origin (one thread), a tokio client on {client_threads} thread(s), \
         both in the xtask process; CPU is each part's share of one core over the row (2 cores in all). \
         Each proxy has carried one short stream before the rows.\n"
    )?;
    // Each Waylay and mitmdump in `mode`, each on a port of its own.
    let through = |mode: &str| -> Result<Through> {
        let mut waylays = Vec::new();
        for v in &variants {
            let port = free_port()?;
            let script = v.example("add_header");
            let mut args = vec!["-s", script.as_str()];
            if mode != "regular" {
                args.extend(["--mode", mode]);
            }
            if let Some(set) = waylay_set {
                args.extend(["--set", set]);
            }
            let mut waylay = runner_at(&v.runner, &args, port)?;
            wait_up(&mut waylay, port)?;
            waylays.push((v.label.clone(), waylay, port));
        }
        let mp = free_port()?;
        let mut mitm = mitm(&python, &py_script, mp, mode)?;
        wait_up(&mut mitm, mp)?;
        Ok(Through {
            waylays,
            mitm: (mitm, mp),
        })
    };

    // A long-lived connection each, one message in flight. hudsucker
    // tunnels bytes that are neither TLS nor HTTP with tokio's
    // `copy_bidirectional`: the relay with no flow at all.
    let connect = through("regular")?;
    build_hudsucker()?;
    let huds_port = free_port()?;
    let mut huds = hudsucker(huds_port)?;
    wait_up(&mut huds, huds_port)?;
    let size = load.size;
    let mut rows = connect.rows("direct to origin", "CONNECT", Route::Connect);
    let mitm_row = rows.pop().expect("rows end with mitmdump's");
    rows.push((
        "hudsucker 0.25, CONNECT tunnel (copy_bidirectional)".to_owned(),
        Route::Connect(huds_port),
        Some(&huds),
    ));
    rows.push(mitm_row);
    // One short stream through each proxy first: a proxy that has seen a
    // TCP flow end knows its scripts' stream hooks (Waylay learns that a
    // hook is not overridden when it first calls it).
    for (_, route, _) in &rows[1..] {
        let warm = tcp_load::echo_loop(
            *route,
            origin,
            Instant::now() + Duration::from_millis(200),
            size,
        );
        let tally = runtime.block_on(warm);
        ensure!(
            tally.errors == 0,
            "the warm-up stream through {route:?} failed: {}",
            tally.first_error.unwrap_or_default()
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    writeln!(
        report,
        "| TCP echo, {} B messages, {} connections | messages/s | p50 | p99 | errors | CPU: proxy / client / origin |",
        load.size, load.connections
    )?;
    writeln!(report, "|---|---|---|---|---|---|")?;
    let echo = table(&mut report, &runtime, &rows, load, |route, deadline| {
        tcp_load::echo_loop(route, origin, deadline, size)
    })?;
    let (mitm_at, huds_at) = (echo.len() - 1, echo.len() - 2);
    writeln!(
        report,
        "\nThrough CONNECT Waylay does {:.0}% of direct (target >= 40%: {}), {:.2}x hudsucker's tunnel \
         ({:.0}% of direct) and {:.1}x mitmdump. Peak RSS: Waylay {:.1} MiB, hudsucker {:.1} MiB, mitmdump {:.1} MiB.",
        100.0 * echo[1] / echo[0],
        met(echo[1] / echo[0] >= 0.40),
        echo[1] / echo[huds_at],
        100.0 * echo[huds_at] / echo[0],
        echo[1] / echo[mitm_at],
        memory_kib(&connect.waylays[0].1, "VmHWM") / 1024.0,
        memory_kib(&huds, "VmHWM") / 1024.0,
        memory_kib(&connect.mitm.0, "VmHWM") / 1024.0
    )?;
    ab_line(&mut report, &variants, &echo[1..huds_at])?;
    drop((connect, huds));

    // A new connection per echo.
    let socks = through("socks5")?;
    let rows = socks.rows("direct to origin (no handshake)", "socks5", Route::Socks5);
    writeln!(
        report,
        "\n| new connection, handshake, 1 B echo, close; {} workers | connections/s | p50 | p99 | errors | CPU: proxy / client / origin |",
        load.connections
    )?;
    writeln!(report, "|---|---|---|---|---|---|")?;
    let fresh = table(&mut report, &runtime, &rows, load, |route, deadline| {
        tcp_load::connect_loop(route, origin, deadline)
    })?;
    drop(socks);
    let mitm_at = fresh.len() - 1;
    writeln!(
        report,
        "\nSOCKS5: Waylay {:.0} new connections/s (target >= 5,000: {}), {:.1}x mitmdump, {:.0}% of plain new connections to the origin.",
        fresh[1],
        met(fresh[1] >= 5000.0),
        fresh[1] / fresh[mitm_at],
        100.0 * fresh[1] / fresh[0]
    )?;
    ab_line(&mut report, &variants, &fresh[1..mitm_at])?;
    println!("{report}");
    std::fs::write(dir.join("modes.md"), &report)?;
    Ok(())
}

/// The Waylays of a section (label, process, port) and its mitmdump.
struct Through {
    waylays: Vec<(String, Running, u16)>,
    mitm: (Running, u16),
}

/// A table row: what it is, how the load gets there, the proxy measured.
type Row<'a> = (String, Route, Option<&'a Running>);

impl Through {
    /// Direct first, then each Waylay, then mitmdump, each reached in
    /// `mode` (`route` of its port).
    fn rows(&self, direct: &str, mode: &str, route: fn(u16) -> Route) -> Vec<Row<'_>> {
        let mut rows = vec![(direct.to_owned(), Route::Direct, None)];
        for (label, waylay, port) in &self.waylays {
            rows.push((
                format!("Waylay ({label}), {mode} + add_header"),
                route(*port),
                Some(waylay),
            ));
        }
        rows.push((
            format!("mitmdump 11.0.2, {mode} + add_header.py"),
            route(self.mitm.1),
            Some(&self.mitm.0),
        ));
        rows
    }
}

/// With `--against`, the working tree's rate over REV's.
fn ab_line(report: &mut String, variants: &[Variant], rates: &[f64]) -> Result<()> {
    if let ([tree, rev], [a, b]) = (variants, rates) {
        writeln!(
            report,
            "A/B: {} / {} = {:.3}.",
            tree.label,
            rev.label,
            a / b
        )?;
    }
    Ok(())
}

/// Measures each row with `load.connections` copies of `each`, writes a
/// table line per row, and returns the rates.
fn table<F, Fut>(
    report: &mut String,
    runtime: &Runtime,
    rows: &[Row<'_>],
    load: Load,
    each: F,
) -> Result<Vec<f64>>
where
    F: Fn(Route, Instant) -> Fut,
    Fut: std::future::Future<Output = Tally> + Send + 'static,
{
    let mut rates = Vec::new();
    for (name, route, proxy) in rows {
        eprintln!("xtask: {name}");
        let cpu = || {
            (
                proxy.map_or(0.0, |p| tcp_load::process_cpu(p.0.id())),
                tcp_load::threads_cpu(CLIENT_THREAD),
                tcp_load::threads_cpu(ORIGIN_THREAD),
            )
        };
        let (before, started) = (cpu(), Instant::now());
        let m: Measured = measure(runtime, load.connections, load.seconds, |deadline| {
            each(*route, deadline)
        })?;
        let (after, wall) = (cpu(), started.elapsed().as_secs_f64());
        let share = |a: f64, b: f64| format!("{:.0}%", 100.0 * (a - b) / wall);
        if let Some(e) = &m.first_error {
            eprintln!("xtask: {name}: {} errors, the first: {e}", m.errors);
        }
        writeln!(
            report,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} | {} / {} / {} |",
            m.per_second,
            m.p50_ms,
            m.p99_ms,
            m.errors,
            if proxy.is_some() {
                share(after.0, before.0)
            } else {
                "-".to_owned()
            },
            share(after.1, before.1),
            share(after.2, before.2)
        )?;
        rates.push(m.per_second);
    }
    Ok(rates)
}

/// Reverse mode: wrk at `load.connections` keep-alive connections,
/// origin-form targets, against each reverse proxy and the origin.
fn reverse(
    report: &mut String,
    variants: &[Variant],
    (python, py_script): (&Path, &Path),
    nginx_version: &str,
    (origin, origin_text): (u16, &str),
    load: Load,
    waylay_set: Option<&str>,
) -> Result<()> {
    let upstream = format!("reverse:http://127.0.0.1:{origin}");
    let dir = root().join("target/bench");
    let mut rows: Vec<(String, u16)> = vec![("direct to origin".into(), origin)];
    let mut procs = Vec::new();
    for v in variants {
        let port = free_port()?;
        let script = v.example("add_header");
        let mut args = vec!["--mode", upstream.as_str(), "-s", script.as_str()];
        if let Some(set) = waylay_set {
            args.extend(["--set", set]);
        }
        let mut waylay = runner_at(&v.runner, &args, port)?;
        wait_up(&mut waylay, port)?;
        check_once(port, true)?;
        procs.push(waylay);
        rows.push((format!("Waylay ({}), reverse + add_header", v.label), port));
    }
    let ports = [free_port()?, free_port()?, free_port()?];
    let mut mitmdump = mitm(python, py_script, ports[0], &upstream)?;
    let mut nginx_one = nginx(&dir, ports[1], origin, 1)?;
    let mut nginx_two = nginx(&dir, ports[2], origin, 2)?;
    wait_up(&mut mitmdump, ports[0])?;
    wait_up(&mut nginx_one, ports[1])?;
    wait_up(&mut nginx_two, ports[2])?;
    check_once(origin, false)?;
    check_once(ports[0], true)?;
    check_once(ports[1], false)?;
    check_once(ports[2], false)?;
    rows.extend([
        (
            "mitmdump 11.0.2, reverse + add_header.py".to_owned(),
            ports[0],
        ),
        (format!("{nginx_version} proxy_pass, 1 worker"), ports[1]),
        (format!("{nginx_version} proxy_pass, 2 workers"), ports[2]),
    ]);
    writeln!(
        report,
        "Reverse: origin {origin_text}. wrk -t2 -c{}, {} s per row, keep-alive, origin-form targets. \
         {nginx_version}: proxy_pass to an upstream with `keepalive 32`, HTTP/1.1 to it, no rewriting.\n",
        load.connections, load.seconds
    )?;
    writeln!(
        report,
        "| reverse proxy, {} connections | requests/s | p50 | p99 | errors |",
        load.connections
    )?;
    writeln!(report, "|---|---|---|---|---|")?;
    let mut rates = Vec::new();
    for (name, port) in &rows {
        eprintln!("xtask: reverse, {name}");
        let l = wrk(
            &format!("http://127.0.0.1:{port}/"),
            origin,
            load.connections as u32,
            load.seconds as u32,
            false,
        )?;
        let errors = if l.errors.is_empty() {
            "none"
        } else {
            &l.errors
        };
        writeln!(
            report,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {errors} |",
            l.rps, l.p50_ms, l.p99_ms
        )?;
        rates.push(l.rps);
    }
    drop((procs, mitmdump, nginx_one, nginx_two));
    let n = rates.len();
    let (workers, nginx_best) = if rates[n - 1] >= rates[n - 2] {
        (2, rates[n - 1])
    } else {
        (1, rates[n - 2])
    };
    let (vs_nginx, vs_mitm) = (rates[1] / nginx_best, rates[1] / rates[n - 3]);
    writeln!(
        report,
        "\nReverse at {} connections: Waylay {:.2}x nginx (its faster row, {workers} worker(s); target >= 1.0x: {}), \
         {:.1}x mitmdump (target >= 40x: {}), {:.0}% of direct.",
        load.connections,
        vs_nginx,
        met(vs_nginx >= 1.0),
        vs_mitm,
        met(vs_mitm >= 40.0),
        100.0 * rates[1] / rates[0]
    )?;
    ab_line(report, variants, &rates[1..n - 3])?;
    // Give the sockets wrk left behind a moment before the next section.
    std::thread::sleep(Duration::from_millis(200));
    Ok(())
}

/// Waits up to five minutes for `child` to listen on `port`: the runner
/// builds its script first, and cargo may be waiting for a lock while
/// other builds run. An error at once if the child exits.
fn wait_up(child: &mut Running, port: u16) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.0.try_wait()? {
            bail!("the process meant for port {port} exited with {status} before listening");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on port {port} after 300 s")
}

/// One GET on a new connection: an error unless the answer is a 200 with
/// the origin's 1 KiB body and, if `added`, add_header's `newheader: foo`.
fn check_once(port: u16, added: bool) -> Result<()> {
    use std::io::{Read as _, Write as _};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
    let (mut answer, mut chunk) = (Vec::new(), [0u8; 4096]);
    loop {
        let n = tcp
            .read(&mut chunk)
            .with_context(|| format!("no whole answer from port {port} within 10 s"))?;
        ensure!(n > 0, "port {port} closed the connection mid-answer");
        answer.extend_from_slice(&chunk[..n]);
        let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("port {port} answered without Content-Length: {head}"))?;
        if answer.len() < end + 4 + length {
            continue;
        }
        ensure!(
            head.starts_with("http/1.1 200") && length == 1024,
            "port {port} answered {head:?} with {length} bytes"
        );
        ensure!(
            !added || head.contains("\r\nnewheader: foo"),
            "port {port}'s answer lacks newheader: foo: {head:?}"
        );
        return Ok(());
    }
}
