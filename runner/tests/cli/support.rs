//! Running the runner, and the files it works on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use waylay_proxy::Flow;
use waylay_proxy::testing::read_flows;

/// Every golden flow file but the concatenation `all.mitm`.
pub const GOLDEN: [&str; 7] = [
    "get.mitm",
    "post.mitm",
    "notfound.mitm",
    "refused.mitm",
    "https.mitm",
    "websocket.mitm",
    "tcp.mitm",
];

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A golden flow file.
pub fn golden(name: &str) -> PathBuf {
    root().join("testdata/flows").join(name)
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The last line of standard error: where the runner puts its error.
    pub fn error_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }

    /// Lines of standard error that the runner (not cargo) wrote.
    pub fn runner_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("runner:") || l.starts_with('['))
            .collect()
    }
}

/// Runs `runner ARGS` from the workspace root, feeding `stdin`.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(args)
        .current_dir(root())
        // Script builds from tests share one target directory of their own.
        .env("CARGO_TARGET_DIR", root().join("target/test-scripts"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the runner starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `runner ARGS` from the workspace root.
pub fn run(args: &[&str]) -> Output {
    run_with_stdin(args, b"")
}

/// A scratch directory, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A path in `dir`, as a string for the command line.
pub fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

/// Every flow of a file.
pub fn flows(path: impl AsRef<Path>) -> Vec<Flow> {
    read_flows(path)
}

/// Writes a script crate into `dir` from (file, contents) pairs.
pub fn write_crate(dir: &Path, files: &[(&str, &str)]) {
    for (file, contents) in files {
        let target = dir.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, contents).unwrap();
    }
}

/// A script crate in `dir` that does not compile (a type error).
pub fn broken_crate(dir: &Path) {
    write_crate(
        dir,
        &[
            ("Cargo.toml", &manifest("broken", "\"cdylib\"", true)),
            ("src/lib.rs", "pub fn oops() -> u32 { \"not a number\" }\n"),
        ],
    );
}

/// A Cargo.toml for a throwaway script crate.
pub fn manifest(name: &str, crate_type: &str, sdk: bool) -> String {
    // The SDK's minor version is its ABI version.
    let deps = if sdk { "waylay-sdk = \"0.7\"\n" } else { "" };
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ncrate-type = [{crate_type}]\n\n\
         [dependencies]\n{deps}\n[workspace]\n"
    )
}

/// A live proxy run by the runner, on an ephemeral port.
pub struct Proxy {
    child: std::process::Child,
    pub addr: String,
    /// Every listener's address, in `--mode` order.
    pub addrs: Vec<String>,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The confdir the proxy keeps its CA in, made for it unless the
    /// test named one.
    pub confdir: PathBuf,
    _confdir: Option<tempfile::TempDir>,
}

impl Proxy {
    /// Starts `runner -p 0 ARGS` and waits until it listens.
    pub fn start(args: &[&str]) -> Proxy {
        use std::io::BufRead;
        let named = args
            .iter()
            .position(|a| *a == "--confdir")
            .map(|i| PathBuf::from(args[i + 1]));
        let made = named.is_none().then(scratch);
        let confdir = named.unwrap_or_else(|| made.as_ref().unwrap().path().to_owned());
        let mut command = Command::new(env!("CARGO_BIN_EXE_runner"));
        if made.is_some() {
            command.arg("--confdir").arg(&confdir);
        }
        let mut child = command
            .args(["--listen-port", "0"])
            .args(args)
            .current_dir(root())
            .env("CARGO_TARGET_DIR", root().join("target/test-scripts"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the runner starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(addr) = line
                    .split_once(" listening at ")
                    .and_then(|(_, a)| a.strip_suffix('.'))
                {
                    let _ = tx.send(addr.to_owned());
                }
                keep.lock().unwrap().push(line);
            }
        });
        // One address per listener: one per --mode, or the regular one.
        let listeners = args.iter().filter(|a| **a == "--mode").count().max(1);
        let mut addrs = Vec::new();
        while addrs.len() < listeners {
            let Ok(addr) = rx.recv_timeout(std::time::Duration::from_secs(120)) else {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the proxy did not start:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            addrs.push(addr);
        }
        let addr = addrs[0].clone();
        Proxy {
            child,
            addr,
            addrs,
            stdout: lines,
            confdir,
            _confdir: made,
        }
    }

    /// The CA certificate clients trust to have HTTPS intercepted.
    pub fn ca_cert(&self) -> String {
        self.confdir
            .join("waylay-ca-cert.pem")
            .display()
            .to_string()
    }

    /// `http://ADDR`, for curl's -x.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The runner's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// SIGINT, as Ctrl-C sends it.
    pub fn interrupt(&self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
    }

    /// SIGTERM, then everything it printed.
    pub fn stop(mut self) -> Output {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        Output {
            code: status.code().unwrap_or(-1),
            stdout: self.lines().join("\n"),
            stderr,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// curl through `proxy` with ARGS; returns what it printed.
pub fn curl(proxy: &Proxy, args: &[&str]) -> String {
    let out = curl_via(&proxy.url(), args);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// curl through the proxy at `proxy_url` (Waylay's or mitmdump's) with
/// ARGS: its whole output, exit status and standard error included.
pub fn curl_via(proxy_url: &str, args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "-x", proxy_url])
        .args(args)
        .output()
        .expect("curl runs (install it with apt-get install curl)")
}

/// curl through `proxy` trusting its CA, with ARGS; returns stdout.
pub fn curl_https(proxy: &Proxy, args: &[&str]) -> String {
    curl(proxy, &[&["--cacert", &proxy.ca_cert()], args].concat())
}

/// Sends raw bytes to `addr` and checks the answer, read until the peer
/// closes: its status line is `HTTP/1.1 {status} …` and it says each of
/// `says` somewhere. Returns the whole answer.
#[track_caller]
pub fn answers(addr: &str, request: impl AsRef<[u8]>, status: u16, says: &[&str]) -> String {
    let request = request.as_ref();
    let out = raw(addr, request);
    let shown = String::from_utf8_lossy(&request[..request.len().min(80)]);
    assert!(
        out.starts_with(&format!("HTTP/1.1 {status} ")),
        "{shown:?} was answered, not with {status}: {out}"
    );
    for piece in says {
        assert!(out.contains(piece), "{shown:?}: no {piece:?} in {out}");
    }
    out
}

/// Sends raw bytes to `addr` and reads until the peer closes.
pub fn raw(addr: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
