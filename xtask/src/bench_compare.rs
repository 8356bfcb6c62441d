//! `cargo xtask bench compare`: issue 22's "the diff of two 1 MB JSON
//! bodies ≤ 100 ms". Two JSON documents of about 1 MB (`--items`
//! records; the right one with every 50th record changed, every 200th
//! removed and some added) are compared three ways, best of `--rounds`:
//! - in process, by the engine's body comparison (parse, walk, list);
//! - in process, parsing the two documents alone (the floor: what any
//!   structural diff pays before it compares anything);
//! - end to end, `GET /api/compare` of a view (`runner -n -r FILE --web`)
//!   holding the two flows: read back from the session file, decoded,
//!   compared and sent as JSON, as the page receives it.
//!
//! No peer has the feature: mitmweb cannot compare flows (mitmproxy
//! #3853), so there is nothing to run beside it.

use anyhow::{Context as _, Result, bail};
use serde_json::{Value as Json, json};
use waylay_proxy::flowfile::{FlowReader, FlowWriter};
use waylay_proxy::http::{self, Which};
use waylay_proxy::view::compare;

use crate::bench_web::{json as get_json, waylay_open};
use crate::procs::Running;
use crate::util::{arg_value, root};

/// The two documents: `items` records, and the same with changes.
fn documents(items: usize) -> (Vec<u8>, Vec<u8>) {
    let record = |i: usize, changed: bool| {
        json!({
            "id": i,
            "name": format!("user {i}"),
            "email": format!("user{i}@example.com"),
            "active": !i.is_multiple_of(3),
            "score": if changed { (i as f64) * 1.5 + 0.25 } else { (i as f64) * 1.5 },
            "tags": ["alpha", "beta", if changed { "delta" } else { "gamma" }],
            "address": {"street": format!("{i} Main Street"), "city": "Springfield", "zip": format!("{:05}", i % 100_000)},
        })
    };
    let left: Vec<Json> = (0..items).map(|i| record(i, false)).collect();
    let mut right: Vec<Json> = (0..items)
        .filter(|i| i % 200 != 199)
        .map(|i| record(i, i.is_multiple_of(50)))
        .collect();
    right.extend((items..items + items / 100).map(|i| record(i, false)));
    let doc = |list: Vec<Json>| serde_json::to_vec(&json!({"count": list.len(), "items": list}));
    (
        doc(left).expect("JSON serialises"),
        doc(right).expect("JSON serialises"),
    )
}

/// The fastest of `rounds` runs of `f`, in milliseconds.
fn best_ms(rounds: usize, f: impl FnMut() -> Result<()>) -> Result<f64> {
    Ok(crate::stats::best_time(rounds, f)?.as_secs_f64() * 1e3)
}

/// A capture of two flows (all.mitm's first, twice) answering `left`
/// and `right`.
fn capture(path: &std::path::Path, left: &[u8], right: &[u8]) -> Result<()> {
    let golden = std::fs::read(root().join("testdata/flows/all.mitm"))?;
    let first = FlowReader::new(&golden[..])
        .next()
        .context("all.mitm is empty")??;
    let mut out = FlowWriter::new(std::fs::File::create(path)?);
    for body in [left, right] {
        let mut flow = first.clone();
        let resp = flow
            .message_mut(Which::Response)
            .context("all.mitm's first flow has no response")?;
        http::set_decoded_content(resp, body);
        http::set_header(resp, b"content-type", b"application/json");
        out.write_flow(&flow)?;
    }
    out.flush()?;
    Ok(())
}

pub fn compare(args: &[&str]) -> Result<()> {
    let items = arg_value(args, "--items", 5_000)?;
    let rounds = arg_value(args, "--rounds", 5)?;
    let (left, right) = documents(items);
    println!("machine: {}", crate::bench::machine());
    println!(
        "documents: {:.2} MB and {:.2} MB ({items} records)",
        left.len() as f64 / 1e6,
        right.len() as f64 / 1e6
    );
    let mut total = 0;
    let in_process = best_ms(rounds, || {
        let c = compare::body::compare(Some(&left), Some(&right));
        total = c["total"].as_u64().unwrap_or(0);
        if c["kind"] != "json" {
            bail!("the bodies were not compared as JSON: {}", c["kind"]);
        }
        Ok(())
    })?;
    let parse_only = best_ms(rounds, || {
        let a: Json = serde_json::from_slice(&left)?;
        let b: Json = serde_json::from_slice(&right)?;
        std::hint::black_box((a, b));
        Ok(())
    })?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("compare.mitm");
    capture(&file, &left, &right)?;
    let runner = crate::ab::Variant::working_tree()?.runner;
    let (child, addr, cookie, _) = waylay_open(&runner, &file, 2)?;
    let view = Running(child);
    let mut listed = 0;
    let api = best_ms(rounds, || {
        let c = get_json(&addr, "/api/compare?a=0&b=1", &cookie)?;
        listed = c["response"]["body"]["changes"]
            .as_array()
            .map_or(0, Vec::len);
        Ok(())
    })?;
    drop(view);
    let verdict = |ms: f64| if ms <= 100.0 { "met" } else { "**missed**" };
    println!("\n| figure | target | best of {rounds} |");
    println!("|---|---|---|");
    println!(
        "| two ~1 MB JSON bodies compared in process ({total} changes) | ≤ 100 ms | {in_process:.1} ms — {} |",
        verdict(in_process)
    );
    println!("| the same two parsed, no comparison (the floor) | | {parse_only:.1} ms |");
    println!(
        "| `GET /api/compare` of the two flows, end to end ({listed} changes listed) | ≤ 100 ms | {api:.1} ms — {} |",
        verdict(api)
    );
    Ok(())
}
