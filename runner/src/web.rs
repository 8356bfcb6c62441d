//! `--web`: the web view, mitmweb's page for Waylay. A thread of its own
//! serves the page, a JSON API and one push channel; flows reach it from
//! where the capture writer gets them, and are kept in a session file
//! (`waylay_proxy::view`), not in memory.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result};
use tokio::sync::{oneshot, watch};
use waylay_proxy::Flow;
use waylay_proxy::live::OnFlow;
use waylay_proxy::view::Session;

use crate::cli::Cli;
use crate::output::Output;

mod actions;
mod api;
mod assets;
mod compare;
mod compose;
mod guard;
mod inflight;
mod intercept;
mod open;
mod reply;
mod rules;
mod runs;
mod sent;

/// Where the view listens (`--set web_host`, `--set web_port`).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub host: IpAddr,
    pub port: u16,
}

/// The view's address from the command line.
pub fn settings(cli: &Cli) -> Result<Settings> {
    let host = match cli.config.last("web_host") {
        None => IpAddr::from([127, 0, 0, 1]),
        Some("localhost") => IpAddr::from([127, 0, 0, 1]),
        Some(h) => h.trim_matches(['[', ']']).parse().ok().with_context(|| {
            format!("--set web_host={h}: expected an IP address such as 127.0.0.1 or ::1")
        })?,
    };
    let port = match cli.config.last("web_port") {
        None => 8081,
        Some(p) => p.parse().ok().with_context(|| {
            format!("--set web_port={p}: expected a port number from 0 to 65535")
        })?,
    };
    Ok(Settings { host, port })
}

/// Sends a flow out again (a replay); why not, in one line.
pub type ReplayFn = Box<dyn Fn(Vec<Flow>, Sending) -> Result<Vec<String>, String> + Send + Sync>;

/// How a [`ReplayFn`] sends its flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sending {
    /// Copies (new ids) join the replay queue, as mitmweb's replay.
    Queued,
    /// The flows themselves (ids kept) go now, beside the queue
    /// (Compose).
    Now(waylay_proxy::live::replay::Together),
}

/// What the handlers share.
pub(crate) struct App {
    pub feed: Arc<Feed>,
    pub token: String,
    pub address: SocketAddr,
    /// Bumped whenever the session changes; the push channel watches it.
    pub changed: watch::Receiver<u64>,
    /// Replays, once the proxy (or, with -n, a replayer) is there.
    pub replay: OnceLock<ReplayFn>,
    /// The intercept filter and the flows it paused.
    pub intercepts: Arc<intercept::Intercepts>,
    /// The live proxy, for its flows in flight (none with `-n`).
    pub live: OnceLock<std::sync::Weak<waylay_proxy::live::Live>>,
    /// The second capture the page compares with, once it sent one.
    pub other: compare::OtherCapture,
    /// The page's drafts of requests (Compose).
    pub drafts: compose::Drafts,
    /// The `-s` scripts, to run again on a selection.
    pub scripts: Vec<crate::scripts::ScriptSpec>,
    /// The scripts the page ran on a selection, and their previews.
    pub runs: runs::Runs,
    /// The rules table.
    pub rules: rules::Rules,
    /// `--set` and the options file, as the run started with them.
    pub config: crate::registry::Config,
}

/// Where flows enter the view: the session, and the push channel's
/// signal.
pub struct Feed {
    pub session: Arc<Session>,
    changed: watch::Sender<u64>,
    warned: AtomicBool,
    output: Arc<Output>,
    /// The newest log lines and warnings: number, level, text.
    pub log: std::sync::Mutex<std::collections::VecDeque<(u64, &'static str, String)>>,
    log_next: std::sync::atomic::AtomicU64,
    /// When [`touch_now_and_then`](Feed::touch_now_and_then) last
    /// touched, in milliseconds from `started`.
    touched: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
    /// The flows the page sent, found again as they arrive.
    pub sent: sent::Sent,
}

/// How often a stream of flows tells the page, at most.
const TOUCH_EVERY_MS: u64 = 20;

/// How many log lines the event pane keeps.
const LOG_LINES: usize = 5000;

impl Feed {
    /// Adds a finished flow to the view.
    pub fn add(&self, flow: &Flow) {
        let appended = self.session.append(flow);
        if let Ok(n) = appended
            && self.sent.waiting()
        {
            self.sent.arrived(flow.id(), n);
        }
        self.added(appended, || format!("flow {}", flow.id()));
    }

    /// Adds a finished flow, as the flow file holds it, to the view.
    pub fn add_encoded(&self, bytes: &[u8], row: waylay_proxy::view::Row) {
        let appended = self.session.append_encoded(bytes, row);
        if let Ok(n) = appended
            && self.sent.waiting()
        {
            use waylay_proxy::tnetstring::{Item, Node as _};
            if let Some(id) = Item::whole(bytes)
                .and_then(|f| f.get("id"))
                .and_then(|i| i.str())
            {
                self.sent.arrived(id, n);
            }
        }
        self.added(appended, || "a flow".into());
    }

    /// Tells the page of a flow added, or says once why one could not be.
    fn added(&self, appended: std::io::Result<usize>, which: impl FnOnce() -> String) {
        match appended {
            Ok(_) => self.touch_now_and_then(),
            Err(e) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    self.output.problem(&format!(
                        "runner: the web view cannot keep {}: {e}; it shows the flows before it (is the disk full?)",
                        which()
                    ));
                }
            }
        }
    }

    /// Keeps a log line for the event pane (the oldest go past
    /// [`LOG_LINES`]).
    pub fn log(&self, level: &'static str, text: &str) {
        let seq = self.log_next.fetch_add(1, Ordering::Relaxed);
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back((seq, level, text.to_owned()));
        drop(log);
        self.touch();
    }

    /// A warning or error: on stderr and in the event pane.
    pub fn problem(&self, line: &str) {
        self.output.problem(line);
    }

    /// A line for the user: on stdout and in the event pane.
    pub fn note(&self, line: &str) {
        self.output.notice(line);
        self.log("info", line);
    }

    /// Tells the page something changed.
    pub fn touch(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    /// [`touch`](Feed::touch), at most every few milliseconds: a flood of
    /// flows wakes the view's thread a few hundred times a second, not
    /// once a flow. The push channel also looks at the session's version,
    /// so a flow after the last touch is not missed.
    fn touch_now_and_then(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.touched.load(Ordering::Relaxed);
        if (last == 0 || now >= last + TOUCH_EVERY_MS)
            && self
                .touched
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.touch();
        }
    }

    /// Wraps `on_flow` so that each finished flow also reaches the view.
    pub fn hook(self: &Arc<Self>, on_flow: Option<OnFlow>) -> Option<OnFlow> {
        let feed = self.clone();
        Some(Box::new(move |flow: &Flow| {
            feed.add(flow);
            if let Some(on_flow) = &on_flow {
                on_flow(flow);
            }
        }))
    }
}

/// The running view.
pub struct Web {
    feed: Arc<Feed>,
    app: Arc<App>,
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    output: Arc<Output>,
}

impl Web {
    /// Listens where `--set web_host`/`web_port` say and serves the view
    /// from a thread of its own; prints the page's address.
    pub fn start(cli: &Cli, output: &Arc<Output>) -> Result<Web> {
        Web::start_over(cli, output, None)
    }

    /// As [`start`](Web::start), over a capture browsed where it is.
    pub fn start_over(cli: &Cli, output: &Arc<Output>, base: Option<std::fs::File>) -> Result<Web> {
        let settings = settings(cli)?;
        let wanted = SocketAddr::new(settings.host, settings.port);
        let listener = std::net::TcpListener::bind(wanted).with_context(|| {
            format!(
                "--web: cannot listen on {wanted}; is mitmweb or another runner there? pick another port with --set web_port"
            )
        })?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let session = match base {
            None => Session::temporary(),
            Some(base) => Session::over(base),
        };
        let session = Arc::new(session.context("--web: cannot make the session file")?);
        let token = format!("{}", uuid::Uuid::new_v4().simple());
        let (changed, watching) = watch::channel(0);
        let feed = Arc::new(Feed {
            session,
            changed,
            warned: AtomicBool::new(false),
            output: output.clone(),
            log: std::sync::Mutex::new(std::collections::VecDeque::new()),
            log_next: std::sync::atomic::AtomicU64::new(0),
            touched: std::sync::atomic::AtomicU64::new(0),
            started: std::time::Instant::now(),
            sent: sent::Sent::default(),
        });
        let tapped = feed.clone();
        output.set_tap(Arc::new(move |level, line| tapped.log(level, line)));
        let intercept = match cli
            .config
            .last("intercept")
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            None => None,
            Some(text) => Some(
                waylay_proxy::filter::Filter::parse(text)
                    .map_err(|e| anyhow::anyhow!("--set intercept={text}: {}", e.reason()))?,
            ),
        };
        let app = Arc::new(App {
            feed: feed.clone(),
            token: token.clone(),
            address,
            changed: watching,
            replay: OnceLock::new(),
            intercepts: Arc::new(intercept::Intercepts::new(intercept, feed.clone())),
            live: OnceLock::new(),
            other: Default::default(),
            drafts: Default::default(),
            scripts: cli
                .scripts
                .iter()
                .filter_map(|s| crate::scripts::parse_spec(s).ok())
                .collect(),
            runs: Default::default(),
            rules: rules::Rules::new(
                crate::options_file::save_path(cli),
                cli.config.last("intercept").map(str::to_owned),
            ),
            config: cli.config.clone(),
        });
        let for_thread = app.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("web".into())
            .spawn(move || serve(listener, for_thread, stopped))
            .context("starting the web view's thread")?;
        if !settings.host.is_loopback() {
            output.problem(&format!(
                "runner: warning: the web view listens on {}, reachable from other machines; it shows every flow, passwords included. Use --set web_host=127.0.0.1 unless you mean it",
                settings.host
            ));
        }
        output.notice(&format!("Web view at http://{address}/?token={token}"));
        Ok(Web {
            feed,
            app,
            address,
            stop: Some(stop),
            thread: Some(thread),
            output: output.clone(),
        })
    }

    /// Where the view listens (the proxy refuses to connect there).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Adds a finished flow to the view.
    pub fn add(&self, flow: &Flow) {
        self.feed.add(flow);
    }

    /// Where flows enter the view.
    pub fn feed(&self) -> &Arc<Feed> {
        &self.feed
    }

    /// What takes each finished flow's bytes into the view (the live
    /// proxy encodes a flow once, for `-w` and the view alike).
    pub fn on_encoded(&self) -> waylay_proxy::live::OnEncoded {
        let feed = self.feed.clone();
        Box::new(move |bytes: &[u8], row| feed.add_encoded(bytes, row))
    }

    /// What pauses intercepted flows, for the live proxy.
    pub fn intercepts(&self) -> Arc<dyn waylay_proxy::live::pause::Pause> {
        self.app.intercepts.clone()
    }

    /// The live proxy whose flows in flight the view lists and kills.
    pub fn set_live(&self, live: &Arc<waylay_proxy::live::Live>) {
        let _ = self.app.live.set(Arc::downgrade(live));
    }

    /// The run's scripts, whose rule options (as started) the rules
    /// table edits.
    pub fn set_engine(
        &self,
        scripts: Arc<waylay_proxy::script::Scripts>,
        rules: &waylay_proxy::addons::Options,
    ) {
        self.app.rules.start(scripts, rules);
    }

    /// How the view replays flows, once there is a way.
    pub fn set_replay(&self, replay: ReplayFn) {
        let _ = self.app.replay.set(replay);
    }

    /// Indexes the capture at `path` (the session's base) on a thread of
    /// its own: the page shows the first rows while the rest is read.
    pub fn index(&self, path: &str) -> Result<()> {
        let file =
            std::fs::File::open(path).with_context(|| format!("{path}: cannot read flows"))?;
        let feed = self.feed.clone();
        let output = self.output.clone();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("web-index".into())
            .spawn(move || {
                let mut reader = waylay_proxy::flowfile::FlowReader::new(
                    std::io::BufReader::with_capacity(1 << 20, file),
                );
                let indexed = feed.session.index_base(&mut reader, |_| feed.touch());
                feed.touch();
                let count = match indexed {
                    Ok(count) => count,
                    Err((count, e)) => {
                        output.problem(&format!(
                            "runner: {path}: {e}; the view shows the {count} flow(s) before it"
                        ));
                        count
                    }
                };
                output.notice(&format!("Indexed {count} flow(s) of {path}."));
            })
            .context("starting the indexing thread")?;
        Ok(())
    }

    /// Keeps serving until Ctrl-C or SIGTERM (`-n --web`, after the run).
    pub fn serve_until_signal(&self) -> Result<()> {
        self.output.notice("Serving the web view; Ctrl-C to quit.");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(crate::signals::shutdown_signal());
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

/// Replays through `replayer`: a copy of the flow goes out (a new id, as
/// mitmweb's duplicate-then-replay) and comes back as a new row.
pub fn replay_with(replayer: Arc<waylay_proxy::live::replay::Replayer>) -> ReplayFn {
    Box::new(move |flows: Vec<Flow>, how: Sending| match how {
        Sending::Queued => {
            if let Some(problem) = flows.iter().find_map(Flow::replay_problem) {
                return Err(problem.to_owned());
            }
            let copies: Vec<Flow> = flows.iter().map(Flow::duplicate).collect();
            let ids = copies.iter().map(|f| f.id().to_owned()).collect();
            let wanted = copies.len();
            match replayer.replay_file(copies) {
                n if n == wanted => Ok(ids),
                _ => Err("the flow could not be queued for replay".into()),
            }
        }
        Sending::Now(together) => replayer.send(flows, together).map_err(str::to_owned),
    })
}

/// `-n --web`: replays start a replayer of their own on first use, whose
/// finished flows join the view.
pub fn replay_offline(
    cli: &Cli,
    scripts: Arc<waylay_proxy::script::Scripts>,
    options: waylay_proxy::live::Options,
    output: &Arc<Output>,
    feed: Arc<Feed>,
) -> ReplayFn {
    let cli = cli.clone();
    let output = output.clone();
    let make = std::sync::Mutex::new(Some((scripts, options)));
    let started: OnceLock<Result<crate::client_replay::Started, String>> = OnceLock::new();
    Box::new(move |flows: Vec<Flow>, how: Sending| {
        let started = started.get_or_init(|| {
            let Some((scripts, options)) = make.lock().unwrap_or_else(|e| e.into_inner()).take()
            else {
                return Err("the replayer could not start".into());
            };
            crate::client_replay::standalone(
                &cli,
                scripts,
                options,
                &output,
                feed.hook(None).expect("a hook"),
                waylay_proxy::live::replay::Concurrency::One,
                "",
            )
            .map_err(|e| format!("{e:#}"))
        });
        match started {
            Ok(started) => replay_with(started.replayer.clone())(flows, how),
            Err(e) => Err(format!("cannot replay: {e}")),
        }
    })
}
