//! The processes the benches start and measure: the runner, mitmdump and
//! hudsucker on loopback ports, stopped however a bench ends, and their
//! memory read from /proc.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::util::{root, run};

/// A memory figure of a running process from /proc, in KiB: `VmHWM`
/// (peak) or `VmRSS` (now).
pub(crate) fn memory_kib(child: &Running, field: &str) -> f64 {
    memory_kib_of(child.0.id(), field)
}

/// The current RSS of process `pid`, in KiB.
pub(crate) fn rss_kib_of(pid: u32) -> f64 {
    memory_kib_of(pid, "VmRSS")
}

fn memory_kib_of(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Waits for `child` to listen on `port`: up to 10 minutes (a runner
/// builds its script first, and cargo may be waiting for another build's
/// lock), failing at once if the child exits.
pub(crate) fn wait_ready(child: &mut Running, port: u16) -> Result<()> {
    for _ in 0..6000 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.0.try_wait()? {
            bail!("the process meant to listen on port {port} exited with {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on port {port} after 10 minutes")
}

/// Waits up to 60 s for something to listen on `port`.
pub(crate) fn wait_listening(port: u16) -> Result<()> {
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on port {port} after 60 s")
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process stopped (SIGINT, then kill) however the bench ends.
pub(crate) struct Running(pub(crate) Child);

/// `target/release/runner -q -p PORT ARGS`, stopped when dropped. Its CA
/// lives in `target/bench/waylay-conf` unless ARGS name a confdir: a bench
/// never writes to the user's home.
pub(crate) fn runner(args: &[&str], port: u16) -> Result<Running> {
    runner_at(&root().join("target/release/runner"), args, port)
}

/// The runner at `binary`, as [`runner`] starts it.
pub(crate) fn runner_at(binary: &Path, args: &[&str], port: u16) -> Result<Running> {
    let mut command = Command::new(binary);
    if !args.contains(&"--confdir") {
        command
            .arg("--confdir")
            .arg(root().join("target/bench/waylay-conf"));
    }
    let child = command
        .args(["-q", "-p", &port.to_string()])
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Running(child))
}

/// `mitmdump -q -s SCRIPT` on loopback at PORT, stopped when dropped.
pub(crate) fn mitmdump(
    python: &std::path::Path,
    script: &std::path::Path,
    port: u16,
) -> Result<Running> {
    mitmdump_with(python, script, port, &[])
}

/// `mitmdump` as above, with more arguments.
pub(crate) fn mitmdump_with(
    python: &std::path::Path,
    script: &std::path::Path,
    port: u16,
    extra: &[&str],
) -> Result<Running> {
    let child = Command::new(python.with_file_name("mitmdump"))
        .args(extra)
        .args([
            "-q",
            "--listen-host",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-s",
        ])
        .arg(script)
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Running(child))
}

impl Running {
    /// Stops it with SIGINT and waits up to `patience` for it to exit (a
    /// runner writing a large capture may need a while); then kills it.
    pub(crate) fn stop_within(mut self, patience: Duration) -> Result<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let until = std::time::Instant::now() + patience;
        while std::time::Instant::now() < until {
            if let Some(status) = self.0.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("still running {} s after SIGINT", patience.as_secs())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The hudsucker peer (`xtask/peers/hudsucker`, its own workspace, built
/// into `target/peers`), built if needed.
pub(crate) fn build_hudsucker() -> Result<()> {
    run(
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).args([
            "build",
            "--release",
            "--manifest-path",
            "xtask/peers/hudsucker/Cargo.toml",
            "--target-dir",
            "target/peers",
        ]),
    )
}

/// `hudsucker-peer PORT` (see `build_hudsucker`), stopped when dropped.
pub(crate) fn hudsucker(port: u16) -> Result<Running> {
    let child = Command::new(root().join("target/peers/release/hudsucker-peer"))
        .arg(port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .context("starting target/peers/release/hudsucker-peer")?;
    Ok(Running(child))
}

/// Waits up to 60 s for a file a child writes (a CA certificate).
pub(crate) fn wait_for_file(path: &Path) -> Result<()> {
    for _ in 0..600 {
        if path.exists() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{} did not appear", path.display())
}

/// Raises this process's soft open-files limit to at least `needed` (up
/// to the hard limit) with util-linux's `prlimit`, so that children
/// started afterwards inherit it too.
pub(crate) fn raise_open_files(needed: u64) -> Result<()> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let (soft, hard) = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .map(|l| {
            let mut n = l
                .split_whitespace()
                .map(|v| v.parse::<u64>().unwrap_or(u64::MAX));
            (n.next().unwrap_or(0), n.next().unwrap_or(0))
        })
        .context("no open-files line in /proc/self/limits")?;
    if soft >= needed {
        return Ok(());
    }
    if hard < needed {
        bail!("{needed} open files are needed and the hard limit is {hard}: raise it (ulimit -Hn)");
    }
    let hard = if hard == u64::MAX {
        "unlimited".to_owned()
    } else {
        hard.to_string()
    };
    run(Command::new("prlimit").args([
        "--pid",
        &std::process::id().to_string(),
        &format!("--nofile={hard}:{hard}"),
    ]))
}
