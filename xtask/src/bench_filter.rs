//! `cargo xtask bench filter`: the filter and rewriting figures of
//! BENCHMARKS.md. One compiled filter against one flow (target ≤ 1 µs);
//! `runner -n -r BIG -w OUT "~d example & ~s & !~t image"` against the
//! same mitmdump command (targets ≥ 300× and ≥ 250 MB/s); live requests/s
//! with four rewriting options set against none (target ≥ 90%). Prints a
//! Markdown report and keeps it in `target/bench/filter.md`.
//!
//! `--mb N` sizes the big file (1024), `--flows N` mitmdump's input
//! (2000), `--seconds N` each live row (10), `--rounds N` the live rounds
//! (3), `--iterations N` the match loop (200000).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use waylay_proxy::filter::Filter;

use crate::bench_live::{origin, wrk};
use crate::peer;
use crate::procs::{free_port, runner, wait_ready};
use crate::util::{arg_value, cargo, root};

/// The benchmark's expression, as the issue gives it.
const EXPRESSION: &str = "~d example & ~s & !~t image";

/// Other everyday expressions, for the match table.
const OTHERS: [&str; 5] = [
    "~u /path",
    "~h \"content-type: text\"",
    "~b needle",
    "~c 404 | ~e",
    "!(~tcp | ~dns )",
];

fn golden(name: &str) -> std::path::PathBuf {
    root().join("testdata/flows").join(name)
}

/// Nanoseconds per match of `expression` over `flows`, the flows' fields
/// already built (a warm flow, as in a hook).
fn per_match(expression: &str, flows: &[waylay_proxy::Flow], iterations: usize) -> Result<f64> {
    let filter = Filter::parse(expression).map_err(anyhow::Error::msg)?;
    let mut hits = 0usize;
    for flow in flows {
        hits += usize::from(filter.matches(flow));
    }
    let start = Instant::now();
    for i in 0..iterations {
        hits += usize::from(filter.matches(&flows[i % flows.len()]));
    }
    let elapsed = start.elapsed();
    std::hint::black_box(hits);
    Ok(elapsed.as_nanos() as f64 / iterations as f64)
}

/// `copies` of `unit` at `path` (kept when already that size).
fn repeat_file(path: &Path, unit: &[u8], copies: usize) -> Result<u64> {
    let want = (unit.len() * copies) as u64;
    if std::fs::metadata(path).is_ok_and(|m| m.len() == want) {
        return Ok(want);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for _ in 0..copies {
        std::io::Write::write_all(&mut out, unit)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(want)
}

fn timed(command: &mut Command) -> Result<Duration> {
    let shown = format!("{command:?}");
    let start = Instant::now();
    let status = command
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(start.elapsed())
}

pub fn filter(args: &[&str]) -> Result<()> {
    let mb = arg_value(args, "--mb", 1024)?;
    let flows_small = arg_value(args, "--flows", 2000)?;
    let seconds = arg_value(args, "--seconds", 10)? as u32;
    let rounds = arg_value(args, "--rounds", 3)?.max(1);
    let iterations = arg_value(args, "--iterations", 200_000)?.max(1);
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let mut r = String::new();

    // One compiled filter against one flow.
    let flows: Vec<waylay_proxy::Flow> = ["filters.mitm", "all.mitm"]
        .iter()
        .flat_map(|f| waylay_proxy::testing::read_flows(golden(f)))
        .collect();
    writeln!(
        r,
        "One compiled filter against one flow ({} flows of filters.mitm and all.mitm in turn, fields built; target <= 1 µs):\n",
        flows.len()
    )?;
    writeln!(r, "| expression | ns per match |")?;
    writeln!(r, "|---|---|")?;
    for expression in std::iter::once(EXPRESSION).chain(OTHERS) {
        let ns = per_match(expression, &flows, iterations)?;
        writeln!(r, "| `{expression}` | {ns:.0} |")?;
    }

    // Offline: the same command, Waylay and mitmdump.
    let python = peer::ensure()?;
    let mitmdump = python.with_file_name("mitmdump");
    cargo(&["build", "--release", "-p", "runner"])?;
    let runner_bin = root().join("target/release/runner");
    let mut unit = std::fs::read(golden("filters.mitm"))?;
    unit.extend(std::fs::read(golden("all.mitm"))?);
    let unit_flows = 27 + 5;
    let big = dir.join(format!("filter-{mb}mb.mitm"));
    let copies = (mb * 1024 * 1024).div_ceil(unit.len());
    eprintln!("xtask: writing a {mb} MB flow file");
    let big_bytes = repeat_file(&big, &unit, copies)?;
    let big_flows = copies * unit_flows;
    let small = dir.join(format!("filter-{flows_small}.mitm"));
    let small_copies = flows_small.div_ceil(unit_flows);
    repeat_file(&small, &unit, small_copies)?;
    let small_flows = small_copies * unit_flows;
    let empty = dir.join("empty.mitm");
    std::fs::write(&empty, b"")?;
    let out = dir.join("filter-out.mitm");
    let waylay = |input: &Path, filter: Option<&str>| {
        let mut c = Command::new(&runner_bin);
        c.args(["-n", "-q", "-r"])
            .arg(input)
            .arg("-w")
            .arg(&out)
            .args(filter);
        c
    };
    let mitm = |input: &Path| {
        let mut c = Command::new(&mitmdump);
        c.args(["-q", "-n", "-r"])
            .arg(input)
            .arg("-w")
            .arg(&out)
            .arg(EXPRESSION);
        c
    };
    eprintln!("xtask: waylay over {mb} MB");
    let w_plain = timed(&mut waylay(&big, None))?;
    let w_big = timed(&mut waylay(&big, Some(EXPRESSION)))?;
    let w_start = timed(&mut waylay(&empty, Some(EXPRESSION)))?;
    eprintln!("xtask: mitmdump over {small_flows} flows (slow)");
    let m_start = timed(&mut mitm(&empty))?;
    let m_run = timed(&mut mitm(&small))?;
    let secs = |d: Duration| d.as_secs_f64().max(1e-9);
    // mitmdump's rate with its start-up taken off; too few flows leave
    // nothing to measure.
    let m_work = m_run.saturating_sub(m_start);
    let m_rate = (m_work > m_start / 10).then(|| small_flows as f64 / secs(m_work));
    let w_rate = big_flows as f64 / secs(w_big);
    let mbps = |d: Duration| big_bytes as f64 / 1e6 / secs(d);
    writeln!(
        r,
        "\nOffline, `-n -q -r IN -w OUT \"{EXPRESSION}\"`; IN is filters.mitm + all.mitm repeated:\n"
    )?;
    writeln!(r, "| figure | Waylay | mitmdump 11.0.2 | ratio | target |")?;
    writeln!(r, "|---|---|---|---|---|")?;
    writeln!(
        r,
        "| MB/s, {:.0} MB ({big_flows} flows) | {:.0} | | | >= 250 |",
        big_bytes as f64 / 1e6,
        mbps(w_big)
    )?;
    writeln!(
        r,
        "| MB/s, same file, no filter | {:.0} | | | |",
        mbps(w_plain)
    )?;
    match m_rate {
        Some(m_rate) => writeln!(
            r,
            "| flows/s (mitmdump: {small_flows} flows, start-up subtracted) | {w_rate:.0} | {m_rate:.0} | {:.0}x | >= 300x |",
            w_rate / m_rate
        )?,
        None => writeln!(
            r,
            "| flows/s | {w_rate:.0} | too few flows (--flows {small_flows}) to time past start-up | | >= 300x |"
        )?,
    }
    writeln!(
        r,
        "| start-up | {:.3} s | {:.2} s | | |",
        secs(w_start),
        secs(m_start)
    )?;

    // Live: four rewriting options against none.
    let origin_port = origin()?;
    let four = [
        "--set",
        "anticache=true",
        "--set",
        "map_remote=|~d 127.0.0.1|/nowhere/|/elsewhere/",
        "--set",
        "modify_headers=|~q|x-bench|1",
        "--set",
        "modify_body=|~s|zzz|yyy",
    ];
    // For scale: what any script costs, since a hooked flow is recorded
    // (built as a flow) and the unhooked proxy skips that.
    let script = ["-s", "examples/add_header"];
    let configs = [
        ("no options", &[][..]),
        (
            "anticache, map_remote, modify_headers, modify_body",
            &four[..],
        ),
        (
            "no options, `-s examples/add_header` (for scale)",
            &script[..],
        ),
    ];
    // Every configuration runs at once, each its own runner; the rounds
    // interleave them, so that this VM's swings fall on all alike.
    let mut proxies = Vec::new();
    for (_, extra) in configs {
        let port = free_port()?;
        let mut proxy = runner(extra, port)?;
        wait_ready(&mut proxy, port)?;
        proxies.push((proxy, port));
    }
    let mut rps = vec![Vec::new(); configs.len()];
    let mut cpu_us = vec![Vec::new(); configs.len()];
    for round in 1..=rounds {
        for (i, (proxy, port)) in proxies.iter().enumerate() {
            eprintln!("xtask: live round {round}: {}", configs[i].0);
            let pid = proxy.0.id();
            let before = crate::tcp_load::process_cpu(pid);
            let load = wrk(
                &format!("http://127.0.0.1:{port}/"),
                origin_port,
                8,
                seconds,
                true,
            )?;
            let cpu = crate::tcp_load::process_cpu(pid) - before;
            rps[i].push(load.rps);
            cpu_us[i].push(cpu * 1e6 / (load.rps * f64::from(seconds)));
        }
    }
    drop(proxies);
    writeln!(
        r,
        "\nLive, wrk 8 connections, {seconds} s a row, 1 KiB responses from the \
         in-process origin; the three runners side by side, {rounds} rounds \
         interleaved; medians, each round's ratio to the no-options row of \
         the same round:\n"
    )?;
    writeln!(
        r,
        "| options | requests/s (median) | of none, per round | of none (median) | runner CPU per request | target |"
    )?;
    writeln!(r, "|---|---|---|---|---|---|")?;
    for (i, (name, _)) in configs.iter().enumerate() {
        let ratios: Vec<f64> = rps[i].iter().zip(&rps[0]).map(|(a, b)| a / b).collect();
        let each = ratios
            .iter()
            .map(|x| format!("{:.0}%", x * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            r,
            "| {name} | {:.0} | {each} | {:.0}% | {:.1} µs | {} |",
            crate::stats::median(&rps[i]),
            crate::stats::median(&ratios) * 100.0,
            crate::stats::median(&cpu_us[i]),
            if i == 1 { ">= 90%" } else { "" },
        )?;
    }
    println!("{r}");
    std::fs::write(dir.join("filter.md"), &r)?;
    Ok(())
}
