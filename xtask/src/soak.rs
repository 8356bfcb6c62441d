//! `cargo xtask soak [--seconds 60] [--clients 1000] [--idle 10000]`: the
//! live proxy under a long load on loopback, bounded in time.
//!
//! 1. `--clients` keep-alive clients through `examples/add_header` with
//!    `-w`, for `--seconds`; every error counted; RSS sampled each second.
//! 2. `--idle` connections opened and held: memory per connection.
//! 3. SIGTERM: the capture must hold exactly the requests that were
//!    answered, each with its response.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::bench_live::origin;
use crate::procs::{free_port, memory_kib, runner, wait_listening};
use crate::util::{arg_value, cargo, root};

/// One keep-alive client until `deadline`: how many answers, how many
/// failures (the first one's text).
async fn client(proxy: u16, origin: u16, deadline: Instant) -> (u64, u64, Option<String>) {
    let request =
        format!("GET http://127.0.0.1:{origin}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin}\r\n\r\n");
    let mut answered = 0;
    let mut failed = 0;
    let mut first = None;
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(4096);
    while Instant::now() < deadline {
        let result: Result<()> = async {
            if stream.is_none() {
                let s = TcpStream::connect(("127.0.0.1", proxy)).await?;
                s.set_nodelay(true)?;
                stream = Some(s);
            }
            let s = stream.as_mut().expect("just set");
            s.write_all(request.as_bytes()).await?;
            let (head, _) = crate::tls_load::read_response(s, &mut buf).await?;
            if !head.starts_with("http/1.1 200") || !head.contains("newheader: foo") {
                bail!(
                    "unexpected answer: {}",
                    head.lines().next().unwrap_or_default()
                );
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => answered += 1,
            Err(e) => {
                failed += 1;
                first.get_or_insert(format!("{e:#}"));
                stream = None;
            }
        }
    }
    (answered, failed, first)
}

pub fn soak(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 60)? as u64;
    let clients = arg_value(args, "--clients", 1000)?;
    let idle_count = arg_value(args, "--idle", 10_000)?;
    cargo(&["build", "--release", "-p", "runner"])?;
    let dir = root().join("target/soak");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let capture = dir.join("soak.mitm");
    let origin_port = origin()?;
    let port = free_port()?;
    let confdir = dir.join("conf").display().to_string();
    let proxy = runner(
        &[
            "-s",
            "examples/add_header",
            "--confdir",
            &confdir,
            "-w",
            capture.to_str().context("a UTF-8 path")?,
        ],
        port,
    )?;
    wait_listening(port)?;

    let pid = proxy.0.id();
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while sampling.load(Ordering::Relaxed) {
                samples.push(crate::procs::rss_kib_of(pid));
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        })
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    eprintln!("xtask: {clients} clients for {seconds} s");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|_| tokio::spawn(client(port, origin_port, deadline)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await);
        }
        out
    });
    sampling.store(false, Ordering::Relaxed);
    let samples = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the sampler died"))?;
    let (mut answered, mut failed, mut first_error) = (0u64, 0u64, None);
    for r in results {
        let (a, f, e) = r?;
        answered += a;
        failed += f;
        first_error = first_error.or(e);
    }

    eprintln!("xtask: {idle_count} idle connections");
    let before = memory_kib(&proxy, "VmRSS");
    let held = runtime.block_on(async {
        let mut held = Vec::with_capacity(idle_count);
        for _ in 0..idle_count {
            held.push(TcpStream::connect(("127.0.0.1", port)).await?);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        anyhow::Ok(held)
    })?;
    let after = memory_kib(&proxy, "VmRSS");
    drop(held);

    eprintln!("xtask: SIGTERM");
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    if !stopped.success() {
        bail!("could not signal the proxy");
    }
    let mut proxy = proxy;
    let status = proxy.0.wait()?;
    // It has exited: nothing for `Running`'s drop to stop.
    std::mem::forget(proxy);
    let file = std::fs::read(&capture)?;
    let mut reader = waylay_proxy::flowfile::FlowReader::new(&file[..]);
    let (mut recorded, mut with_response, mut with_error) = (0u64, 0u64, 0u64);
    while let Some(flow) = reader.read_flow() {
        let flow = flow.map_err(|e| anyhow::anyhow!("the capture is unreadable: {e}"))?;
        recorded += 1;
        if flow.response().is_some() {
            with_response += 1;
        }
        if flow.error_msg().is_some() {
            with_error += 1;
        }
    }

    let mib = |kib: f64| kib / 1024.0;
    let warm = (samples.len() / 2).min(10);
    let after_warmup = &samples[warm..];
    let (lo, hi) = after_warmup
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    let third = after_warmup.len() / 3;
    let avg = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    let (early, late) = (
        avg(&after_warmup[..third.max(1).min(after_warmup.len())]),
        avg(&after_warmup[after_warmup.len().saturating_sub(third.max(1))..]),
    );
    let mut report = String::new();
    writeln!(
        report,
        "{clients} keep-alive clients through examples/add_header with -w, {seconds} s: {answered} requests answered ({:.0}/s), {failed} errors{}.",
        answered as f64 / seconds as f64,
        first_error
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    )?;
    writeln!(
        report,
        "RSS after a {warm} s warm-up: {:.1}–{:.1} MiB; first third averaged {:.1} MiB, last third {:.1} MiB (growth {:+.1} MiB).",
        mib(lo),
        mib(hi),
        mib(early),
        mib(late),
        mib(late - early)
    )?;
    writeln!(
        report,
        "{idle_count} idle connections held: {:.1} KiB each (RSS {:.1} → {:.1} MiB).",
        (after - before) / idle_count as f64,
        mib(before),
        mib(after)
    )?;
    writeln!(
        report,
        "SIGTERM: exit {}; the capture holds {recorded} flows, {with_response} with responses, {with_error} with errors; answered by the clients: {answered}. {}",
        status.code().map_or("by signal".into(), |c| c.to_string()),
        if with_response == answered && recorded == answered {
            "Every answered request is in the file, and nothing else."
        } else {
            "**MISMATCH**"
        }
    )?;
    println!("{report}");
    std::fs::write(dir.join("report.md"), &report)?;
    if failed > 0 || with_response != answered || recorded != answered {
        bail!("the soak failed: see above");
    }
    Ok(())
}
