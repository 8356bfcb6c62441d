//! Kernel work per request: `perf stat` counting context switches and
//! system calls (`raw_syscalls:sys_enter`) in a set of processes, with
//! all their threads, while a load runs.

use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::util::root;

/// What `perf stat` counted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub context_switches: u64,
    pub syscalls: u64,
}

/// The process `pid` and its child processes (nginx's workers).
pub fn with_children(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    pids.extend(
        children
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok()),
    );
    pids
}

/// Runs `load` while `perf stat` counts in `pids`.
pub fn stat<T>(pids: &[u32], load: impl FnOnce() -> Result<T>) -> Result<(T, Counts)> {
    let out = root().join("target/bench/perf-stat.csv");
    let list = pids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut perf = Command::new("perf")
        .args([
            "stat",
            "-x,",
            "-e",
            "context-switches,raw_syscalls:sys_enter",
            "-p",
        ])
        .arg(&list)
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("running perf (apt-get install linux-perf)")?;
    // perf attaches within a few milliseconds.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let result = load();
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let status = perf.wait()?;
    let result = result?;
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let count = |event: &str| {
        text.lines()
            .find(|l| l.split(',').nth(2) == Some(event))
            .and_then(|l| l.split(',').next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    match (count("context-switches"), count("raw_syscalls:sys_enter")) {
        (Some(context_switches), Some(syscalls)) => Ok((
            result,
            Counts {
                context_switches,
                syscalls,
            },
        )),
        _ => bail!("perf stat ({status}) counted nothing for {list}: {text}"),
    }
}
