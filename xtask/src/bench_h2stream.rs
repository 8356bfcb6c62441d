//! `cargo xtask bench h2stream`: the live proxy's peak memory while a
//! large body streams through an intercepted tunnel (`--set
//! stream_large_bodies=1m`), over h2 and over HTTP/1.1, at full speed and
//! with a client that reads slower than the origin sends. Each download
//! gets a fresh runner, so its `VmHWM` is that download's peak.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;

use crate::procs::{free_port, memory_kib, runner, wait_for_file, wait_ready};
use crate::stream_load::{self, Fetch};
use crate::util::{arg_value, cargo, root};

/// The target for a runner's peak RSS during one download, in MiB.
const TARGET_MIB: f64 = 64.0;

pub fn h2stream(args: &[&str]) -> Result<()> {
    let mb = arg_value(args, "--mb", 300)? as u64;
    let slow_mbps = arg_value(args, "--slow-mbps", 50)?;
    let size = mb * 1_000_000;
    cargo(&["build", "--release", "-p", "runner"])?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let (origin_port, origin_ca) = stream_load::origin(&dir)?;
    let trusted = format!("ssl_verify_upstream_trusted_ca={}", origin_ca.display());
    let conf = dir.join("waylay-conf");
    let conf_arg = conf.display().to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // Generous: a slow read of the whole body, twice over.
    let limit = Duration::from_secs(60 + 2 * mb / slow_mbps.max(1) as u64);

    let mut report = String::new();
    writeln!(
        report,
        "A {mb} MB body (`GET /bytes/N`, Content-Length) from an in-process HTTPS origin (hyper, h2 or HTTP/1.1 by ALPN, one thread), \
         downloaded by xtask's hyper client through `CONNECT localhost:PORT` and TLS interception, with \
         `runner -s examples/add_header --set stream_large_bodies=1m`. A fresh runner per row; its peak is VmHWM.\n"
    )?;
    writeln!(
        report,
        "| protocol | reader | client / origin ALPN | MB/s | runner RSS before | peak RSS | target < {TARGET_MIB:.0} MiB |"
    )?;
    writeln!(report, "|---|---|---|---|---|---|---|")?;
    let mut readers = vec![("full speed", None)];
    if slow_mbps > 0 {
        readers.push(("slow", Some(slow_mbps as f64 * 1e6)));
    }
    for (h2, protocol) in [(true, "h2"), (false, "HTTP/1.1")] {
        // The same download with no proxy: what the client and origin
        // manage alone.
        eprintln!("xtask: {protocol}, direct");
        let direct = runtime.block_on(stream_load::download(
            &Fetch {
                origin_port,
                proxy: None,
                ca: origin_ca.clone(),
                h2,
                size,
                max_rate: None,
            },
            limit,
        ))?;
        writeln!(
            report,
            "| {protocol} | full speed, direct (no proxy) | {} / {} | {:.0} | | | |",
            direct.client_alpn,
            direct.origin_alpn,
            direct.bytes as f64 / 1e6 / direct.seconds
        )?;
        for (reader, max_rate) in &readers {
            eprintln!("xtask: {protocol}, {reader}, through Waylay");
            let port = free_port()?;
            let mut proxy = runner(
                &[
                    "-s",
                    "examples/add_header",
                    "--confdir",
                    &conf_arg,
                    "--set",
                    &trusted,
                    "--set",
                    "stream_large_bodies=1m",
                ],
                port,
            )?;
            wait_ready(&mut proxy, port)?;
            wait_for_file(&conf.join("waylay-ca-cert.pem"))?;
            let before = memory_kib(&proxy, "VmRSS") / 1024.0;
            let fetch = Fetch {
                origin_port,
                proxy: Some(SocketAddr::from(([127, 0, 0, 1], port))),
                ca: conf.join("waylay-ca-cert.pem"),
                h2,
                size,
                max_rate: *max_rate,
            };
            let fetched = runtime.block_on(stream_load::download(&fetch, limit))?;
            let peak = memory_kib(&proxy, "VmHWM") / 1024.0;
            drop(proxy);
            let reader = match max_rate {
                Some(r) => format!("{reader} (at most {:.0} MB/s)", r / 1e6),
                None => reader.to_string(),
            };
            writeln!(
                report,
                "| {protocol} | {reader} | {} / {} | {:.0} | {before:.1} MiB | {peak:.1} MiB | {} |",
                fetched.client_alpn,
                fetched.origin_alpn,
                fetched.bytes as f64 / 1e6 / fetched.seconds,
                if peak < TARGET_MIB {
                    "met"
                } else {
                    "**missed**"
                }
            )?;
        }
    }
    println!("{report}");
    std::fs::write(dir.join("h2stream.md"), &report)?;
    Ok(())
}
