//! `cargo xtask bench compose`: issue 22's "100 parallel sends of one
//! request: all sent within 50 ms of each other". The live proxy with its
//! view (`runner --web`) records one request to an in-process origin;
//! Compose makes a draft of it and sends `--copies` copies at once,
//! `--rounds` times. From each round's flows: the spread (last minus
//! first) of the moments the copies started (`request.timestamp_start`)
//! and reached the origin (`server_conn.timestamp_tcp_setup`), and the
//! time until every response was back in the view.
//!
//! The peer is mitmdump 11.0.2 replaying the same number of copies of the
//! same flow with `--set client_replay_concurrency=-1` (mitmproxy's way
//! of sending them at once), the spreads read from its `-w` file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use waylay_proxy::Flow;
use waylay_proxy::flowfile::FlowReader;

use crate::bench_web::{json as get_json, post};
use crate::procs::{Running, free_port, wait_listening};
use crate::util::{arg_value, root};

/// The spreads of a set of flows, in milliseconds: of their request
/// starts and of their server connections.
fn spreads(flows: &[Flow]) -> (f64, f64) {
    let spread = |dict: &str, key: &str| {
        let stamps: Vec<f64> = flows
            .iter()
            .filter_map(|f| {
                f.dict()
                    .get(dict)
                    .and_then(|d| d.as_dict())
                    .and_then(|d| d.get(key))
                    .and_then(|v| v.as_float())
            })
            .collect();
        let max = stamps.iter().copied().fold(f64::MIN, f64::max);
        let min = stamps.iter().copied().fold(f64::MAX, f64::min);
        (max - min) * 1e3
    };
    (
        spread("request", "timestamp_start"),
        spread("server_conn", "timestamp_tcp_setup"),
    )
}

/// One round: `copies` sends of draft `d` at once; the spreads and the
/// milliseconds until all were back.
fn round(
    addr: &str,
    cookie: &str,
    d: u64,
    copies: usize,
    before: usize,
) -> Result<(f64, f64, f64)> {
    let started = Instant::now();
    post(
        addr,
        &format!("/api/drafts/{d}/send"),
        cookie,
        &json!({"count": copies, "parallel": true}),
    )?;
    let numbers: Vec<u64> = loop {
        let entry = get_json(addr, &format!("/api/drafts/{d}"), cookie)?;
        let sends = entry["sends"].as_array().context("no sends")?;
        let ours = &sends[before..];
        if ours.len() == copies && ours.iter().all(|s| s["n"].is_u64()) {
            break ours.iter().filter_map(|s| s["n"].as_u64()).collect();
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the sends were not back in 60 s: {entry}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let all_back = started.elapsed().as_secs_f64() * 1e3;
    let list = numbers
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let (status, bytes) =
        crate::bench_web::get(addr, &format!("/api/save?format=mitm&flows={list}"), cookie)?;
    if status != 200 {
        bail!("the sends could not be saved: {status}");
    }
    let flows: Vec<Flow> = FlowReader::new(&bytes[..]).collect::<Result<_, _>>()?;
    let (start, connected) = spreads(&flows);
    Ok((start, connected, all_back))
}

/// mitmdump replaying `copies` copies of `flow` at once: the spreads.
fn mitmdump_round(flow_file: &[u8], copies: usize) -> Result<(f64, f64)> {
    let python = crate::peer::ensure()?;
    let dir = root().join("target/bench");
    let input = dir.join("compose-copies.mitm");
    let output = dir.join("compose-mitmdump.mitm");
    std::fs::write(&input, flow_file.repeat(copies))?;
    let status = Command::new(python.with_file_name("mitmdump"))
        .args(["-q", "-n", "--set", "client_replay_concurrency=-1", "-C"])
        .arg(&input)
        .arg("-w")
        .arg(&output)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("mitmdump -C failed: {status}");
    }
    let bytes = std::fs::read(&output)?;
    let flows: Vec<Flow> = FlowReader::new(&bytes[..]).collect::<Result<_, _>>()?;
    if flows.len() != copies {
        bail!("mitmdump wrote {} flows, not {copies}", flows.len());
    }
    Ok(spreads(&flows))
}

pub fn compose(args: &[&str]) -> Result<()> {
    let copies = arg_value(args, "--copies", 100)?;
    let rounds = arg_value(args, "--rounds", 3)?;
    let runner = crate::ab::Variant::working_tree()?.runner;
    let origin = crate::bench_live::origin()?;
    let port = free_port()?;
    let mut child = Command::new(&runner)
        .arg("--confdir")
        .arg(root().join("target/bench/waylay-conf"))
        .args([
            "-p",
            &port.to_string(),
            "--flow-detail",
            "0",
            "--web",
            "--set",
            "web_port=0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = lines.next().context("the runner printed nothing")??;
    let url = line
        .strip_prefix("Web view at http://")
        .with_context(|| format!("unexpected first line {line:?}"))?;
    let (addr, token) = url.split_once("/?token=").context("no token")?;
    let (addr, cookie) = (addr.to_owned(), format!("waylay_token={token}"));
    std::thread::spawn(move || for _ in lines {});
    let view = Running(child);
    wait_listening(port)?;
    // One request through the proxy, to make a draft of.
    let mut client = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        client,
        "GET http://127.0.0.1:{origin}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin}\r\nConnection: close\r\n\r\n"
    )?;
    client.read_to_end(&mut Vec::new())?;
    while get_json(&addr, "/api/flows", &cookie)?["total"] != 1 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let d = post(&addr, "/api/drafts", &cookie, &json!({"from": 0}))?["id"]
        .as_u64()
        .context("no draft id")?;
    println!("machine: {}", crate::bench::machine());
    println!("\n| round | request starts spread | connections spread | all {copies} back |");
    println!("|---|---|---|---|");
    let mut best = (f64::INFINITY, f64::INFINITY);
    for r in 0..rounds {
        let (start, connected, back) = round(&addr, &cookie, d, copies, r * copies)?;
        best = (best.0.min(start), best.1.min(connected));
        println!(
            "| {} | {start:.1} ms | {connected:.1} ms | {back:.1} ms |",
            r + 1
        );
    }
    let (status, flow_file) =
        crate::bench_web::get(&addr, "/api/save?format=mitm&flows=0", &cookie)?;
    if status != 200 {
        bail!("flow 0 could not be saved: {status}");
    }
    drop(view);
    let mitm = mitmdump_round(&flow_file, copies);
    println!(
        "\n| figure | target | Waylay (best of {rounds}) | mitmdump 11.0.2 `-C`, concurrency -1 |"
    );
    println!("|---|---|---|---|");
    let verdict = if best.0 <= 50.0 { "met" } else { "**missed**" };
    match mitm {
        Ok((ms, mc)) => {
            println!(
                "| {copies} parallel sends: request starts within | ≤ 50 ms | {:.1} ms — {verdict} | {ms:.1} ms |",
                best.0
            );
            println!(
                "| the same: connections to the origin within | | {:.1} ms | {mc:.1} ms |",
                best.1
            );
        }
        Err(e) => {
            println!(
                "| {copies} parallel sends: request starts within | ≤ 50 ms | {:.1} ms — {verdict} | (failed: {e:#}) |",
                best.0
            );
        }
    }
    Ok(())
}
