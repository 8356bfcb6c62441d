//! `runner -s DIR` without `-n`: the live proxy.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use std::path::PathBuf;

use waylay_proxy::live::{self, Live, Options};
use waylay_proxy::summary::flow_detail;
use waylay_proxy::tls::{Interceptor, ca};

use crate::cli::Cli;
use crate::output::Output;
use crate::scripts::{ScriptSpec, load_all};

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
