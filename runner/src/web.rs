//! `--web`: the web view, mitmweb's page for Waylay. A thread of its own
//! serves the page, a JSON API and one push channel; flows reach it from
//! where the capture writer gets them, and are kept in a session file
//! (`waylay_proxy::view`), not in memory.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result};
use tokio::sync::{oneshot, watch};
use waylay_proxy::Flow;
use waylay_proxy::view::Session;

use crate::cli::Cli;
use crate::output::Output;

mod api;
mod assets;
mod guard;

/// Where the view listens (`--set web_host`, `--set web_port`).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub host: IpAddr,
    pub port: u16,
}

/// The last `--set NAME=VALUE` of `name`.
fn set<'a>(cli: &'a Cli, name: &str) -> Option<&'a str> {
    cli.set
        .iter()
        .filter_map(|s| s.strip_prefix(name)?.strip_prefix('='))
        .next_back()
}

/// The view's address from the command line.
pub fn settings(cli: &Cli) -> Result<Settings> {
    let host = match set(cli, "web_host") {
        None => IpAddr::from([127, 0, 0, 1]),
        Some("localhost") => IpAddr::from([127, 0, 0, 1]),
        Some(h) => h.trim_matches(['[', ']']).parse().ok().with_context(|| {
            format!("--set web_host={h}: expected an IP address such as 127.0.0.1 or ::1")
        })?,
    };
    let port = match set(cli, "web_port") {
        None => 8081,
        Some(p) => p.parse().ok().with_context(|| {
            format!("--set web_port={p}: expected a port number from 0 to 65535")
        })?,
    };
    Ok(Settings { host, port })
}

/// What the handlers share.
pub(crate) struct App {
    pub session: Arc<Session>,
    pub token: String,
    pub address: SocketAddr,
    /// Bumped whenever the session changes; the push channel watches it.
    pub changed: watch::Receiver<u64>,
}

/// The running view.
pub struct Web {
    session: Arc<Session>,
    changed: watch::Sender<u64>,
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    warned: AtomicBool,
    output: Arc<Output>,
}

impl Web {
    /// Listens where `--set web_host`/`web_port` say and serves the view
    /// from a thread of its own; prints the page's address.
    pub fn start(cli: &Cli, output: &Arc<Output>) -> Result<Web> {
        let settings = settings(cli)?;
        let wanted = SocketAddr::new(settings.host, settings.port);
        let listener = std::net::TcpListener::bind(wanted).with_context(|| {
            format!(
                "--web: cannot listen on {wanted}; is mitmweb or another runner there? pick another port with --set web_port"
            )
        })?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let session =
            Arc::new(Session::temporary().context("--web: cannot make the session file")?);
        let token = format!("{}", uuid::Uuid::new_v4().simple());
        let (changed, watching) = watch::channel(0);
        let app = Arc::new(App {
            session: session.clone(),
            token: token.clone(),
            address,
            changed: watching,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("web".into())
            .spawn(move || serve(listener, app, stopped))
            .context("starting the web view's thread")?;
        if !settings.host.is_loopback() {
            output.problem(&format!(
                "runner: warning: the web view listens on {}, reachable from other machines; it shows every flow, passwords included. Use --set web_host=127.0.0.1 unless you mean it",
                settings.host
            ));
        }
        output.notice(&format!("Web view at http://{address}/?token={token}"));
        Ok(Web {
            session,
            changed,
            address,
            stop: Some(stop),
            thread: Some(thread),
            warned: AtomicBool::new(false),
            output: output.clone(),
        })
    }

    /// Where the view listens (the proxy refuses to forward there).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Adds a finished flow to the view.
    pub fn add(&self, flow: &Flow) {
        match self.session.append(flow) {
            Ok(_) => {
                self.changed.send_modify(|v| *v += 1);
            }
            Err(e) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    self.output.problem(&format!(
                        "runner: the web view cannot keep flow {}: {e}; it shows the flows before it (is the disk full?)",
                        flow.id()
                    ));
                }
            }
        }
    }

    /// Wraps `on_flow` so that each finished flow also reaches the view.
    pub fn hook(
        self: &Arc<Self>,
        on_flow: Option<waylay_proxy::live::OnFlow>,
    ) -> Option<waylay_proxy::live::OnFlow> {
        let web = self.clone();
        Some(Box::new(move |flow: &Flow| {
            web.add(flow);
            if let Some(on_flow) = &on_flow {
                on_flow(flow);
            }
        }))
    }

    /// Keeps serving until Ctrl-C or SIGTERM (`-n --web`, after the run).
    pub fn serve_until_signal(&self) -> Result<()> {
        self.output.notice("Serving the web view; Ctrl-C to quit.");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(crate::live::shutdown_signal());
        Ok(())
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The web thread: its own runtime, so the page's work never takes the
/// proxy's threads.
fn serve(listener: std::net::TcpListener, app: Arc<App>, stopped: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("runner: the web view cannot start its runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("runner: the web view cannot listen: {e}");
                return;
            }
        };
        let router = api::router(app);
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            eprintln!("runner: the web view stopped: {e}");
        }
    });
}
