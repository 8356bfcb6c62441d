//! `runner -s DIR` without `-n`: the live proxy.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use waylay_proxy::live::mode::{Kind, Mode};
use waylay_proxy::live::{self, Live};
use waylay_proxy::summary::flow_detail;

use crate::cli::Cli;
use crate::output::Output;
use crate::scripts::{ScriptSpec, load_all};

/// The first Ctrl-C (or SIGTERM): serving stops, and flows in flight get
/// `shutdown_grace` to finish. Says how many there are; a second signal
/// ends the wait at once.
async fn first_signal(live: &Arc<Live>, output: &Output) {
    crate::signals::shutdown_signal().await;
    let waiting = live.in_flight();
    if waiting > 0 {
        output.problem(&format!(
            "runner: waiting for {waiting} flow(s) to finish (Ctrl-C again to quit)"
        ));
    }
    let live = live.clone();
    tokio::spawn(async move {
        crate::signals::shutdown_signal().await;
        live.quit_now();
    });
}

/// How a listener introduces itself, as mitmdump does.
fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Regular => "HTTP proxy".into(),
        Kind::Transparent => "Transparent proxy".into(),
        Kind::Socks5 => "SOCKS5 proxy".into(),
        Kind::Upstream(s) => format!(
            "HTTP proxy (upstream mode, via {}://{}:{})",
            if s.scheme.tls() { "https" } else { "http" },
            s.host,
            s.port
        ),
        Kind::Reverse(s) => format!("Reverse proxy to {}:{}", s.host, s.port),
    }
}

/// The listeners `--mode` asks for (one regular one without it), each at
/// its address: the spec's, else `--listen-host` and `-p`, else the
/// mode's default port. Two on one address are refused.
fn modes(cli: &Cli) -> Result<Vec<(Mode, std::net::SocketAddr)>> {
    let specs = if cli.mode.is_empty() {
        vec!["regular".to_owned()]
    } else {
        cli.mode.clone()
    };
    let mut out: Vec<(Mode, std::net::SocketAddr)> = Vec::new();
    for spec in &specs {
        let mode = Mode::parse(spec).map_err(anyhow::Error::msg)?;
        let host_text = mode.listen_host.as_deref().unwrap_or(&cli.listen_host);
        let host: IpAddr = host_text.parse().with_context(|| {
            format!("--mode {spec}: the listen address {host_text:?} is not an IP address")
        })?;
        let port = mode
            .listen_port
            .or(cli.listen_port)
            .unwrap_or_else(|| mode.default_port());
        let addr = std::net::SocketAddr::new(host, port);
        if let Some((other, _)) = out.iter().find(|(_, a)| *a == addr && port != 0) {
            bail!(
                "--mode {} and --mode {spec} would both listen on {addr}; give one its own port with @PORT",
                other.spec
            );
        }
        out.push((mode, addr));
    }
    Ok(out)
}

pub fn run(
    cli: &Cli,
    specs: &[ScriptSpec],
    output: &Arc<Output>,
    capture: Option<crate::capture::Capture>,
) -> Result<()> {
    let mut scripts = load_all(specs, output)?;
    let mut options = crate::settings::resolve(cli, &mut scripts)?;
    let flows = crate::flow_options::resolve(cli, &mut scripts, output)?;
    let har = crate::har_dump::open(cli, flows.save.clone())?;
    let replay = crate::client_replay::settings(cli)?;
    let saved = crate::readfile::open(cli.rfile.as_deref())?;
    options.tls = Some(Arc::new(crate::interception::interceptor(
        cli, &options, output,
    )?));
    // Flow lines read a stream's message count, never its messages; a
    // view or save filter and a HAR file may read them.
    let lines_only = har.is_none() && flows.save.is_none() && flows.view.is_none();
    let detail = if output.quiet { 0 } else { cli.flow_detail };
    let lines = output.clone();
    let view = flows.view.clone();
    // Quiet, no flow lines: finished flows cost no thread hop.
    let on_flow = (detail > 0).then(|| {
        Box::new(move |flow: &waylay_proxy::Flow| {
            if view.as_ref().is_some_and(|v| !v.matches(flow)) {
                return;
            }
            if let Some(text) = flow_detail(flow, detail) {
                lines.info(&text);
            }
        }) as Box<dyn Fn(&waylay_proxy::Flow) + Send + Sync>
    });
    // A save filter: the capture is written where the filter is matched.
    let (capture, on_flow) =
        crate::flow_options::filtered_capture(capture, on_flow, flows.save.clone(), output.clone());
    let on_flow = crate::har_dump::hook(har.as_ref(), on_flow);
    let web = match cli.web {
        true => Some(crate::web::Web::start(cli, output)?),
        false => None,
    };
    if web.is_none() && cli.config.last("intercept").is_some() {
        bail!(
            "--set intercept needs --web: without the view, nothing can resume an intercepted flow"
        );
    }
    if let Some(web) = &web {
        options.guarded.push(web.address());
    }
    let scripts = Arc::new(scripts);
    if let Some(web) = &web {
        web.set_engine(scripts.clone(), &flows.rules);
    }
    if !cli.no_reload {
        crate::reload::spawn(specs, scripts.clone(), output.clone());
    }
    let sinks = waylay_proxy::live::Sinks {
        capture,
        on_flow,
        on_encoded: web.as_ref().map(|web| web.on_encoded()),
        lines_only,
    };
    let live = Arc::new(Live::with_sinks(scripts, sinks, options));
    if let Some(web) = &web {
        live.set_pause(web.intercepts());
        web.set_live(&live);
    }
    // This thread is the first of `io_threads` (`live::serve` starts the
    // others), each with a runtime of its own: thread-per-core.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if let Some(web) = &web {
        // The view's replays go out as -C's would.
        let replayer = waylay_proxy::live::replay::Replayer::start(
            &live,
            crate::client_replay::mode_for(cli),
            runtime.handle().clone(),
            waylay_proxy::live::replay::Concurrency::One,
            "",
        );
        web.set_replay(crate::web::replay_with(replayer));
    }
    let modes = modes(cli)?;
    let result = runtime.block_on(async {
        let mut listeners = Vec::new();
        for (mode, addr) in modes {
            let socket = tokio::net::TcpListener::bind(addr).await.with_context(|| {
                format!(
                    "--mode {}: cannot listen on {addr}; is another proxy running there? pick another port with -p or @PORT",
                    mode.spec
                )
            })?;
            if !addr.ip().is_loopback() {
                output.problem(&format!("runner: warning: listening on {}, reachable from other machines; use --listen-host 127.0.0.1 unless you mean it", addr.ip()));
            }
            let bound = socket.local_addr()?;
            output.info(&format!("{} listening at {bound}.", describe(&mode.kind)));
            listeners.push(live::Listener { socket, mode });
        }
        live.start();
        crate::client_replay::start_live(&live, tokio::runtime::Handle::current(), cli, replay);
        let reading = saved.map(|saved| crate::readfile::start(saved, &live, flows.read.clone()));
        let served = live::serve(listeners, live.clone(), first_signal(&live, output)).await;
        Ok::<_, anyhow::Error>((served.context("serving"), reading))
    });
    let (result, reading) = match result {
        Ok((served, reading)) => (served, reading),
        Err(e) => (Err(e), None),
    };
    // The flow `-r` has under way finishes and is recorded before `done`,
    // unless told to quit at once.
    if let Some(reading) = reading {
        reading.stop(!live.told_to_quit());
    }
    // What is still on this runtime (a replay that outlived the grace) is
    // dropped, not waited for: its flows were recorded as abandoned, and
    // it holds senders the capture thread waits on.
    runtime.shutdown_background();
    let done = live.done().context("flushing the capture file");
    let har_written = har.map_or(Ok(()), |har| har.finish());
    result.and(done).and(har_written)
}
