//! `cargo xtask bench tls`: HTTPS through the intercepting proxy
//! (examples/add_header), next to direct-to-origin and mitmdump with
//! add_header.py, in one run: keep-alive requests/s, new intercepted TLS
//! connections/s for a host already cached, and the cost of minting a leaf.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::peer;
use crate::procs::{free_port, mitmdump_with, runner, wait_for_file, wait_listening};
use crate::tls_load::{self, Measured, Target};
use crate::util::{arg_value, cargo, root};

/// Minting: the mean and 99th percentile of `n` leaves, and a cached
/// host's lookup, in the engine itself.
fn minting(dir: &Path, n: usize) -> Result<String> {
    use waylay_proxy::tls::{ca, leaf::Leaves};
    let conf = dir.join("mint-conf");
    let _ = std::fs::remove_dir_all(&conf);
    let leaves = Leaves::new(ca::load_or_create(&conf).map_err(anyhow::Error::msg)?.ca)
        .map_err(anyhow::Error::msg)?;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        leaves
            .get(&format!("host-{i}.example"))
            .map_err(anyhow::Error::msg)?;
        times.push(started.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / n as u32;
    let p99 = crate::stats::quantile(&times, 0.99).unwrap_or_default();
    let before = leaves.minted();
    let lookups = 100_000u32;
    let started = Instant::now();
    for _ in 0..lookups {
        leaves.get("host-7.example").map_err(anyhow::Error::msg)?;
    }
    let hit = started.elapsed() / lookups;
    let minted = leaves.minted() - before;
    Ok(format!(
        "Minting a leaf (ECDSA P-256, signed by the CA), {n} hosts: mean {:.0} µs, p99 {:.0} µs. \
         A cached host: {:.0} ns per lookup, {minted} mints in {lookups} lookups.",
        mean.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        hit.as_secs_f64() * 1e9
    ))
}

pub fn tls(args: &[&str]) -> Result<()> {
    let seconds = arg_value(args, "--seconds", 10)? as u64;
    let connections = arg_value(args, "--connections", 8)?;
    let client_threads = arg_value(args, "--client-threads", 1)?;
    let python = peer::ensure()?;
    cargo(&["build", "--release", "-p", "runner"])?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let py_script = crate::util::add_header_py(&dir)?;
    let (origin_port, origin_ca) = tls_load::origin(&dir)?;
    let trusted = format!("ssl_verify_upstream_trusted_ca={}", origin_ca.display());

    let waylay_conf = dir.join("waylay-conf");
    let waylay_port = free_port()?;
    let waylay_conf_arg = waylay_conf.display().to_string();
    let waylay = runner(
        &[
            "-s",
            "examples/add_header",
            "--confdir",
            &waylay_conf_arg,
            "--set",
            &trusted,
        ],
        waylay_port,
    )?;
    let mitm_conf = dir.join("mitm-conf");
    let mitm_port = free_port()?;
    let mitm = mitmdump_with(
        &python,
        &py_script,
        mitm_port,
        &[
            "--set",
            &format!("confdir={}", mitm_conf.display()),
            "--set",
            &trusted,
        ],
    )?;
    wait_listening(waylay_port)?;
    wait_listening(mitm_port)?;
    wait_for_file(&mitm_conf.join("mitmproxy-ca-cert.pem"))?;

    let proxy = |port: u16| Some(SocketAddr::from(([127, 0, 0, 1], port)));
    let rows = [
        (
            "direct to origin",
            Target {
                origin_port,
                proxy: None,
                ca: origin_ca.clone(),
            },
        ),
        (
            "Waylay + add_header",
            Target {
                origin_port,
                proxy: proxy(waylay_port),
                ca: waylay_conf.join("waylay-ca-cert.pem"),
            },
        ),
        (
            "mitmdump 11.0.2 + add_header.py",
            Target {
                origin_port,
                proxy: proxy(mitm_port),
                ca: mitm_conf.join("mitmproxy-ca-cert.pem"),
            },
        ),
    ];
    let mut report = String::new();
    writeln!(
        report,
        "Origin: in-process rustls (one thread), HTTP/1.1, 1 KiB responses. Client: tokio + rustls on {client_threads} thread(s), {connections} connections, {seconds} s per row, \
         CONNECT through the proxies, TLS 1.3, no session resumption on the client side.\n"
    )?;
    writeln!(
        report,
        "| figure | target | per second | p50 | p99 | errors |"
    )?;
    writeln!(report, "|---|---|---|---|---|---|")?;
    let mut keep_alive = Vec::new();
    let mut fresh = Vec::new();
    for (figure, new_connections) in [
        ("keep-alive requests", false),
        ("new TLS connections", true),
    ] {
        for (name, target) in &rows {
            eprintln!("xtask: {figure}, {name}");
            let m: Measured = tls_load::run(
                target,
                connections,
                seconds,
                new_connections,
                client_threads,
            )?;
            if let Some(e) = &m.first_error {
                eprintln!("xtask: {name}: {} errors, the first: {e}", m.errors);
            }
            writeln!(
                report,
                "| {figure} | {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
                m.per_second, m.p50_ms, m.p99_ms, m.errors
            )?;
            if new_connections {
                fresh.push(m.per_second);
            } else {
                keep_alive.push(m.per_second);
            }
        }
    }
    drop((waylay, mitm));
    writeln!(
        report,
        "\nKeep-alive: Waylay does {:.0}% of direct and {:.1}x mitmdump. New intercepted connections: Waylay {:.0}/s ({:.1}x mitmdump).",
        100.0 * keep_alive[1] / keep_alive[0],
        keep_alive[1] / keep_alive[2],
        fresh[1],
        fresh[1] / fresh[2]
    )?;
    writeln!(report, "{}", minting(&dir, 2000)?)?;
    println!("{report}");
    std::fs::write(dir.join("tls.md"), &report)?;
    Ok(())
}
