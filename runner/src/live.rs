//! `runner -s DIR` without `-n`: the live proxy.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use std::path::PathBuf;

use waylay_proxy::live::{self, Live, Options};
use waylay_proxy::summary::flow_detail;
use waylay_proxy::tls::{Interceptor, ca};

use crate::cli::Cli;
use crate::output::Output;
use crate::scripts::{ScriptSpec, load_all};

/// mitmproxy's size notation: `1024`, `10k`, `3m`, `1g` (binary units).
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let (digits, unit) = match text.char_indices().last()? {
        (i, 'b') => (&text[..i], 1),
        (i, 'k') => (&text[..i], 1 << 10),
        (i, 'm') => (&text[..i], 1 << 20),
        (i, 'g') => (&text[..i], 1 << 30),
        _ => (&text[..], 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// The proxy's own `--set` names.
pub const PROXY_OPTIONS: [(&str, &str); 10] = [
    (
        "allow_hosts",
        "regex: intercept only tunnels to a matching host:port (as --allow-hosts)",
    ),
    (
        "body_size_limit",
        "size (e.g. 10m): the largest body read; larger ones fail",
    ),
    (
        "confdir",
        "directory: where the CA lives (as --confdir; ~/.waylay)",
    ),
    (
        "header_timeout",
        "seconds: a started request head must be complete within this (60); 408 after",
    ),
    (
        "ignore_hosts",
        "regex: pass tunnels to a matching host:port through (as --ignore-hosts)",
    ),
    (
        "shutdown_grace",
        "seconds: how long in-flight flows get at shutdown (10)",
    ),
    (
        "ssl_insecure",
        "true/false: don't verify upstream certificates (as -k)",
    ),
    (
        "ssl_verify_upstream_trusted_ca",
        "PEM file: a CA to trust for upstream servers, besides the system's",
    ),
    (
        "stream_large_bodies",
        "size: stream bodies larger than this instead of keeping them",
    ),
    (
        "upstream_timeout",
        "seconds: wait for a server to connect or answer (10 and 60)",
    ),
];

/// The proxy's options from `--proxyauth` and the proxy's `--set` pairs
/// (names checked by the caller); malformed values are an error that
/// names them.
pub fn options(cli: &Cli, sets: &[(String, String)]) -> Result<Options> {
    let mut options = Options {
        proxyauth: cli.proxyauth.clone(),
        ..Options::default()
    };
    if let Some(auth) = &cli.proxyauth
        && !auth.contains(':')
    {
        bail!("--proxyauth {auth:?}: expected USER:PASS");
    }
    let seconds = |name: &str, value: &str| -> Result<std::time::Duration> {
        let secs: u64 = value
            .parse()
            .with_context(|| format!("--set {name}={value}: expected whole seconds"))?;
        Ok(std::time::Duration::from_secs(secs))
    };
    let size = |name: &str, value: &str| -> Result<u64> {
        parse_size(value).with_context(|| {
            format!("--set {name}={value}: expected a size such as 1048576, 512k or 10m")
        })
    };
    let regex = |flag: &str, pattern: &str| -> Result<regex_lite::Regex> {
        regex_lite::Regex::new(&format!("(?i){pattern}"))
            .with_context(|| format!("{flag} {pattern:?}: not a valid regex"))
    };
    for pattern in &cli.ignore_hosts {
        options.ignore_hosts.push(regex("--ignore-hosts", pattern)?);
    }
    for pattern in &cli.allow_hosts {
        options.allow_hosts.push(regex("--allow-hosts", pattern)?);
    }
    options.trust.insecure = cli.ssl_insecure;
    for (name, value) in sets {
        match name.as_str() {
            "ignore_hosts" => options
                .ignore_hosts
                .push(regex("--set ignore_hosts", value)?),
            "allow_hosts" => options.allow_hosts.push(regex("--set allow_hosts", value)?),
            "ssl_insecure" => {
                options.trust.insecure = match value.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => true,
                    "false" | "0" | "no" | "off" => false,
                    _ => bail!("--set ssl_insecure={value}: expected true or false"),
                }
            }
            "ssl_verify_upstream_trusted_ca" => {
                options.trust.extra_ca = Some(value.into());
            }
            // Read by `confdir()`.
            "confdir" => {}
            "body_size_limit" => options.body_size_limit = Some(size(name, value)?),
            "stream_large_bodies" => options.stream_large_bodies = Some(size(name, value)?),
            "upstream_timeout" => {
                options.connect_timeout = seconds(name, value)?;
                options.response_timeout = options.connect_timeout;
            }
            "shutdown_grace" => options.shutdown_grace = seconds(name, value)?,
            "header_timeout" => options.header_timeout = seconds(name, value)?,
            other => bail!("--set {other}: not a proxy option"),
        }
    }
    if !options.ignore_hosts.is_empty() && !options.allow_hosts.is_empty() {
        bail!("ignore_hosts and allow_hosts cannot both be set; pick one");
    }
    Ok(options)
}

/// The confdir: `--confdir`, `--set confdir=`, or `~/.waylay`.
fn confdir(cli: &Cli) -> PathBuf {
    let set = cli
        .set
        .iter()
        .filter_map(|s| s.strip_prefix("confdir="))
        .next_back()
        .map(PathBuf::from);
    cli.confdir.clone().or(set).unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
            .join(".waylay")
    })
}

/// Loads (or makes) the CA and sets up interception, telling the user
/// what they need to know about it.
fn interceptor(cli: &Cli, options: &Options, output: &Output) -> Result<Interceptor> {
    let dir = confdir(cli);
    let loaded = ca::load_or_create(&dir).map_err(anyhow::Error::msg)?;
    if loaded.created {
        output.info(&format!(
            "Created a CA in {}; clients must trust {} to have HTTPS intercepted (see the README).",
            dir.display(),
            dir.join(ca::CERT_FILE).display()
        ));
    }
    for warning in &loaded.warnings {
        output.problem(&format!("runner: warning: {warning}"));
    }
    let (interceptor, notes) =
        Interceptor::new(loaded.ca, &options.trust).map_err(anyhow::Error::msg)?;
    for note in notes {
        output.problem(&format!("runner: warning: {note}"));
    }
    Ok(interceptor)
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

pub fn run(
    cli: &Cli,
    specs: &[ScriptSpec],
    output: &Arc<Output>,
    capture: Option<crate::offline::Capture>,
) -> Result<()> {
    let host: IpAddr = cli
        .listen_host
        .parse()
        .with_context(|| format!("--listen-host {}: not an IP address", cli.listen_host))?;
    let mut scripts = load_all(specs, output)?;
    let mut options = crate::settings::resolve(cli, &mut scripts)?;
    options.tls = Some(Arc::new(interceptor(cli, &options, output)?));
    let detail = if output.quiet { 0 } else { cli.flow_detail };
    let lines = output.clone();
    let on_flow = Box::new(move |flow: &waylay_proxy::Flow| {
        if let Some(text) = flow_detail(flow, detail) {
            lines.info(&text);
        }
    });
    let scripts = Arc::new(scripts);
    if !cli.no_reload {
        crate::reload::spawn(
            specs,
            crate::scripts::build_options(output)?,
            scripts.clone(),
            output.clone(),
        );
    }
    let live = Arc::new(Live::new(scripts, capture, on_flow, options));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind((host, cli.listen_port))
            .await
            .with_context(|| format!("cannot listen on {host}:{}; is another proxy running there? pick another port with -p", cli.listen_port))?;
        if !host.is_loopback() {
            output.problem(&format!("runner: warning: listening on {host}, reachable from other machines; use --listen-host 127.0.0.1 unless you mean it"));
        }
        let addr = listener.local_addr()?;
        output.info(&format!("HTTP proxy listening at {addr}."));
        live.start();
        live::serve(listener, live.clone(), shutdown_signal()).await.context("serving")
    });
    let done = live.done().context("flushing the capture file");
    result.and(done)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        for (text, want) in [
            ("1024", Some(1024)),
            ("10k", Some(10240)),
            ("3m", Some(3 << 20)),
            ("1G", Some(1 << 30)),
            ("x", None),
            ("5q", None),
        ] {
            assert_eq!(parse_size(text), want, "{text}");
        }
    }
}
