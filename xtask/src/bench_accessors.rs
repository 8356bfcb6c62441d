//! `cargo xtask bench accessors`: issue 13's script accessor targets,
//! measured through the real script boundary by `cargo bench -p
//! waylay-proxy --bench accessors`, plus offline add_header over 100,000
//! flows against the rate recorded for `bench offline`. Prints a Markdown
//! report for BENCHMARKS.md and keeps it in `target/bench/accessors.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::bench::{best_of, concat, machine, measure};
use crate::util::{cargo, root};

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

pub fn accessors() -> Result<()> {
    let root = root();
    let dir = root.join("target/bench");
    fs::create_dir_all(&dir)?;

    eprintln!("xtask: cargo bench -p waylay-proxy --bench accessors");
    let bench = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["bench", "-q", "-p", "waylay-proxy", "--bench", "accessors"])
        .current_dir(&root)
        .output()?;
    let output = String::from_utf8_lossy(&bench.stdout).trim().to_owned();
    if !bench.status.success() {
        bail!(
            "the accessors bench failed with {}:\n{output}\n{}",
            bench.status,
            String::from_utf8_lossy(&bench.stderr)
        );
    }
    let query = net(&output, "query")?;
    let set_url = net(&output, "set_url")?;
    let text = net(&output, "text")?;

    cargo(&["build", "--release", "-p", "runner"])?;
    let runner = root.join("target/release/runner");
    let file = dir.join(format!("flows-{FLOWS}.mitm"));
    let bytes = concat(&file, FLOWS / 5)?;
    let empty = dir.join("empty.mitm");
    fs::write(&empty, b"")?;
    let waylay = |input: &Path| -> Command {
        let mut c = Command::new(&runner);
        c.args(["-n", "-q", "-r"]).arg(input).args([
            "-s",
            "examples/add_header",
            "-w",
            "/dev/null",
        ]);
        c
    };
    eprintln!("xtask: warming the script build");
    measure(&mut waylay(&empty))?;
    eprintln!("xtask: offline add_header over {FLOWS} flows, best of 3");
    let run = best_of(3, || measure(&mut waylay(&file)))?;
    let rate = FLOWS as f64 / run.wall.as_secs_f64().max(1e-9);

    let mut r = String::new();
    writeln!(r, "Machine: {}", machine())?;
    writeln!(
        r,
        "Accessors: one call per `Scripts::flow_event` into a compiled script \
         (proxy/benches/accessors-script), best of 5, minus the same event with \
         the hook overridden but empty. Offline: `runner -n -q -r FILE -s \
         examples/add_header -w /dev/null`, {FLOWS} flows ({:.1} MB, all.mitm \
         concatenated), whole command, best of 3.\n",
        bytes as f64 / 1e6
    )?;
    writeln!(r, "| figure | target | result |")?;
    writeln!(r, "|---|---|---|")?;
    for (what, ns, target_ns, target) in [
        (
            "`query()` read on a 20-parameter URL",
            query,
            1_000.0,
            "≤ 1 µs",
        ),
        ("`set_url()`", set_url, 1_000.0, "≤ 1 µs"),
        ("`text()` on a 100 KB UTF-8 body", text, 50_000.0, "≤ 50 µs"),
    ] {
        writeln!(
            r,
            "| {what} | {target} | {:.3} µs — {} |",
            ns / 1_000.0,
            verdict(ns <= target_ns)
        )?;
    }
    writeln!(
        r,
        "| offline add_header over {FLOWS} flows, to /dev/null | no slower than today: {RECORDED_FLOWS_PER_S:.0} flows/s ({RECORDED_ROW}) | {rate:.0} flows/s, {:.3} s ({:.2}×) — {} |",
        run.wall.as_secs_f64(),
        rate / RECORDED_FLOWS_PER_S,
        verdict(rate >= RECORDED_FLOWS_PER_S)
    )?;
    writeln!(
        r,
        "\nThe bench's output (cargo bench -p waylay-proxy --bench accessors):\n```\n{output}\n```"
    )?;
    println!("{r}");
    fs::write(dir.join("accessors.md"), &r)?;
    Ok(())
}
