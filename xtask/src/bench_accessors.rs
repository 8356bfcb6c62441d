//! `cargo xtask bench accessors`: issue 13's script accessor targets,
//! measured through the real script boundary by `cargo bench -p
//! waylay-proxy --bench accessors`, plus offline add_header over 100,000
//! flows against the rate recorded for `bench offline`; with `--against
//! REV`, REV's figures beside the working tree's. Prints a Markdown
//! report for BENCHMARKS.md and keeps it in `target/bench/accessors.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::ab::Variant;
use crate::bench::{concat, machine, measure};
use crate::util::root;

/// Flows in the offline file: all.mitm (5 flows) concatenated 20,000 times.
const FLOWS: usize = 100_000;

/// What "today" is for the offline target: BENCHMARKS.md, "Offline:
/// `cargo xtask bench offline`", the row "flows/s, 515,430 flows, to
/// /dev/null" (the whole command, add_header, written to /dev/null).
const RECORDED_FLOWS_PER_S: f64 = 248_147.0;
const RECORDED_ROW: &str = "`bench offline`, 515,430 flows to /dev/null";

/// The accessor's net cost in ns from the bench's `net NAME: X ns` line.
fn net(output: &str, name: &str) -> Result<f64> {
    let prefix = format!("net {name}: ");
    output
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.trim_end_matches(" ns").trim().parse().ok())
        .with_context(|| format!("no `{prefix}` line in the bench's output"))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

/// `cargo bench -p waylay-proxy --bench accessors` in `checkout` (its own
/// target directory if given): its output and the three net costs in ns.
fn bench_in(checkout: &Path, target_dir: Option<&Path>) -> Result<(String, [f64; 3])> {
    eprintln!(
        "xtask: cargo bench -p waylay-proxy --bench accessors in {}",
        checkout.display()
    );
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .args(["bench", "-q", "-p", "waylay-proxy", "--bench", "accessors"])
        .current_dir(checkout);
    if let Some(dir) = target_dir {
        command.arg("--target-dir").arg(dir);
    }
    let bench = command.output()?;
    let output = String::from_utf8_lossy(&bench.stdout).trim().to_owned();
    if !bench.status.success() {
        bail!(
            "the accessors bench failed with {}:\n{output}\n{}",
            bench.status,
            String::from_utf8_lossy(&bench.stderr)
        );
    }
    let costs = [
        net(&output, "query")?,
        net(&output, "set_url")?,
        net(&output, "text")?,
    ];
    Ok((output, costs))
}

pub fn accessors(args: &[&str]) -> Result<()> {
    let root = root();
    let dir = root.join("target/bench");
    fs::create_dir_all(&dir)?;
    let variants = Variant::from_args(args)?;
    let ab_target = root.join("target/ab/target");
    // Two rounds, interleaved; the lower cost of each figure counts.
    let mut costs = vec![[f64::MAX; 3]; variants.len()];
    let mut output = String::new();
    for _ in 0..2 {
        for (i, v) in variants.iter().enumerate() {
            let target_dir = (i > 0).then_some(ab_target.as_path());
            let (out, c) = bench_in(&v.checkout, target_dir)?;
            for (best, c) in costs[i].iter_mut().zip(c) {
                *best = best.min(c);
            }
            if i == 0 {
                output = out;
            }
        }
    }

    let file = dir.join(format!("flows-{FLOWS}.mitm"));
    let bytes = concat(&file, FLOWS / 5)?;
    let empty = dir.join("empty.mitm");
    fs::write(&empty, b"")?;
    let waylay = |v: &Variant, input: &Path| -> Command {
        let mut c = Command::new(&v.runner);
        c.args(["-n", "-q", "-r"])
            .arg(input)
            .arg("-s")
            .arg(v.example("add_header"))
            .args(["-w", "/dev/null"]);
        c
    };
    for v in &variants {
        eprintln!("xtask: warming the script build ({})", v.label);
        measure(&mut waylay(v, &empty))?;
    }
    // Three rounds, the variants interleaved in each; the best run counts.
    let mut best: Vec<Option<std::time::Duration>> = vec![None; variants.len()];
    for round in 1..=3 {
        for (i, v) in variants.iter().enumerate() {
            eprintln!(
                "xtask: offline add_header over {FLOWS} flows, round {round} ({})",
                v.label
            );
            let wall = measure(&mut waylay(v, &file))?.wall;
            best[i] = Some(best[i].map_or(wall, |b| b.min(wall)));
        }
    }
    let rates: Vec<(f64, std::time::Duration)> = best
        .into_iter()
        .map(|wall| {
            let wall = wall.unwrap_or_default();
            (FLOWS as f64 / wall.as_secs_f64().max(1e-9), wall)
        })
        .collect();

    let mut r = String::new();
    writeln!(r, "Machine: {}", machine())?;
    writeln!(
        r,
        "Accessors: one call per `Scripts::flow_event` into a compiled script \
         (proxy/benches/accessors-script), best of 5 within a run and of 2 runs \
         interleaved, minus the same event with the hook overridden but empty. \
         Offline: `runner -n -q -r FILE -s examples/add_header -w /dev/null`, \
         {FLOWS} flows ({:.1} MB, all.mitm concatenated), whole command, best of 3 rounds with the variants interleaved.\n",
        bytes as f64 / 1e6
    )?;
    let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
    writeln!(r, "| figure | target | {} |", labels.join(" | "))?;
    writeln!(r, "|---|---|{}", "---|".repeat(labels.len()))?;
    for (k, (what, target_ns, target)) in [
        ("`query()` read on a 20-parameter URL", 1_000.0, "≤ 1 µs"),
        ("`set_url()`", 1_000.0, "≤ 1 µs"),
        ("`text()` on a 100 KB UTF-8 body", 50_000.0, "≤ 50 µs"),
    ]
    .into_iter()
    .enumerate()
    {
        let cells: Vec<String> = costs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let ns = c[k];
                if i == 0 {
                    format!("{:.3} µs — {}", ns / 1_000.0, verdict(ns <= target_ns))
                } else {
                    format!(
                        "{:.3} µs ({:.2}× faster now)",
                        ns / 1_000.0,
                        ns / costs[0][k]
                    )
                }
            })
            .collect();
        writeln!(r, "| {what} | {target} | {} |", cells.join(" | "))?;
    }
    let cells: Vec<String> = rates
        .iter()
        .map(|(rate, wall)| format!("{rate:.0} flows/s, {:.3} s", wall.as_secs_f64()))
        .collect();
    writeln!(
        r,
        "| offline add_header over {FLOWS} flows, to /dev/null | no slower than before: {RECORDED_FLOWS_PER_S:.0} flows/s recorded ({RECORDED_ROW}) | {} |",
        cells.join(" | ")
    )?;
    writeln!(
        r,
        "\nThe bench's output in the working tree (cargo bench -p waylay-proxy --bench accessors):\n```\n{output}\n```"
    )?;
    println!("{r}");
    fs::write(dir.join("accessors.md"), &r)?;
    Ok(())
}
