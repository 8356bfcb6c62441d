//! `cargo xtask bench websocket`: WebSocket echoes/s through the live
//! proxy (examples/add_header), next to direct-to-origin and mitmdump with
//! add_header.py, in one run; and the memory an idle WebSocket costs the
//! proxy. The origin and the client are `ws_load`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures_util::StreamExt as _;

use crate::load::Measured;
use crate::peer;
use crate::procs::{
    Running, free_port, memory_kib, mitmdump, raise_open_files, runner, wait_ready,
};
use crate::util::{arg_value, cargo, root};
use crate::ws_load::{self, Target, Ws};

/// What the load runs with.
#[derive(Clone, Copy, Debug)]
struct Load {
    connections: usize,
    seconds: u64,
    window: usize,
    size: usize,
}

/// `load.connections` echo loops against `target` for `load.seconds`.
async fn measure(target: Target, load: Load) -> Result<Measured> {
    let deadline = Instant::now() + Duration::from_secs(load.seconds);
    let tasks: Vec<_> = (0..load.connections)
        .map(|_| {
            tokio::spawn(ws_load::run_connection(
                target,
                deadline,
                load.window,
                load.size,
            ))
        })
        .collect();
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await?);
    }
    Ok(Measured::of(tallies, load.seconds))
}

/// Memory per idle WebSocket: `n` opened through the proxy (with one
/// echo of that many bytes each if `echo`), then left idle; RSS after
/// less RSS before, over `n`, in KiB.
async fn idle_kib(proxy: &Running, target: Target, n: usize, echo: Option<usize>) -> Result<f64> {
    let before = memory_kib(proxy, "VmRSS");
    let opened: Vec<Result<Ws>> = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::stream::iter(0..n)
            .map(move |_| async move {
                let mut ws = ws_load::connect(target).await?;
                if let Some(size) = echo {
                    ws_load::round_trip(&mut ws, 0, size).await?;
                }
                anyhow::Ok(ws)
            })
            .buffer_unordered(32)
            .collect(),
    )
    .await
    .context("opening the idle WebSockets took over 120 s")?;
    let opened = opened.into_iter().collect::<Result<Vec<Ws>>>()?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = memory_kib(proxy, "VmRSS");
    let _ = tokio::time::timeout(
        Duration::from_secs(20),
        futures_util::stream::iter(opened).for_each_concurrent(64, |mut ws| async move {
            let _ = ws.close(None).await;
            while let Some(Ok(_)) = ws.next().await {}
        }),
    )
    .await;
    Ok((after - before) / n as f64)
}

pub fn websocket(args: &[&str]) -> Result<()> {
    let load = Load {
        connections: arg_value(args, "--connections", 8)?,
        seconds: arg_value(args, "--seconds", 10)? as u64,
        window: arg_value(args, "--window", 1)?.max(1),
        size: arg_value(args, "--size", 1024)?.max(8),
    };
    let idle_n = arg_value(args, "--idle", 1000)?.max(1);
    let client_threads = arg_value(args, "--client-threads", 1)?;
    // This process holds both ends of every idle WebSocket; the proxy its
    // two sockets. Raised before the children start, so they inherit it.
    raise_open_files(2 * idle_n as u64 + 1024)?;
    let python = peer::ensure()?;
    cargo(&["build", "--release", "-p", "runner"])?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let origin_port = ws_load::echo_origin()?;
    let waylay_port = free_port()?;
    let mut waylay = runner(&["-s", "examples/add_header"], waylay_port)?;
    let mitm_port = free_port()?;
    let mut mitm = mitmdump(&python, &py_script, mitm_port)?;
    wait_ready(&mut waylay, waylay_port)?;
    wait_ready(&mut mitm, mitm_port)?;
    let target = |proxy_port| Target {
        origin_port,
        proxy_port,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads.max(1))
        .enable_all()
        .build()?;

    // Idle memory first, before load has grown any pools; each Waylay
    // figure from a runner of its own, so that neither reuses memory the
    // other freed.
    eprintln!("xtask: {idle_n} idle WebSockets");
    let idle_waylay = |echo| {
        let port = free_port()?;
        let mut proxy = runner(&["-s", "examples/add_header"], port)?;
        wait_ready(&mut proxy, port)?;
        runtime.block_on(idle_kib(&proxy, target(Some(port)), idle_n, echo))
    };
    let (idle_plain, idle_echoed) = (idle_waylay(None)?, idle_waylay(Some(load.size))?);
    let (via_waylay, via_mitm) = (target(Some(waylay_port)), target(Some(mitm_port)));
    let idle_mitm = runtime.block_on(idle_kib(&mitm, via_mitm, idle_n, None))?;

    // A second Waylay that no stream has passed yet: it keeps every
    // message until it has seen a stream end (it learns that a script's
    // hook is not overridden when it first calls it). The first one, and
    // mitmdump, carry one short stream first.
    let cold_port = free_port()?;
    let mut cold = runner(&["-s", "examples/add_header"], cold_port)?;
    wait_ready(&mut cold, cold_port)?;
    for via in [via_waylay, via_mitm] {
        runtime.block_on(async {
            let mut ws = ws_load::connect(via).await?;
            ws_load::round_trip(&mut ws, 0, load.size).await?;
            ws.close(None).await?;
            while let Some(Ok(_)) = ws.next().await {}
            anyhow::Ok(())
        })?;
    }
    std::thread::sleep(Duration::from_millis(300));
    let rows = [
        ("direct to origin", target(None)),
        ("Waylay + add_header", via_waylay),
        ("mitmdump 11.0.2 + add_header.py", via_mitm),
        (
            "Waylay + add_header, before any stream has ended (keeps every message)",
            target(Some(cold_port)),
        ),
    ];
    let mut report = String::new();
    writeln!(
        report,
        "Origin: in-process tungstenite echo (one thread), no extensions. Client: tokio-tungstenite on {client_threads} thread(s), \
         {} connections, {} B binary messages, {} in flight per connection, {} s per row; through the proxies the upgrade is an \
         absolute-form `GET http://127.0.0.1:PORT/ws`.\n",
        load.connections, load.size, load.window, load.seconds
    )?;
    writeln!(report, "| target | messages/s | p50 | p99 | errors |")?;
    writeln!(report, "|---|---|---|---|---|")?;
    let peak = |p: &Running| memory_kib(p, "VmHWM") / 1024.0;
    let mut rates = Vec::new();
    for (name, target) in rows {
        eprintln!("xtask: {name}");
        let m = runtime.block_on(measure(target, load))?;
        if let Some(e) = &m.first_error {
            eprintln!("xtask: {name}: {} errors, the first: {e}", m.errors);
        }
        writeln!(
            report,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            m.per_second, m.p50_ms, m.p99_ms, m.errors
        )?;
        rates.push(m.per_second);
    }
    writeln!(
        report,
        "\nPeak RSS: Waylay {:.1} MiB (nothing reads the messages: relayed, not kept), Waylay before any stream \
         ended {:.1} MiB, mitmdump {:.1} MiB (mitmdump keeps every message until its flow ends).",
        peak(&waylay),
        peak(&cold),
        peak(&mitm)
    )?;
    drop((waylay, mitm, cold));
    let met = |ok: bool| if ok { "met" } else { "**missed**" };
    let (share, vs_mitm) = (rates[1] / rates[0], rates[1] / rates[2]);
    writeln!(
        report,
        "Waylay does {:.0}% of direct (target >= 40%: {}) and {:.1}x mitmdump (target >= 50x: {}); \
         before any stream has ended, {:.0}% of direct and {:.1}x mitmdump.",
        100.0 * share,
        met(share >= 0.40),
        vs_mitm,
        met(vs_mitm >= 50.0),
        100.0 * rates[3] / rates[0],
        rates[3] / rates[2]
    )?;
    writeln!(
        report,
        "Memory per idle WebSocket ({idle_n} open after the 101, idle 1.5 s; before any load): \
         Waylay {idle_plain:.1} KiB (target <= 32 KiB: {}), mitmdump {idle_mitm:.1} KiB. \
         Waylay after one {} B echo each: {idle_echoed:.1} KiB.",
        met(idle_plain <= 32.0),
        load.size
    )?;
    println!("{report}");
    std::fs::write(dir.join("websocket.md"), &report)?;
    Ok(())
}
