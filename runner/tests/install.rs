//! Waylay installed like a tool: `cargo install` from a clean copy of this
//! repository into a temporary cargo home, the copy deleted, then a script
//! made, tested and run (offline and live); then runners from two more
//! copies whose versions are bumped, one compatible (the pin moves) and one
//! not (refused, then `runner upgrade`).
//!
//! The cargo home shares this machine's registry cache, so nothing is
//! downloaded (`--offline`); builds share `target/install-test`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The real cargo home, whose registry cache the temporary one borrows.
fn real_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// What a user's machine looks like here: a home, a cargo home.
struct Machine {
    home: PathBuf,
    cargo_home: PathBuf,
    scripts_target: PathBuf,
}

impl Machine {
    fn env(&self, command: &mut Command) {
        command
            .env("HOME", &self.home)
            .env("CARGO_HOME", &self.cargo_home)
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TARGET_DIR", &self.scripts_target)
            .env_remove("WAYLAY_SDK_HOME")
            .env("CI", "true"); // insta compares, never writes
    }

    /// `runner ARGS` as installed under `bin` (a root of its own).
    fn runner(&self, bin: &Path, args: &[&str], cwd: &Path) -> Output {
        let mut command = Command::new(bin.join("bin/runner"));
        command.args(args).current_dir(cwd);
        self.env(&mut command);
        command.output().unwrap()
    }

    fn cargo_test(&self, dir: &Path) -> Output {
        let mut command = cargo();
        command.args(["test", "--quiet"]).current_dir(dir);
        self.env(&mut command);
        command.output().unwrap()
    }
}

/// The files git tracks (and new ones it would), as they are in the work
/// tree: what a clean clone of this commit holds.
fn copy_repository(to: &Path) {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output()
        .expect("git runs");
    assert!(listed.status.success());
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).unwrap();
        let from = root().join(name);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let target = to.join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&from, &target).unwrap();
    }
}

/// `sed` for a file in a copy: replaces `from` with `to`, which must occur.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} holds {from:?}", file.display());
    std::fs::write(file, text.replace(from, to)).unwrap();
}

/// Installs the runner from `source` into `install_root`, then deletes
/// `source`.
fn install(machine: &Machine, source: &Path, install_root: &Path) {
    let mut command = cargo();
    command
        .args([
            "install",
            "--debug",
            "--locked",
            "--offline",
            "--force",
            "--path",
        ])
        .arg(source.join("runner"))
        .arg("--root")
        .arg(install_root)
        .arg("--target-dir")
        .arg(root().join("target/install-test"))
        .env("CARGO_HOME", &machine.cargo_home)
        .env("HOME", &machine.home);
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "cargo install failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(source).unwrap();
}

/// Bumps a copy's versions: Waylay's to `waylay`, the SDK's to `sdk`, and,
/// when the SDK's minor moves, the ABI and every requirement on the SDK.
fn bump(copy: &Path, waylay: &str, sdk: &str, machine: &Machine) {
    edit(
        &copy.join("Cargo.toml"),
        "version = \"0.1.0\"",
        &format!("version = \"{waylay}\""),
    );
    edit(
        &copy.join("Cargo.toml"),
        "path = \"script-sdk\", version = \"0.7.0\"",
        &format!("path = \"script-sdk\", version = \"{sdk}\""),
    );
    edit(
        &copy.join("script-sdk/Cargo.toml"),
        "version = \"0.7.0\"",
        &format!("version = \"{sdk}\""),
    );
    let minor: u32 = sdk.split('.').nth(1).unwrap().parse().unwrap();
    if minor != 7 {
        edit(
            &copy.join("script-sdk/src/boundary/abi.rs"),
            "pub const ABI_VERSION: u32 = 7;",
            &format!("pub const ABI_VERSION: u32 = {minor};"),
        );
        let listed = Command::new("git")
            .args(["ls-files", "*Cargo.toml"])
            .current_dir(root())
            .output()
            .unwrap();
        for name in String::from_utf8(listed.stdout).unwrap().lines() {
            let file = copy.join(name);
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(
                &file,
                text.replace(
                    "waylay-sdk = \"0.7\"",
                    &format!("waylay-sdk = \"0.{minor}\""),
                ),
            )
            .unwrap();
        }
    }
    // The lockfile follows the workspace's own versions.
    let mut update = cargo();
    update
        .args(["update", "--workspace", "--offline"])
        .current_dir(copy)
        .env("CARGO_HOME", &machine.cargo_home);
    let out = update.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `-n -r` over the crate's sample: every response gains `x-waylay`.
fn run_offline(machine: &Machine, bin: &Path, script: &Path, work: &Path) -> String {
    let out_file = work.join("out.mitm");
    let _ = std::fs::remove_file(&out_file);
    let sample = script.join("tests/data/sample.mitm");
    let out = machine.runner(
        bin,
        &[
            "-n",
            "-q",
            "-r",
            sample.to_str().unwrap(),
            "-s",
            script.to_str().unwrap(),
            "-w",
            out_file.to_str().unwrap(),
        ],
        work,
    );
    assert_ok(&out, "runner -n -r -s");
    let flows = waylay_proxy::testing::read_flows(&out_file);
    assert!(!flows.is_empty());
    for flow in flows.iter().filter_map(|f| f.response()) {
        assert_eq!(
            waylay_proxy::http::header(flow, "x-waylay"),
            Some(&b"seen"[..])
        );
    }
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A one-answer origin on loopback; returns its port.
fn origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\norigin",
                        );
                        return;
                    }
                    line.clear();
                }
            });
        }
    });
    port
}

/// The installed runner as a live proxy with the script: one request
/// through it gets `x-waylay: seen`.
fn run_live(machine: &Machine, bin: &Path, script: &Path, work: &Path) {
    let mut command = Command::new(bin.join("bin/runner"));
    command
        .args(["--listen-host", "127.0.0.1", "--listen-port", "0", "-s"])
        .arg(script)
        .current_dir(work)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    machine.env(&mut command);
    let mut child: Child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_once(" listening at ")
                .map(|(_, a)| a.trim_end_matches('.').to_owned())
        })
        .expect("the installed runner listens");
    std::thread::spawn(move || lines.for_each(drop));
    let port = origin();
    let mut client = TcpStream::connect(&addr).unwrap();
    write!(
        client,
        "GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answer.to_ascii_lowercase().contains("x-waylay: seen"),
        "{answer}"
    );
    assert!(answer.ends_with("origin"), "{answer}");
}

#[test]
fn installed_without_a_checkout_and_upgraded_across_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let machine = Machine {
        home: tmp.path().join("home"),
        cargo_home: tmp.path().join("cargo-home"),
        scripts_target: root().join("target/install-test-scripts"),
    };
    std::fs::create_dir_all(&machine.home).unwrap();
    std::fs::create_dir_all(&machine.cargo_home).unwrap();
    for shared in ["registry", "git"] {
        let real = real_cargo_home().join(shared);
        if real.exists() {
            std::os::unix::fs::symlink(real, machine.cargo_home.join(shared)).unwrap();
        }
    }
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    // 1. Install from a clean copy, then delete it.
    let first = tmp.path().join("first-install");
    let clone = tmp.path().join("clone-1");
    copy_repository(&clone);
    install(&machine, &clone, &first);
    assert!(!clone.exists());

    let version = assert_ok(&machine.runner(&first, &["--version"], &work), "--version");
    let copy_line = version.lines().nth(2).unwrap().to_owned();
    let first_copy = copy_line
        .strip_prefix("scripts are pinned to ")
        .unwrap()
        .split(" (")
        .next()
        .unwrap()
        .to_owned();
    assert!(
        first_copy.starts_with(machine.home.join(".waylay/sdk/0.7.0-").to_str().unwrap()),
        "{version}"
    );

    // 2. A script: made, tested, run offline and live.
    let script = work.join("my_script");
    let made = machine.runner(&first, &["new", script.to_str().unwrap()], &work);
    assert_ok(&made, "runner new");
    let tested = assert_ok(&machine.cargo_test(&script), "cargo test in the new crate");
    assert!(tested.contains("1 passed"), "{tested}");
    run_offline(&machine, &first, &script, &work);
    run_live(&machine, &first, &script, &work);

    // 3. A newer, compatible Waylay (SDK 0.7.1): the pin moves, in one line.
    let second = tmp.path().join("second-install");
    let clone = tmp.path().join("clone-2");
    copy_repository(&clone);
    bump(&clone, "0.2.0", "0.7.1", &machine);
    install(&machine, &clone, &second);
    let said = run_offline(&machine, &second, &script, &work);
    let moved: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("moved its SDK pin"))
        .collect();
    assert_eq!(moved.len(), 1, "{said}");
    assert!(
        moved[0].contains("to this runner's waylay-sdk 0.7.1 at ")
            && moved[0].contains(&first_copy),
        "{}",
        moved[0]
    );
    let tested = assert_ok(&machine.cargo_test(&script), "cargo test after the move");
    assert!(tested.contains("1 passed"), "{tested}");
    // Back and forth between the two runners: moved again, never a
    // collision.
    let said = run_offline(&machine, &first, &script, &work);
    assert!(
        said.contains("moved its SDK pin to this runner's waylay-sdk 0.7.0"),
        "{said}"
    );
    run_offline(&machine, &second, &script, &work);

    // 4. A Waylay whose SDK (and ABI) moved on: refused, then upgraded.
    let third = tmp.path().join("third-install");
    let clone = tmp.path().join("clone-3");
    copy_repository(&clone);
    bump(&clone, "0.3.0", "0.8.0", &machine);
    install(&machine, &clone, &third);
    let name = script.to_str().unwrap();
    let refused = machine.runner(
        &third,
        &[
            "-n",
            "-q",
            "-r",
            script.join("tests/data/sample.mitm").to_str().unwrap(),
            "-s",
            name,
        ],
        &work,
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(
        stderr.lines().last().unwrap(),
        format!(
            "runner: error: {name}: made for waylay-sdk 0.7 (its Cargo.toml), and this runner has waylay-sdk 0.8.0 \
             (ABI 8); run `runner upgrade {name}` to move it to 0.8, then fix what the compiler reports"
        )
    );
    let upgraded = assert_ok(
        &machine.runner(&third, &["upgrade", name], &work),
        "runner upgrade",
    );
    assert!(
        upgraded.starts_with(&format!("Upgraded {name}: waylay-sdk \"0.7\" -> \"0.8\"")),
        "{upgraded}"
    );
    run_offline(&machine, &third, &script, &work);
    let tested = assert_ok(&machine.cargo_test(&script), "cargo test after the upgrade");
    assert!(tested.contains("1 passed"), "{tested}");
    // The older runner now refuses it the same way.
    let older = machine.runner(
        &second,
        &[
            "-n",
            "-q",
            "-r",
            script.join("tests/data/sample.mitm").to_str().unwrap(),
            "-s",
            name,
        ],
        &work,
    );
    assert_eq!(older.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&older.stderr).contains(
            "made for waylay-sdk 0.8 (its Cargo.toml), and this runner has waylay-sdk 0.7.1"
        ),
        "{}",
        String::from_utf8_lossy(&older.stderr)
    );
}
