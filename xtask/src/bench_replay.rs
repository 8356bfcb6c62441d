//! `cargo xtask bench replay`: issue 12's figures, mitmdump 11.0.2 in the
//! same run. Server replay: requests/s served from a 10,000-flow `-S` file
//! (reuse on, so every request matches) at 8 keep-alive connections, wrk
//! cycling through the recorded URLs, beside mitmdump `-S` and a direct
//! origin; start-up with a 100,000-flow `-S` file (from exec to listening,
//! the index built); HAR export of 10,000 flows (`--set hardump`, offline)
//! beside mitmdump's `hardump`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use waylay_proxy::Flow;
use waylay_proxy::flowfile::{FlowReader, FlowWriter};
use waylay_proxy::http::Which;
use waylay_proxy::tnetstring::Value;

use crate::bench_live;
use crate::peer;
use crate::procs::{Running, free_port, memory_kib, mitmdump_with, runner};
use crate::util::{arg_value, cargo, root};

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// The recorded port: nothing listens there, so a request served without
/// its recording would fail.
const DEAD_PORT: u16 = 9;

/// `n` flows `GET http://127.0.0.1:9/r/I` → 200 `reply NNNNNN`, made from
/// the golden get.mitm flow, at `path` (kept between runs).
fn recorded(path: &Path, n: usize) -> Result<()> {
    if path.exists() {
        let mut reader = FlowReader::new(std::io::BufReader::new(std::fs::File::open(path)?));
        if reader.by_ref().take(n + 1).count() == n {
            return Ok(());
        }
    }
    let golden = root().join("testdata/flows/get.mitm");
    let template = FlowReader::new(std::fs::File::open(golden)?)
        .next()
        .context("get.mitm has a flow")??;
    let mut out = FlowWriter::new(std::io::BufWriter::new(std::fs::File::create(path)?));
    for i in 0..n {
        let mut flow: Flow = template.duplicate();
        let req = flow.message_mut(Which::Request).context("a request")?;
        req.insert("port", Value::Int(i64::from(DEAD_PORT)));
        req.insert("path", Value::bytes(format!("/r/{i}").as_bytes()));
        let resp = flow.message_mut(Which::Response).context("a response")?;
        let body = format!("reply {i:06}");
        resp.insert(
            "headers",
            Value::list(vec![
                Value::list(vec![
                    Value::bytes(b"content-type"),
                    Value::bytes(b"text/plain"),
                ]),
                Value::list(vec![
                    Value::bytes(b"content-length"),
                    Value::bytes(body.len().to_string().as_bytes()),
                ]),
            ]),
        );
        resp.insert("content", Value::bytes(body.as_bytes()));
        out.write_flow(&flow)?;
    }
    out.flush()?;
    Ok(())
}

/// wrk through a proxy at `port`, absolute-form GETs cycling through the
/// `n` recorded URLs.
fn wrk_cycling(target: &str, n: usize, connections: u32, seconds: u32) -> Result<bench_live::Load> {
    let script = root().join("target/bench/replay.lua");
    std::fs::write(
        &script,
        format!(
            "local i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", \"http://127.0.0.1:{DEAD_PORT}/r/\" .. (i % {n}))\nend\n"
        ),
    )?;
    bench_live::wrk_with(target, &script, connections, seconds)
}

/// One request through the proxy at `port`: an error unless it is the
/// recorded answer.
fn check_replayed(port: u16) -> Result<()> {
    use std::io::{Read as _, Write as _};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        tcp,
        "GET http://127.0.0.1:{DEAD_PORT}/r/7 HTTP/1.1\r\nHost: 127.0.0.1:{DEAD_PORT}\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !answer.ends_with(b"reply 000007") {
        let n = tcp.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    ensure!(
        text.starts_with("HTTP/1.1 200") && text.ends_with("reply 000007"),
        "the proxy on port {port} did not serve the recording: {text}"
    );
    Ok(())
}

/// Seconds from exec to listening on `port`.
fn time_to_listen(mut start: impl FnMut(u16) -> Result<Running>) -> Result<f64> {
    let port = free_port()?;
    let began = Instant::now();
    let mut child = start(port)?;
    while began.elapsed() < Duration::from_secs(600) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(began.elapsed().as_secs_f64());
        }
        if let Some(status) = child.0.try_wait()? {
            bail!("the process meant for port {port} exited with {status}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    bail!("nothing listens on port {port} after 600 s")
}

/// Wall seconds of a command run to completion, best of `n`.
fn best_wall(n: usize, mut command: impl FnMut() -> Command) -> Result<f64> {
    let best = crate::stats::best_time(n, || {
        let mut c = command();
        let out = c
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("running {c:?}"))?;
        ensure!(
            out.status.success(),
            "{c:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    })?;
    Ok(best.as_secs_f64())
}

fn har_entries(path: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.matches("\"startedDateTime\"").count())
}

pub fn replay(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 10)?.max(1) as u32;
    let connections = arg_value(args, "--connections", 8)?.max(1) as u32;
    let python = peer::ensure()?;
    cargo(&["build", "--release", "-p", "runner"])?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let ten = dir.join("replay-10k.mitm");
    let hundred = dir.join("replay-100k.mitm");
    recorded(&ten, 10_000)?;
    recorded(&hundred, 100_000)?;
    let empty_py = dir.join("nothing.py");
    std::fs::write(&empty_py, "# no hooks\n")?;
    let mitm_conf = format!("confdir={}", dir.join("mitm-conf").display());
    let s = |p: &PathBuf| p.display().to_string();
    let mut report = format!("Machine: {}.\n\n", crate::bench::machine());

    // Server replay throughput.
    let origin = bench_live::origin()?;
    let (wp, mp) = (free_port()?, free_port()?);
    let mut waylay = runner(&["-S", &s(&ten), "--set", "server_replay_reuse=true"], wp)?;
    let mut mitm = mitmdump_with(
        &python,
        &empty_py,
        mp,
        &[
            "-S",
            &s(&ten),
            "--set",
            "server_replay_reuse=true",
            "--set",
            &mitm_conf,
        ],
    )?;
    crate::procs::wait_ready(&mut waylay, wp)?;
    crate::procs::wait_ready(&mut mitm, mp)?;
    check_replayed(wp)?;
    check_replayed(mp)?;
    writeln!(
        report,
        "Server replay: a 10,000-flow `-S` file, `server_replay_reuse=true`; wrk -t2 -c{connections}, {seconds} s per row, keep-alive, \
         absolute-form GETs cycling through the 10,000 recorded URLs (whose server is down). Direct: the same wrk against the bench's \
         in-process origin (1 KiB answers), for scale.\n"
    )?;
    writeln!(
        report,
        "| {connections} connections | requests/s | p50 | p99 | errors | peak RSS |"
    )?;
    writeln!(report, "|---|---|---|---|---|---|")?;
    let mut rates = Vec::new();
    let rows: [(&str, Option<(u16, &Running)>); 3] = [
        ("direct to origin (no proxy)", None),
        ("Waylay -S", Some((wp, &waylay))),
        ("mitmdump 11.0.2 -S", Some((mp, &mitm))),
    ];
    for (name, proxy) in rows {
        eprintln!("xtask: server replay, {name}");
        let l = match proxy {
            None => bench_live::wrk(
                &format!("http://127.0.0.1:{origin}/"),
                origin,
                connections,
                seconds,
                false,
            )?,
            Some((port, _)) => wrk_cycling(
                &format!("http://127.0.0.1:{port}"),
                10_000,
                connections,
                seconds,
            )?,
        };
        let rss = proxy.map_or("-".to_owned(), |(_, p)| {
            format!("{:.1} MiB", memory_kib(p, "VmHWM") / 1024.0)
        });
        let errors = if l.errors.is_empty() {
            "none".to_owned()
        } else {
            l.errors.clone()
        };
        writeln!(
            report,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {errors} | {rss} |",
            l.rps, l.p50_ms, l.p99_ms
        )?;
        rates.push(l.rps);
    }
    drop((waylay, mitm));
    let vs = rates[1] / rates[2];
    writeln!(
        report,
        "\nServer replay: Waylay {:.1}x mitmdump (target >= 50x: {}).\n",
        vs,
        met(vs >= 50.0)
    )?;

    // Start-up with a 100,000-flow file.
    eprintln!("xtask: start-up with -S of 100,000 flows");
    let mut waylay_start = f64::MAX;
    let mut plain_start = f64::MAX;
    for _ in 0..3 {
        waylay_start =
            waylay_start.min(time_to_listen(|port| runner(&["-S", &s(&hundred)], port))?);
        plain_start = plain_start.min(time_to_listen(|port| runner(&[], port))?);
    }
    let mitm_start = time_to_listen(|port| {
        mitmdump_with(
            &python,
            &empty_py,
            port,
            &["-S", &s(&hundred), "--set", &mitm_conf],
        )
    })?;
    writeln!(
        report,
        "| start-up, exec to listening | seconds |\n|---|---|\n\
         | Waylay, no -S | {plain_start:.3} |\n\
         | Waylay -S, 100,000 flows ({:.0} MB), index built | {waylay_start:.3} |\n\
         | mitmdump 11.0.2 -S, the same file | {mitm_start:.2} |\n\n\
         Start-up with 100,000 flows: {waylay_start:.3} s (target <= 1 s: {}), {:.0}x faster than mitmdump.\n",
        std::fs::metadata(&hundred)?.len() as f64 / 1e6,
        met(waylay_start <= 1.0),
        mitm_start / waylay_start
    )?;

    // HAR export of 10,000 flows.
    eprintln!("xtask: HAR export of 10,000 flows");
    let ours = dir.join("replay-10k.waylay.har");
    let theirs = dir.join("replay-10k.mitmdump.har");
    let runner_bin = root().join("target/release/runner");
    let plain = best_wall(3, || {
        let mut c = Command::new(&runner_bin);
        c.args(["-n", "-q", "-r", &s(&ten)]);
        c
    })?;
    let waylay_har = best_wall(3, || {
        let mut c = Command::new(&runner_bin);
        c.args(["-n", "-q", "-r", &s(&ten), "--set"])
            .arg(format!("hardump={}", ours.display()));
        c
    })?;
    let mitm_har = best_wall(1, || {
        let mut c = Command::new(python.with_file_name("mitmdump"));
        c.args(["-n", "-q", "-r", &s(&ten), "--set"])
            .arg(format!("hardump={}", theirs.display()))
            .arg("--set")
            .arg(&mitm_conf);
        c
    })?;
    let (n_ours, n_theirs) = (har_entries(&ours)?, har_entries(&theirs)?);
    ensure!(
        n_ours == 10_000 && n_theirs == 10_000,
        "HAR entries: Waylay {n_ours}, mitmdump {n_theirs}; expected 10,000 each"
    );
    let vs = mitm_har / waylay_har;
    writeln!(
        report,
        "| offline over 10,000 flows | seconds (whole run) | HAR size |\n|---|---|---|\n\
         | Waylay, read only | {plain:.3} | - |\n\
         | Waylay, --set hardump | {waylay_har:.3} | {:.1} MB |\n\
         | mitmdump 11.0.2, --set hardump | {mitm_har:.2} | {:.1} MB |\n\n\
         HAR export: Waylay {vs:.0}x faster than mitmdump (target >= 50x: {}).",
        std::fs::metadata(&ours)?.len() as f64 / 1e6,
        std::fs::metadata(&theirs)?.len() as f64 / 1e6,
        met(vs >= 50.0)
    )?;
    println!("{report}");
    std::fs::write(dir.join("replay.md"), &report)?;
    Ok(())
}
