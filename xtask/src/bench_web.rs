//! `cargo xtask bench web`: the web view at scale. A capture of
//! `--flows` flows of about 2 KB (all.mitm's five, over and over) is
//! opened with `runner -n -r FILE --web`: when the first rows come, when
//! the whole index is built, the server's RSS then, and a `~b` filter's
//! time over every flow. mitmweb 11.0.2 opens `--mitmweb-flows` of them
//! in the same run (its load time and RSS; Waylay's beside it). Then the
//! live proxy at 8 connections with the view open and receiving updates,
//! against `--web` off; and the longest frame while Chromium scrolls the
//! million rows. `--part index,scroll,live,mitmweb` runs some of them;
//! `--against REV` runs REV's runner beside the working tree's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::procs::{Running, free_port, rss_kib_of, wait_listening};
use crate::util::{arg_value, root};

/// A GET over a fresh connection: status and body.
pub(crate) fn get(addr: &str, path: &str, cookie: &str) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out)?;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no response head")?;
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = out[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = unchunk(&body);
    }
    Ok((status, body))
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

pub(crate) fn json(addr: &str, path: &str, cookie: &str) -> Result<serde_json::Value> {
    let (status, body) = get(addr, path, cookie)?;
    if status != 200 {
        bail!("GET {path}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(serde_json::from_slice(&body)?)
}

/// A POST of JSON `body` to the view: the answer's JSON.
pub(crate) fn post(
    addr: &str,
    path: &str,
    cookie: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value> {
    let body = body.to_string();
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    stream.read_to_string(&mut out)?;
    let (head, answer) = out.split_once("\r\n\r\n").context("no response head")?;
    if !head.starts_with("HTTP/1.1 20") {
        bail!("POST {path}: {head}: {answer}");
    }
    Ok(serde_json::from_str(answer)?)
}

/// `runner -n -r FILE --web`: the child, its view's address and cookie.
pub(crate) fn open_view(runner: &Path, file: &Path) -> Result<(Child, String, String)> {
    let mut child = Command::new(runner)
        .args(["-n", "-q", "--web", "--set", "web_port=0", "-r"])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().context("the runner printed nothing")??;
    let url = line
        .strip_prefix("Web view at http://")
        .with_context(|| format!("unexpected first line {line:?}"))?;
    let (addr, token) = url.split_once("/?token=").context("no token")?;
    // Keep reading so the runner never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((child, addr.to_owned(), format!("waylay_token={token}")))
}

pub(crate) struct Opened {
    first_rows: f64,
    indexed: f64,
    rss_mib: f64,
}

/// Opens `file` in Waylay's view and waits until its `flows` are
/// indexed; the child is left running for more.
pub(crate) fn waylay_open(
    runner: &Path,
    file: &Path,
    flows: u64,
) -> Result<(Child, String, String, Opened)> {
    let started = Instant::now();
    let (child, addr, cookie) = open_view(runner, file)?;
    let mut first_rows = None;
    loop {
        let w = json(&addr, "/api/flows?count=50", &cookie)?;
        if first_rows.is_none() && w["rows"].as_array().is_some_and(|r| !r.is_empty()) {
            first_rows = Some(started.elapsed().as_secs_f64());
        }
        if w["total"].as_u64() == Some(flows) {
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("the index was not built in 15 minutes: {w}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let indexed = started.elapsed().as_secs_f64();
    let rss_mib = rss_kib_of(child.id()) / 1024.0;
    Ok((
        child,
        addr,
        cookie,
        Opened {
            first_rows: first_rows.unwrap_or(indexed),
            indexed,
            rss_mib,
        },
    ))
}

/// mitmweb 11.0.2 over `file`: seconds until it has read the file (its
/// one thread goes idle, and `/flows` then holds `flows` flows; or 30
/// minutes pass), its RSS then, and how many flows it holds. Done by
/// watching its CPU, not by polling `/flows`: each such poll is the
/// whole list as JSON on mitmweb's one thread, which an open page does
/// not cost it (the page gets one `flows/add` message a flow).
fn mitmweb_open(python: &Path, file: &Path, flows: usize) -> Result<(f64, f64, usize)> {
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(python.with_file_name("mitmweb"))
        .args([
            "-n",
            "-q",
            "--no-web-open-browser",
            "--web-port",
            &port.to_string(),
            "-r",
        ])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let running = Running(child);
    let pid = running.0.id();
    wait_listening(port)?;
    let addr = format!("127.0.0.1:{port}");
    let mut held = 0;
    let mut last = (Instant::now(), crate::tcp_load::process_cpu(pid));
    let load = loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = (Instant::now(), crate::tcp_load::process_cpu(pid));
        let busy = (now.1 - last.1) / (now.0 - last.0).as_secs_f64();
        if busy < 0.05 {
            // Idle: it has read what it will read. When did it stop?
            let done = last.0.duration_since(started).as_secs_f64();
            if let Ok((200, body)) = get(&addr, "/flows", "") {
                let list: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                held = list.as_array().map_or(held, Vec::len);
            }
            if held >= flows {
                break done;
            }
        }
        if started.elapsed() > Duration::from_secs(1800) {
            let gave_up = started.elapsed().as_secs_f64();
            // How far it got: one look at the list, now that time is up.
            if let Ok((200, body)) = get(&addr, "/flows", "") {
                let list: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                held = list.as_array().map_or(held, Vec::len);
            }
            break gave_up;
        }
        last = (Instant::now(), crate::tcp_load::process_cpu(pid));
    };
    let rss = rss_kib_of(pid) / 1024.0;
    drop(running);
    Ok((load, rss, held))
}

/// What the live proxy runs with.
#[derive(Clone, Copy, PartialEq)]
enum Live {
    /// Neither the view nor a capture.
    Off,
    /// `--web`, with a client taking updates.
    Web,
    /// `-w /dev/null`: the capture path that the view shares, without it.
    Capture,
}

/// Requests per second through the live proxy, with or without the view
/// (and, with it, a client taking its updates and asking for a window
/// ten times a second, as an open page does).
fn live_rps(runner: &Path, with: Live, seconds: u32) -> Result<f64> {
    let origin = crate::bench_live::origin()?;
    let port = free_port()?;
    let mut args = vec![];
    let web = with == Live::Web;
    match with {
        Live::Off => {}
        Live::Web => args.extend(["--web", "--set", "web_port=0"]),
        Live::Capture => args.extend(["-w", "/dev/null"]),
    }
    let mut child = Command::new(runner)
        .arg("--confdir")
        .arg(root().join("target/bench/waylay-conf"))
        .args(["-p", &port.to_string(), "--flow-detail", "0"])
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let view = if web {
        let line = lines.next().context("no line")??;
        let url = line
            .strip_prefix("Web view at http://")
            .context("no view line")?
            .to_owned();
        let (addr, token) = url.split_once("/?token=").context("no token")?;
        Some((addr.to_owned(), format!("waylay_token={token}")))
    } else {
        None
    };
    std::thread::spawn(move || for _ in lines {});
    let running = Running(child);
    wait_listening(port)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = view.map(|(addr, cookie)| {
        let stop = stop.clone();
        std::thread::spawn(move || -> Result<u64> {
            let mut seen = 0;
            // The push channel, as the page holds it.
            let mut request =
                tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                    format!("ws://{addr}/api/updates"),
                )?;
            request.headers_mut().insert("Cookie", cookie.parse()?);
            request
                .headers_mut()
                .insert("Origin", format!("http://{addr}").parse()?);
            let (mut socket, _) = tokio_tungstenite::tungstenite::connect(request)?;
            if let tokio_tungstenite::tungstenite::stream::MaybeTlsStream::Plain(s) =
                socket.get_mut()
            {
                s.set_read_timeout(Some(Duration::from_millis(100)))?;
            }
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(tokio_tungstenite::tungstenite::Message::Text(_)) = socket.read() {
                    seen += 1;
                    let _ = get(&addr, "/api/flows?count=50", &cookie);
                }
            }
            Ok(seen)
        })
    });
    let load = crate::bench_live::wrk(
        &format!("http://127.0.0.1:{port}/"),
        origin,
        8,
        seconds,
        true,
    )?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(w) = watcher {
        let updates = w
            .join()
            .map_err(|_| anyhow::anyhow!("the watcher panicked"))??;
        println!("    (the view's client took {updates} updates)");
    }
    drop(running);
    Ok(load.rps)
}

/// Scrolls the view at `url` in Chromium: the longest frame and the
/// 99th percentile (milliseconds between animation frames, the page's
/// fetch and paint included), and how many long-animation-frame entries
/// over 50 ms Chromium reported.
fn scroll_frames(url: &str) -> Result<(f64, f64, u64)> {
    let chromium =
        crate::cdp::chromium().context("Chromium is needed: apt-get install chromium")?;
    let mut browser = crate::cdp::Browser::start(chromium, "bench-web-scroll");
    browser.goto(url);
    browser.wait_for(
        "document.querySelectorAll('#rows .row').length > 10",
        "the list shows rows",
    );
    let result = browser.eval(
        r#"(async () => {
  const list = document.querySelector('#list');
  const long = [];
  try {
    new PerformanceObserver((l) => long.push(...l.getEntries().map((e) => e.duration)))
      .observe({ type: 'long-animation-frame' });
  } catch {}
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const gaps = [];
  let last = (await frame(), performance.now());
  const step = async (top) => {
    list.scrollTop = top;
    await frame();
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  };
  const room = () => list.scrollHeight - list.clientHeight;
  for (let i = 0; i < 300; i++) await step((i / 299) * room());
  let seed = 7;
  for (let i = 0; i < 300; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    await step((seed / 2147483648) * room());
  }
  await new Promise((r) => setTimeout(r, 200));
  gaps.sort((a, b) => a - b);
  return { longest: gaps[gaps.length - 1], p99: gaps[Math.floor(gaps.length * 0.99)], long: long.filter((d) => d > 50).length };
})()"#,
    );
    Ok((
        result["longest"].as_f64().context("no frame times")?,
        result["p99"].as_f64().unwrap_or_default(),
        result["long"].as_u64().unwrap_or_default(),
    ))
}

/// Which parts `--part` asks for (all when it is not given).
fn wanted(args: &[&str], part: &str) -> Result<bool> {
    Ok(match crate::util::arg_text(args, "--part")? {
        None => true,
        Some(list) => list.split(',').any(|p| p == part),
    })
}

pub fn web(args: &[&str]) -> Result<()> {
    let flows = arg_value(args, "--flows", 1_000_000)?;
    let mitmweb_flows = arg_value(args, "--mitmweb-flows", 100_000)?;
    let seconds = arg_value(args, "--seconds", 10)? as u32;
    let variants = crate::ab::Variant::from_args(args)?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    println!("machine: {}", crate::bench::machine());
    if wanted(args, "index")? {
        let big = dir.join(format!("web-{flows}.mitm"));
        let size = crate::bench::concat(&big, flows.div_ceil(5))?;
        let flows = flows.div_ceil(5) * 5;
        println!("capture: {flows} flows, {:.0} MB", size as f64 / 1e6);
        println!(
            "\n| runner | first rows (≤ 1 s) | index built (≤ 10 s) | RSS (≤ 300 MiB) | `~b \"hello from\"` (≤ 5 s) | RSS after |"
        );
        println!("|---|---|---|---|---|---|");
        for v in &variants {
            let (child, addr, cookie, opened) = waylay_open(&v.runner, &big, flows as u64)?;
            let view = Running(child);
            let started = Instant::now();
            let filtered = json(
                &addr,
                "/api/flows?count=50&filter=~b%20%22hello%20from%22",
                &cookie,
            )?;
            let filter_secs = started.elapsed().as_secs_f64();
            let rss_after_filter = rss_kib_of(view.0.id()) / 1024.0;
            drop(view);
            println!(
                "| {} | {:.2} s | {:.2} s | {:.1} MiB | {filter_secs:.2} s ({} matched) | {rss_after_filter:.1} MiB |",
                v.label, opened.first_rows, opened.indexed, opened.rss_mib, filtered["matched"]
            );
        }
    }
    if wanted(args, "scroll")? {
        let big = dir.join(format!("web-{flows}.mitm"));
        crate::bench::concat(&big, flows.div_ceil(5))?;
        let flows = flows.div_ceil(5) * 5;
        println!(
            "\nscrolling {flows} rows top to bottom in 300 frames, then 300 random jumps (Chromium, headless):"
        );
        println!(
            "\n| runner | longest frame (≤ 50 ms) | 99th percentile frame | long animation frames over 50 ms |"
        );
        println!("|---|---|---|---|");
        for v in &variants {
            let (child, addr, cookie, _) = waylay_open(&v.runner, &big, flows as u64)?;
            let view = Running(child);
            let token = cookie.trim_start_matches("waylay_token=");
            let frames = scroll_frames(&format!("http://{addr}/?token={token}"))?;
            drop(view);
            println!(
                "| {} | {:.1} ms | {:.1} ms | {} |",
                v.label, frames.0, frames.1, frames.2
            );
        }
    }
    if wanted(args, "live")? {
        let rounds = arg_value(args, "--rounds", 5)?;
        println!(
            "\nlive proxy at 8 connections, {seconds} s each, {rounds} rounds interleaved, medians:"
        );
        println!(
            "\n| runner | `--web` off | `--web` on, a client taking updates | on / off (≥ 0.90) | `-w /dev/null`, no view | that / off |"
        );
        println!("|---|---|---|---|---|---|");
        // [variant][off, on, capture][round]; every variant in each round,
        // so that the machine's drift falls on all of them alike.
        let mut runs = vec![[Vec::new(), Vec::new(), Vec::new()]; variants.len()];
        for _ in 0..rounds {
            for (v, runs) in variants.iter().zip(runs.iter_mut()) {
                for (i, with) in [Live::Off, Live::Web, Live::Capture]
                    .into_iter()
                    .enumerate()
                {
                    runs[i].push(live_rps(&v.runner, with, seconds)?);
                }
            }
        }
        let median = crate::stats::median;
        let round = |v: &[f64]| v.iter().map(|r| r.round()).collect::<Vec<_>>();
        for (v, [off, on, capture]) in variants.iter().zip(&runs) {
            println!(
                "| {} | {:?}, median {:.0} | {:?}, median {:.0} | {:.2} | {:?}, median {:.0} | {:.2} |",
                v.label,
                round(off),
                median(off),
                round(on),
                median(on),
                median(on) / median(off),
                round(capture),
                median(capture),
                median(capture) / median(off)
            );
        }
    }
    if wanted(args, "mitmweb")? {
        let small = dir.join(format!("web-{mitmweb_flows}.mitm"));
        crate::bench::concat(&small, mitmweb_flows.div_ceil(5))?;
        let small_flows = mitmweb_flows.div_ceil(5) * 5;
        println!("\n| {small_flows} flows | load | RSS |");
        println!("|---|---|---|");
        for v in &variants {
            let (child, _, _, small_open) = waylay_open(&v.runner, &small, small_flows as u64)?;
            drop(Running(child));
            println!(
                "| Waylay, {} (index built) | {:.2} s | {:.1} MiB |",
                v.label, small_open.indexed, small_open.rss_mib
            );
        }
        let python = crate::peer::ensure()?;
        let (mitmweb_load, mitmweb_rss, held) = mitmweb_open(&python, &small, small_flows)?;
        let what = if held >= small_flows {
            "`/flows` holds them all".to_owned()
        } else {
            format!("**gave up**: `/flows` held {held}")
        };
        println!("| mitmweb 11.0.2 ({what}) | {mitmweb_load:.2} s | {mitmweb_rss:.1} MiB |");
    }
    Ok(())
}
