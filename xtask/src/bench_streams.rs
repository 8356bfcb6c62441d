//! `cargo xtask bench streams [--seconds 60] [--connections 8] [--size
//! 1024] [--against REV]`: long-lived WebSockets at full speed through the
//! proxy with `-w`, for memory: the runner's RSS through the run, its peak,
//! and whether the capture holds every message. mitmdump with `-w` under
//! the same load is the peer; `--against REV` adds REV's runner (A/B), its
//! rows interleaved with the working tree's over `--rounds N`; `--memory
//! SIZE` sets the working tree's `stream_messages_memory`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::ab::Variant;
use crate::procs::{Running, free_port, memory_kib, mitmdump_with, runner_at, wait_ready};
use crate::util::{arg_text, arg_value, root};
use crate::ws_load::{self, Target};

/// What one row measured.
struct Row {
    name: String,
    per_second: f64,
    /// RSS in MiB at each quarter of the run.
    quarters: [f64; 4],
    peak_mib: f64,
    /// Messages in the capture, and how many the client's echoes account
    /// for at least and at most (a last echo may land past the deadline).
    captured: u64,
    expected: (u64, u64),
    errors: u64,
}

/// Every WebSocket message in the flow file at `path`.
fn captured_messages(path: &Path) -> Result<u64> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut n = 0;
    for flow in waylay_proxy::flowfile::FlowReader::new(file) {
        let flow = flow.with_context(|| format!("{}", path.display()))?;
        n += flow.websocket_messages().map_or(0, |m| m.len() as u64);
    }
    Ok(n)
}

/// The load through `proxy` for `seconds`, RSS sampled each quarter.
fn run_row(
    name: String,
    proxy: Running,
    port: u16,
    capture: &Path,
    origin_port: u16,
    args: (usize, u64, usize),
) -> Result<Row> {
    let (connections, seconds, size) = args;
    let target = Target {
        origin_port,
        proxy_port: Some(port),
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let load = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let tasks: Vec<_> = (0..connections)
                .map(|_| tokio::spawn(ws_load::run_connection(target, deadline, 1, size)))
                .collect();
            let (mut echoes, mut errors) = (0u64, 0u64);
            for task in tasks {
                let tally = task.await?;
                echoes += tally.latencies.len() as u64;
                errors += tally.errors;
            }
            anyhow::Ok((echoes, errors))
        })
    });
    let mut quarters = [0.0; 4];
    let start = Instant::now();
    for (i, q) in quarters.iter_mut().enumerate() {
        let at = start + Duration::from_secs(seconds) * (i as u32 + 1) / 4;
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        *q = memory_kib(&proxy, "VmRSS") / 1024.0;
    }
    let (echoes, errors) = load.join().expect("the load thread")?;
    let peak_mib = memory_kib(&proxy, "VmHWM") / 1024.0;
    // The client has closed every WebSocket; the flows are written.
    proxy.stop_within(Duration::from_secs(300))?;
    let captured = captured_messages(capture)?;
    let conns = connections as u64;
    Ok(Row {
        name,
        per_second: echoes as f64 / seconds as f64,
        quarters,
        peak_mib,
        captured,
        expected: (2 * echoes, 2 * (echoes + conns)),
        errors,
    })
}

pub fn streams(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 60)? as u64;
    let rounds = arg_value(args, "--rounds", 1)?.max(1);
    // `--memory SIZE`: the working tree's stream_messages_memory (REV's
    // runner may not know the option).
    let memory = arg_text(args, "--memory")?.map(|m| format!("stream_messages_memory={m}"));
    let connections = arg_value(args, "--connections", 8)?;
    let size = arg_value(args, "--size", 1024)?.max(8);
    let variants = Variant::from_args(args)?;
    let python = crate::peer::ensure()?;
    let dir = root().join("target/bench/streams");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let origin_port = ws_load::echo_origin()?;
    let load = (connections, seconds, size);
    let mut rows = Vec::new();
    for round in 1..=rounds {
        for (i, v) in variants.iter().enumerate() {
            let capture = dir.join(format!("waylay-{i}.mitm"));
            let port = free_port()?;
            let w = capture.display().to_string();
            let example = v.example("add_header");
            let mut args = vec!["-s", &example, "-w", &w];
            if let (0, Some(memory)) = (i, &memory) {
                args.extend(["--set", memory]);
            }
            let mut proxy = runner_at(&v.runner, &args, port)?;
            wait_ready(&mut proxy, port)?;
            let base = memory_kib(&proxy, "VmRSS") / 1024.0;
            eprintln!("xtask: Waylay ({}), round {round}", v.label);
            let name = format!(
                "Waylay + add_header, {}{}, round {round} (RSS before: {base:.1})",
                v.label,
                if i == 0 {
                    memory
                        .as_deref()
                        .map(|m| format!(", {m}"))
                        .unwrap_or_default()
                } else {
                    String::new()
                },
            );
            rows.push(run_row(name, proxy, port, &capture, origin_port, load)?);
            let _ = std::fs::remove_file(&capture);
        }
    }
    let capture = dir.join("mitmdump.mitm");
    let port = free_port()?;
    let w = capture.display().to_string();
    let mut mitm = mitmdump_with(&python, &py_script, port, &["-w", &w])?;
    wait_ready(&mut mitm, port)?;
    eprintln!("xtask: mitmdump");
    let name = "mitmdump 11.0.2 + add_header.py".to_owned();
    rows.push(run_row(name, mitm, port, &capture, origin_port, load)?);
    let _ = std::fs::remove_file(&capture);

    let mut report = String::new();
    writeln!(
        report,
        "Origin: in-process tungstenite echo. {connections} WebSockets, each sending {size} B binary messages one at a \
         time, each waiting for its echo, for {seconds} s; every proxy writes `-w`. RSS in MiB.\n"
    )?;
    writeln!(
        report,
        "| proxy | messages/s | RSS at 1/4 | 1/2 | 3/4 | end | peak RSS | messages in -w | every message kept | errors |"
    )?;
    writeln!(report, "|---|---|---|---|---|---|---|---|---|---|")?;
    for r in &rows {
        let kept = r.captured >= r.expected.0 && r.captured <= r.expected.1;
        writeln!(
            report,
            "| {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} (echoes account for {}–{}) | {} | {} |",
            r.name,
            r.per_second,
            r.quarters[0],
            r.quarters[1],
            r.quarters[2],
            r.quarters[3],
            r.peak_mib,
            r.captured,
            r.expected.0,
            r.expected.1,
            if kept { "yes" } else { "**no**" },
            r.errors
        )?;
    }
    let waylay = &rows[0];
    writeln!(
        report,
        "\nTarget: peak RSS <= 64 MiB with every message in -w: {}.",
        if waylay.peak_mib <= 64.0 && waylay.captured >= waylay.expected.0 {
            "met"
        } else {
            "**missed**"
        }
    )?;
    println!("{report}");
    std::fs::write(root().join("target/bench/streams.md"), &report)?;
    Ok(())
}
