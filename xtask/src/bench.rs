//! `cargo xtask bench offline`: Waylay against `mitmdump` on the same
//! files, in the same run, plus the figures only Waylay has (build times,
//! the boundary crossing, encoding one flow, memory on a 1 GB file). Prints
//! a Markdown report for BENCHMARKS.md and keeps it in
//! `target/bench/offline.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::peer;
use crate::util::{arg_value, root};

/// What one timed command did.
pub(crate) struct Measured {
    pub(crate) wall: Duration,
    max_rss_kib: i64,
}

/// Runs `command` to completion under GNU time, for its wall time and
/// peak RSS.
pub(crate) fn measure(command: &mut Command) -> Result<Measured> {
    let shown = format!("{command:?}");
    let report = root().join("target/bench/time.txt");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => timed.env(key, v),
            None => timed.env_remove(key),
        };
    }
    let start = Instant::now();
    let status = timed
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {shown} under /usr/bin/time"))?;
    let wall = start.elapsed();
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    let report = fs::read_to_string(&report)?;
    let max_rss_kib = report
        .split_whitespace()
        .nth(1)
        .and_then(|k| k.parse().ok())
        .context("reading GNU time's report")?;
    Ok(Measured { wall, max_rss_kib })
}

pub(crate) fn best_of(n: usize, mut f: impl FnMut() -> Result<Measured>) -> Result<Measured> {
    let mut best: Option<Measured> = None;
    for _ in 0..n {
        let m = f()?;
        if best.as_ref().is_none_or(|b| m.wall < b.wall) {
            best = Some(m);
        }
    }
    Ok(best.expect("n > 0"))
}

/// `copies` concatenations of all.mitm (5 flows each) at `path`.
pub(crate) fn concat(path: &Path, copies: usize) -> Result<u64> {
    let unit = fs::read(root().join("testdata/flows/all.mitm"))?;
    if fs::metadata(path).is_ok_and(|m| m.len() == (unit.len() * copies) as u64) {
        return Ok(m_len(path));
    }
    let mut out = std::io::BufWriter::new(fs::File::create(path)?);
    for _ in 0..copies {
        std::io::Write::write_all(&mut out, &unit)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(m_len(path))
}

/// `mitmdump -n -q -r INPUT -s SCRIPT -w OUT`.
pub(crate) fn mitmdump_script(mitmdump: &Path, script: &Path, input: &Path, out: &Path) -> Command {
    let mut c = Command::new(mitmdump);
    c.args(["-n", "-q", "-r"])
        .arg(input)
        .arg("-s")
        .arg(script)
        .arg("-w")
        .arg(out);
    c
}

fn m_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub(crate) fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {:.0} GiB RAM, {rustc}",
        mem as f64 / 1024.0 / 1024.0
    )
}

/// What `cargo bench -p waylay-proxy --bench NAME` prints.
fn proxy_bench(root: &Path, name: &str) -> Result<String> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["bench", "-q", "-p", "waylay-proxy", "--bench", name])
        .current_dir(root)
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn offline(args: &[&str]) -> Result<()> {
    let flows = arg_value(args, "--flows", 10_000)?;
    let big_mb = arg_value(args, "--big-mb", 1024)?;
    let ab_flows = arg_value(args, "--ab-flows", 100_000)?;
    let variants = crate::ab::Variant::from_args(args)?;
    let root = root();
    let dir = root.join("target/bench");
    fs::create_dir_all(&dir)?;
    let python = peer::ensure()?;
    let mitmdump = python.with_file_name("mitmdump");
    let runner = variants[0].runner.clone();

    let small = dir.join(format!("flows-{flows}.mitm"));
    let small_bytes = concat(&small, flows.div_ceil(5))?;
    let empty = dir.join("empty.mitm");
    fs::write(&empty, b"")?;
    let py_script = crate::util::add_header_py(&dir)?;
    let out = dir.join("out.mitm");

    let waylay = |input: &Path| -> Command {
        let mut c = Command::new(&runner);
        c.args(["-n", "-q", "-r"])
            .arg(input)
            .args(["-s", "examples/add_header", "-w"])
            .arg(&out);
        c
    };
    let mitm = |input: &Path| mitmdump_script(&mitmdump, &py_script, input, &out);
    eprintln!("xtask: warming the script build");
    measure(&mut waylay(&empty))?;

    eprintln!("xtask: waylay over {flows} flows");
    let w_start = best_of(3, || measure(&mut waylay(&empty)))?;
    let w_run = best_of(3, || measure(&mut waylay(&small)))?;
    let w_count = count_flows(&runner, &out)?;
    eprintln!("xtask: mitmdump over {flows} flows (slow)");
    let m_start = measure(&mut mitm(&empty))?;
    let m_run = measure(&mut mitm(&small))?;
    let m_count = count_flows(&runner, &out)?;
    if w_count != flows || m_count != flows {
        bail!("expected {flows} flows out, waylay wrote {w_count}, mitmdump {m_count}");
    }
    eprintln!("xtask: mitmdump, a filter only, over {flows} flows (slow)");
    let m_filter = measure(mitm(&small).arg("~s"))?;
    let m_rates = (
        flows as f64 / m_proc_secs(&m_run, &m_start),
        flows as f64 / m_proc_secs(&m_filter, &m_start),
    );
    let ab = ab_rounds(&variants, ab_flows, &out, m_rates)?;

    let big = dir.join(format!("big-{big_mb}mb.mitm"));
    eprintln!("xtask: writing a {big_mb} MB flow file");
    let unit = m_len(&root.join("testdata/flows/all.mitm"));
    let big_bytes = concat(&big, (big_mb as u64 * 1024 * 1024).div_ceil(unit) as usize)?;
    eprintln!("xtask: waylay over {big_mb} MB");
    settle(&out)?;
    let w_big = measure(&mut waylay(&big))?;
    let mut to_null = waylay(&big);
    to_null.args(["-w", "/dev/null"]); // the last -w wins
    let w_big_null = measure(&mut to_null)?;
    // The ceiling: the same bytes read and written through user space with
    // no processing at all.
    let mut copy = Command::new("dd");
    copy.arg(format!("if={}", big.display()))
        .arg(format!("of={}", out.display()))
        .args(["bs=1M", "status=none"]);
    settle(&out)?;
    let cp_big = measure(&mut copy)?;
    let big_flows = big_bytes / unit * 5;

    eprintln!("xtask: script crate build times");
    let (cold, warm) = build_times(&runner, &dir)?;

    eprintln!("xtask: boundary crossing");
    let boundary = proxy_bench(&root, "boundary")?;
    eprintln!("xtask: encoding a flow");
    let encode = proxy_bench(&root, "encode")?;

    let secs = |d: Duration| d.as_secs_f64();
    let rate = |n: f64, d: Duration| n / secs(d).max(1e-9);
    let w_proc = w_run.wall.saturating_sub(w_start.wall);
    let m_proc = m_run.wall.saturating_sub(m_start.wall);
    let mb = |b: u64| b as f64 / 1e6;
    let mut r = String::new();
    writeln!(r, "Machine: {}", machine())?;
    writeln!(
        r,
        "Input: {flows} flows ({:.1} MB, all.mitm concatenated); script: add_header (Rust) vs add_header.py.\n",
        mb(small_bytes)
    )?;
    writeln!(r, "| figure | Waylay | mitmdump 11.0.2 | ratio | target |")?;
    writeln!(r, "|---|---|---|---|---|")?;
    writeln!(
        r,
        "| wall time, {flows} flows | {:.3} s | {:.2} s | {:.0}x | |",
        secs(w_run.wall),
        secs(m_run.wall),
        secs(m_run.wall) / secs(w_run.wall)
    )?;
    writeln!(
        r,
        "| flows/s, whole command | {:.0} | {:.0} | {:.0}x | >= 300x |",
        rate(flows as f64, w_run.wall),
        rate(flows as f64, m_run.wall),
        rate(flows as f64, w_run.wall) / rate(flows as f64, m_run.wall)
    )?;
    writeln!(
        r,
        "| flows/s, start-up subtracted | {:.0} | {:.0} | {:.0}x | >= 300x |",
        rate(flows as f64, w_proc),
        rate(flows as f64, m_proc),
        rate(flows as f64, w_proc) / rate(flows as f64, m_proc)
    )?;
    writeln!(
        r,
        "| start-up (empty file) | {:.3} s | {:.2} s | | |",
        secs(w_start.wall),
        secs(m_start.wall)
    )?;
    writeln!(
        r,
        "| MB/s, {flows} flows | {:.0} | {:.2} | | >= 200 |",
        rate(mb(small_bytes), w_run.wall),
        rate(mb(small_bytes), m_run.wall)
    )?;
    writeln!(
        r,
        "| MB/s, {:.0} MB ({big_flows} flows) | {:.0} | not run | | >= 200 |",
        mb(big_bytes),
        rate(mb(big_bytes), w_big.wall)
    )?;
    writeln!(
        r,
        "| MB/s, {:.0} MB, written to /dev/null (no disk writes) | {:.0} | not run | | >= 200 |",
        mb(big_bytes),
        rate(mb(big_bytes), w_big_null.wall)
    )?;
    writeln!(
        r,
        "| MB/s, `dd bs=1M` of the same {:.0} MB to disk (no processing: the ceiling) | {:.0} | | | |",
        mb(big_bytes),
        rate(mb(big_bytes), cp_big.wall)
    )?;
    let m_rate = rate(flows as f64, m_proc);
    for (what, m) in [("to disk", &w_big), ("to /dev/null", &w_big_null)] {
        let w_rate = rate(big_flows as f64, m.wall);
        writeln!(
            r,
            "| flows/s, {big_flows} flows {what} (vs mitmdump's start-up-subtracted rate) | {w_rate:.0} | {m_rate:.0} | {:.0}x | >= 300x |",
            w_rate / m_rate
        )?;
    }
    writeln!(
        r,
        "| peak RSS, {flows} flows | {:.1} MiB | {:.1} MiB | | |",
        w_run.max_rss_kib as f64 / 1024.0,
        m_run.max_rss_kib as f64 / 1024.0
    )?;
    writeln!(
        r,
        "| peak RSS, {:.0} MB | {:.1} MiB | not run | | flat |",
        mb(big_bytes),
        w_big.max_rss_kib as f64 / 1024.0
    )?;
    writeln!(
        r,
        "| script crate cold build (runner new crate, clean target) | {:.1} s | | | <= 20 s |",
        secs(cold)
    )?;
    writeln!(
        r,
        "| rebuild after editing src/lib.rs | {:.2} s | | | <= 3 s |",
        secs(warm)
    )?;
    writeln!(
        r,
        "\nBoundary (cargo bench -p waylay-proxy --bench boundary; target <= 100 ns):\n```\n{boundary}\n```"
    )?;
    writeln!(
        r,
        "\nEncoding a flow for `-w` and the view (cargo bench -p waylay-proxy --bench encode):\n```\n{encode}\n```"
    )?;
    r.push_str(&ab);
    println!("{r}");
    fs::write(dir.join("offline.md"), &r)?;
    Ok(())
}

/// mitmdump's time on flows, its start-up (an empty file) subtracted.
fn m_proc_secs(run: &Measured, start: &Measured) -> f64 {
    run.wall.saturating_sub(start.wall).as_secs_f64().max(1e-9)
}

/// Each variant over `n` flows, add_header and a filter alone (`~s`, with
/// `-w`), three rounds with the variants interleaved, best of each; the
/// rates against mitmdump's (`m_rates`: add_header, filter, start-up
/// subtracted) and, with `--against`, against each other.
fn ab_rounds(
    variants: &[crate::ab::Variant],
    n: usize,
    out: &Path,
    m_rates: (f64, f64),
) -> Result<String> {
    let file = root().join(format!("target/bench/flows-{n}.mitm"));
    let bytes = concat(&file, n.div_ceil(5))?;
    let flows = n.div_ceil(5) * 5;
    let mut best = vec![(Duration::MAX, Duration::MAX); variants.len()];
    // `runner -n -q -r INPUT ARGS...`, timed.
    let offline = |v: &crate::ab::Variant, input: &Path, args: &[&str]| {
        measure(
            Command::new(&v.runner)
                .args(["-n", "-q", "-r"])
                .arg(input)
                .args(args),
        )
    };
    let (out, script) = (out.to_string_lossy(), |v: &crate::ab::Variant| {
        v.example("add_header")
    });
    for v in variants {
        // Warm the script build outside the timing.
        offline(v, Path::new("/dev/null"), &["-s", &script(v)])?;
    }
    for round in 1..=3 {
        for (v, best) in variants.iter().zip(&mut best) {
            eprintln!("xtask: round {round}, {} over {flows} flows", v.label);
            let script = offline(v, &file, &["-s", &script(v), "-w", &out])?;
            let filter = offline(v, &file, &["-w", &out, "~s"])?;
            best.0 = best.0.min(script.wall);
            best.1 = best.1.min(filter.wall);
        }
    }
    let mut r = String::new();
    writeln!(
        r,
        "\nA/B over {flows} flows ({:.0} MB), best of 3 interleaved rounds, whole command, written to target/bench/out.mitm; \
         mitmdump's rates from the runs above (start-up subtracted).\n",
        bytes as f64 / 1e6
    )?;
    writeln!(
        r,
        "| runner | add_header flows/s | MB/s | vs mitmdump (target >= 500x, >= 400 MB/s) | filter only (`~s`, -w) flows/s | vs mitmdump (target >= 300x) |"
    )?;
    writeln!(r, "|---|---|---|---|---|---|")?;
    for (v, (script, filter)) in variants.iter().zip(&best) {
        let (s_rate, f_rate) = (
            flows as f64 / script.as_secs_f64(),
            flows as f64 / filter.as_secs_f64(),
        );
        writeln!(
            r,
            "| {} | {s_rate:.0} | {:.0} | {:.0}x | {f_rate:.0} | {:.0}x |",
            v.label,
            bytes as f64 / 1e6 / script.as_secs_f64(),
            s_rate / m_rates.0,
            f_rate / m_rates.1
        )?;
    }
    writeln!(
        r,
        "| mitmdump 11.0.2 | {:.0} | | | {:.0} | |",
        m_rates.0, m_rates.1
    )?;
    if let [(a_s, a_f), (b_s, b_f)] = best[..] {
        writeln!(
            r,
            "\nA/B (working tree over {}): add_header {:.3}x, filter only {:.3}x.",
            variants[1].label,
            b_s.as_secs_f64() / a_s.as_secs_f64(),
            b_f.as_secs_f64() / a_f.as_secs_f64()
        )?;
    }
    Ok(r)
}

/// Removes `out` and flushes dirty pages, so that a run that writes a
/// large file does not pay for the previous run's writeback.
fn settle(out: &Path) -> Result<()> {
    let _ = fs::remove_file(out);
    let status = Command::new("sync").status()?;
    if !status.success() {
        bail!("sync failed");
    }
    Ok(())
}

fn count_flows(runner: &Path, file: &Path) -> Result<usize> {
    let out = Command::new(runner)
        .arg("-n")
        .arg("-r")
        .arg(file)
        .output()?;
    if !out.status.success() {
        bail!(
            "cannot read back {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout.iter().filter(|&&b| b == b'\n').count())
}

/// Cold build of a fresh `runner new` crate into an empty target
/// directory, then the rebuild after an edit to src/lib.rs.
fn build_times(runner: &Path, dir: &Path) -> Result<(Duration, Duration)> {
    let krate: PathBuf = dir.join("build-time-script");
    let target = dir.join("build-time-target");
    let _ = fs::remove_dir_all(&krate);
    let _ = fs::remove_dir_all(&target);
    let status = Command::new(runner).arg("new").arg(&krate).output()?;
    if !status.status.success() {
        bail!(
            "runner new failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    // Resolve dependencies (the registry index) outside the timing.
    let lock = Command::new("cargo")
        .arg("generate-lockfile")
        .current_dir(&krate)
        .status()?;
    if !lock.success() {
        bail!("cargo generate-lockfile failed in {}", krate.display());
    }
    let build = || -> Result<Duration> {
        let m = measure(
            Command::new(runner)
                .args(["-n", "-q", "-s"])
                .arg(&krate)
                .env("CARGO_TARGET_DIR", &target),
        )?;
        Ok(m.wall)
    };
    let cold = build()?;
    let lib = krate.join("src/lib.rs");
    let source = fs::read_to_string(&lib)?.replace("\"seen\"", "\"seen again\"");
    fs::write(&lib, source)?;
    let warm = build()?;
    Ok((cold, warm))
}
