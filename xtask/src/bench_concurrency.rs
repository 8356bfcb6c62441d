//! `cargo xtask bench concurrency`: a `request` hook that blocks for 1 ms,
//! serialized and concurrent, at 64 connections, next to mitmproxy's
//! `@concurrent` on the same script; the same offline, a hook of 10 ms
//! over 200 saved flows (with `--against REV`, REV's runner beside the
//! working tree's); and how long an edit to a script takes to serve
//! traffic.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::bench_live::{origin, wrk};
use crate::peer;
use crate::procs::{free_port, mitmdump, runner, wait_listening};
use crate::util::{arg_value, root};

/// One keep-alive request; the value of its x-version header.
fn version(conn: &mut BufReader<TcpStream>, url: &str) -> Result<String> {
    conn.get_mut()
        .write_all(format!("GET {url} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
    let (mut length, mut version) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            bail!("the proxy closed the connection during a reload");
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse()?;
        }
        if let Some(v) = lower.strip_prefix("x-version:") {
            version = v.trim().to_owned();
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body)?;
    Ok(version)
}

fn script(version: u32) -> String {
    format!(
        "use waylay_sdk::{{Context, Flow, Script}};\n#[derive(Default)]\npub struct V;\nimpl Script for V {{\n    \
         fn response(&mut self, _: &Context, flow: &mut Flow) {{\n        if let Some(r) = flow.response_mut() {{ \
         r.headers_mut().set(\"x-version\", \"{version}\"); }}\n    }}\n}}\nwaylay_sdk::export_script!(V);\n"
    )
}

/// The SDK's version as a script's dependency asks for it (`0.7`), from
/// `script-sdk/Cargo.toml`: a crate made for another minor version is
/// refused, as it should be.
fn sdk_version() -> Result<String> {
    let manifest = std::fs::read_to_string(root().join("script-sdk/Cargo.toml"))?;
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.split('"').next())
        .context("no version in script-sdk/Cargo.toml")?;
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => Ok(format!("{major}.{minor}")),
        _ => bail!("script-sdk/Cargo.toml: version {version:?} is not MAJOR.MINOR.PATCH"),
    }
}

/// Seconds from saving src/lib.rs to the new build answering, best of 3.
fn reload_seconds(origin_port: u16) -> Result<f64> {
    let krate = root().join("target/bench/reload-script");
    let _ = std::fs::remove_dir_all(&krate);
    std::fs::create_dir_all(krate.join("src"))?;
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"reload_script\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nwaylay-sdk = \"{}\"\n\n[workspace]\n",
            sdk_version()?
        ),
    )?;
    std::fs::write(krate.join("src/lib.rs"), script(0))?;
    let port = free_port()?;
    let proxy = runner(&["-s", krate.to_str().context("a UTF-8 path")?], port)?;
    wait_listening(port)?;
    let url = format!("http://127.0.0.1:{origin_port}/");
    let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", port))?);
    conn.get_mut()
        .set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut v = 0;
    let best = crate::stats::best_of(3, || {
        v += 1;
        std::thread::sleep(Duration::from_millis(1500));
        let saved = Instant::now();
        std::fs::write(krate.join("src/lib.rs"), script(v))?;
        while version(&mut conn, &url)? != v.to_string() {
            if saved.elapsed() > Duration::from_secs(60) {
                bail!("the edit never took effect");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(saved.elapsed().as_secs_f64())
    })?;
    drop(proxy);
    Ok(best)
}

pub fn concurrency(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 10)? as u32;
    let python = peer::ensure()?;
    let variants = crate::ab::Variant::from_args(args)?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py = dir.join("nonblocking.py");
    std::fs::write(
        &py,
        "import time\nfrom mitmproxy.script import concurrent\n\n@concurrent\ndef request(flow):\n    time.sleep(0.001)\n",
    )?;
    let origin_port = origin()?;
    // Each variant's runner with the concurrent hook, the working tree's
    // with the serialized one, and mitmdump.
    let mut rows: Vec<(String, u16)> = Vec::new();
    let mut running = Vec::new();
    for v in &variants {
        let port = free_port()?;
        let hook = format!("{} 0.001", v.example("nonblocking"));
        running.push(crate::procs::runner_at(&v.runner, &["-s", &hook], port)?);
        rows.push((format!("Waylay ({}), concurrent hook", v.label), port));
    }
    let serial_port = free_port()?;
    running.push(runner(
        &["-s", "runner/tests/fixtures/blocking 0.001"],
        serial_port,
    )?);
    rows.push(("Waylay (working tree), serialized hook".into(), serial_port));
    let mitm_port = free_port()?;
    let mitm = mitmdump(&python, &py, mitm_port)?;
    rows.push(("mitmdump 11.0.2, @concurrent".into(), mitm_port));
    for (_, port) in &rows {
        wait_listening(*port)?;
    }
    let mut report = String::new();
    writeln!(
        report,
        "A `request` hook that sleeps 1 ms; wrk -t2 -c64, {seconds} s per row, 1 KiB responses.\n"
    )?;
    writeln!(report, "| proxy | requests/s | p50 |")?;
    writeln!(report, "|---|---|---|")?;
    let mut rates = Vec::new();
    for (name, port) in &rows {
        eprintln!("xtask: {name}");
        let load = wrk(
            &format!("http://127.0.0.1:{port}/"),
            origin_port,
            64,
            seconds,
            true,
        )?;
        writeln!(
            report,
            "| {name} | {:.0} | {:.2} ms |",
            load.rps, load.p50_ms
        )?;
        rates.push(load.rps);
    }
    drop((running, mitm));
    let (serial, mitm) = (rates[rates.len() - 2], rates[rates.len() - 1]);
    writeln!(
        report,
        "\nConcurrent vs serialized: {:.1}x. Concurrent Waylay vs mitmdump @concurrent: {:.1}x.",
        rates[0] / serial,
        rates[0] / mitm
    )?;
    if variants.len() > 1 {
        writeln!(
            report,
            "Concurrent hook, working tree over {}: {:.2}x.",
            variants[1].label,
            rates[0] / rates[1]
        )?;
    }
    offline(&variants, &python, &mut report)?;
    // Kept before the reload part, which builds a crate and may fail.
    std::fs::write(dir.join("concurrency.md"), &report)?;
    eprintln!("xtask: reload time");
    writeln!(
        report,
        "Save to serving after an edit to src/lib.rs (best of 3): {:.2} s.",
        reload_seconds(origin_port)?
    )?;
    println!("{report}");
    std::fs::write(dir.join("concurrency.md"), &report)?;
    Ok(())
}

/// Offline: `runner -n -r (all.mitm x 40) -s HOOK -w /dev/null` with a
/// `request` hook that sleeps 10 ms, concurrent and serialized, each
/// variant's runner; mitmdump `-n` with `@concurrent` on the same hook.
/// Best of 3 rounds, the rows interleaved.
fn offline(
    variants: &[crate::ab::Variant],
    python: &std::path::Path,
    report: &mut String,
) -> Result<()> {
    let dir = root().join("target/bench");
    let input = dir.join("flows-200.mitm");
    crate::bench::concat(&input, 40)?;
    let py = dir.join("nonblocking-10ms.py");
    std::fs::write(
        &py,
        "import time\nfrom mitmproxy.script import concurrent\n\n@concurrent\ndef request(flow):\n    time.sleep(0.01)\n",
    )?;
    let mitmdump = python.with_file_name("mitmdump");
    let waylay = |v: &crate::ab::Variant, script: String| {
        let mut c = std::process::Command::new(&v.runner);
        c.args(["-n", "-q", "-r"])
            .arg(&input)
            .args(["-s", &script, "-w", "/dev/null"]);
        c
    };
    let mut rows: Vec<(String, std::process::Command)> = Vec::new();
    for v in variants {
        rows.push((
            format!("Waylay ({}), concurrent hook", v.label),
            waylay(v, format!("{} 0.01", v.example("nonblocking"))),
        ));
    }
    let blocking = root().join("runner/tests/fixtures/blocking");
    rows.push((
        format!("Waylay ({}), serialized hook", variants[0].label),
        waylay(&variants[0], format!("{} 0.01", blocking.display())),
    ));
    rows.push((
        "mitmdump 11.0.2 -n, @concurrent".into(),
        crate::bench::mitmdump_script(&mitmdump, &py, &input, std::path::Path::new("/dev/null")),
    ));
    for (name, command) in &mut rows {
        eprintln!("xtask: offline, warming {name}");
        crate::bench::measure(command)?;
    }
    let mut best = vec![f64::MAX; rows.len()];
    for round in 1..=3 {
        for (i, (name, command)) in rows.iter_mut().enumerate() {
            eprintln!("xtask: offline round {round}: {name}");
            let wall = crate::bench::measure(command)?.wall.as_secs_f64();
            best[i] = best[i].min(wall);
        }
    }
    writeln!(
        report,
        "\nOffline: 200 saved flows (all.mitm x 40), a `request` hook that sleeps 10 ms (2 s one flow at a time), `-w /dev/null`, whole command, best of 3 interleaved rounds.\n"
    )?;
    writeln!(report, "| run | wall time | flows/s |")?;
    writeln!(report, "|---|---|---|")?;
    for ((name, _), wall) in rows.iter().zip(&best) {
        writeln!(report, "| {name} | {wall:.2} s | {:.0} |", 200.0 / wall)?;
    }
    Ok(())
}
