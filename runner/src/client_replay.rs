//! Client replay (`-C FILE`, `--set client_replay=FILE`,
//! `client_replay_concurrency`) and what scripts' `Context::duplicate` and
//! `Context::replay` need: a `Replayer` on the live proxy's runtime, or,
//! offline, one started the first time something asks for it (so an
//! offline run that replays nothing starts no runtime). Offline replays
//! make their TLS connections with a CA kept in memory: no offline run
//! writes one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use anyhow::{Context as _, Result, bail};
use waylay_proxy::Flow;
use waylay_proxy::live::mode::{Kind, Mode};
use waylay_proxy::live::replay::{Collected, Concurrency, Replayer};
use waylay_proxy::live::{Live, Options};
use waylay_proxy::offline::Joining;
use waylay_proxy::script::{Actions, Level, Scripts};

use crate::cli::Cli;
use crate::output::Output;

/// What `-C` and the `client_replay*` options ask for.
pub struct Settings {
    /// The files' flows, in order.
    pub flows: Vec<Flow>,
    pub concurrency: Concurrency,
}

/// Reads `-C` and `--set client_replay*`, and the files they name: one
/// line for a file that cannot be read, naming it and where.
pub fn settings(cli: &Cli) -> Result<Settings> {
    let mut files = cli.client_replay.clone();
    files.extend(
        cli.config
            .all("client_replay")
            .into_iter()
            .map(str::to_owned),
    );
    let mut concurrency = Concurrency::One;
    if let Some(value) = cli.config.last("client_replay_concurrency") {
        concurrency = Concurrency::parse(value).with_context(|| {
            format!("--set client_replay_concurrency={value}: the only values are 1 (one at a time) and -1 (all at once)")
        })?;
    }
    let mut flows = Vec::new();
    for file in &files {
        flows.extend(read(file)?);
    }
    Ok(Settings { flows, concurrency })
}

/// Every flow of a `-C` file (mitmproxy's flow format or HAR).
fn read(path: &str) -> Result<Vec<Flow>> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("-C {path}: cannot read the flows to replay"))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    match waylay_proxy::flowfile::read_all(&bytes, threads) {
        (flows, None) => Ok(flows),
        (_, Some(e)) => bail!(
            "-C {path}: {e}; nothing was replayed (fix or shorten the file, e.g. write it again with runner -n -r)"
        ),
    }
}

/// The mode replays leave in: through the upstream proxy when the first
/// listener is an upstream one (as mitmproxy does), else straight to the
/// server the request names.
pub fn mode_for(cli: &Cli) -> Mode {
    let first = cli
        .mode
        .first()
        .and_then(|spec| Mode::parse(spec).ok())
        .filter(|m| matches!(m.kind, Kind::Upstream(_)));
    first.unwrap_or_else(|| Mode::parse("regular").expect("regular is a mode"))
}

/// Starts the replayer of the live proxy, takes scripts' copies and
/// replays, and queues `-C`'s flows.
pub fn start_live(live: &Arc<Live>, handle: tokio::runtime::Handle, cli: &Cli, settings: Settings) {
    let replayer = Replayer::start(
        live,
        mode_for(cli),
        handle.clone(),
        settings.concurrency,
        "",
    );
    live.scripts().set_actions(replayer.clone());
    if !settings.flows.is_empty() {
        let queued = replayer.replay_file(settings.flows);
        live.scripts().log().log(
            "replay",
            Level::Info,
            &format!("client replay: {queued} flow(s) queued"),
        );
        if queued > 0 {
            // Said after the last replayed flow's own line.
            let live = live.clone();
            handle.spawn(async move {
                replayer.file_finished().await;
                live.note_after_flows("replay", "client replay finished".into())
                    .await;
            });
        }
    }
}

/// Offline copies and replays: the replayer, its runtime and its `Live`
/// start on first use.
pub struct Offline {
    scripts: Weak<Scripts>,
    make: Mutex<Option<Start>>,
    started: OnceLock<Result<Started, String>>,
    collected: Arc<Collected>,
    /// `-C`'s flows, queued once the run has fired `start`.
    waiting: Mutex<Vec<Flow>>,
    /// How many of them were queued (the others could not be replayed).
    queued: AtomicUsize,
}

/// What starts the replayer, once.
type Start = Box<dyn FnOnce(Arc<Scripts>) -> Result<Started> + Send>;

pub struct Started {
    runtime: tokio::runtime::Runtime,
    live: Arc<Live>,
    pub replayer: Arc<Replayer>,
}

/// A replayer of its own, with its runtime and a `Live` whose finished
/// flows go to `on_flow`: for offline replays, and the web view's
/// replays under `-n`.
pub fn standalone(
    cli: &Cli,
    scripts: Arc<Scripts>,
    mut options: Options,
    output: &Output,
    on_flow: waylay_proxy::live::OnFlow,
    concurrency: Concurrency,
    failure_note: &'static str,
) -> Result<Started> {
    // Replays intercept no client: a CA in memory, none written.
    let ca = waylay_proxy::tls::ca::ephemeral().map_err(anyhow::Error::msg)?;
    let (interceptor, notes) =
        waylay_proxy::tls::Interceptor::new(ca, &options.trust).map_err(anyhow::Error::msg)?;
    for note in notes {
        output.problem(&format!("runner: warning: {note}"));
    }
    options.tls = Some(Arc::new(interceptor));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime for replays")?;
    let live = Arc::new(Live::new(scripts, None, Some(on_flow), options));
    let replayer = Replayer::start(
        &live,
        mode_for(cli),
        runtime.handle().clone(),
        concurrency,
        failure_note,
    );
    Ok(Started {
        runtime,
        live,
        replayer,
    })
}

/// Said after the reason of an offline replay that failed.
const OFFLINE_NOTE: &str =
    " (a replay reaches the real server over the network, even offline with -n)";

impl Offline {
    /// Sets offline copies and replays up for `scripts`; nothing starts
    /// until a script or `-C` asks.
    pub fn new(
        cli: &Cli,
        scripts: &Arc<Scripts>,
        options: Options,
        output: &Arc<Output>,
        concurrency: Concurrency,
    ) -> Arc<Offline> {
        let collected = Collected::new();
        let (cli, output, for_make) = (cli.clone(), output.clone(), collected.clone());
        let make = move |scripts: Arc<Scripts>| -> Result<Started> {
            let started = standalone(
                &cli,
                scripts,
                options,
                &output,
                for_make.on_flow(),
                concurrency,
                OFFLINE_NOTE,
            )?;
            for_make.watch(started.replayer.clone());
            Ok(started)
        };
        let offline = Arc::new(Offline {
            scripts: Arc::downgrade(scripts),
            make: Mutex::new(Some(Box::new(make))),
            started: OnceLock::new(),
            collected,
            waiting: Mutex::new(Vec::new()),
            queued: AtomicUsize::new(0),
        });
        scripts.set_actions(offline.clone());
        offline
    }

    /// The replayer, started now if this is the first use; why it could
    /// not start (said once, as an error line, and to each script that
    /// asks).
    fn start(&self) -> &Result<Started, String> {
        self.started.get_or_init(|| {
            let make = self.make.lock().unwrap_or_else(|e| e.into_inner()).take();
            let scripts = self.scripts.upgrade();
            let (Some(make), Some(scripts)) = (make, scripts) else {
                return Err("the run is over".into());
            };
            make(scripts.clone()).map_err(|e| {
                let why = format!("{e:#}");
                scripts
                    .log()
                    .log("replay", Level::Error, &format!("cannot replay: {why}"));
                why
            })
        })
    }

    fn started(&self) -> Option<&Started> {
        self.start().as_ref().ok()
    }

    /// Takes `-C`'s flows, to be sent once the run has fired `start` (the
    /// first time the offline loop looks for joining flows).
    pub fn replay_file(&self, flows: Vec<Flow>) {
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(flows);
    }

    /// Ends the run's replays: every flow has joined by now (`Joining`
    /// waited for them, and they are written and shown); the last flush of
    /// what the replayer recorded, then the line saying `-C` is done.
    pub fn finish(&self) {
        if let Some(Ok(started)) = self.started.get() {
            let _ = started.live.close_recorder();
            let _ = &started.runtime;
            if self.queued.load(Ordering::Relaxed) > 0 {
                started
                    .live
                    .scripts()
                    .log()
                    .log("replay", Level::Info, "client replay finished");
            }
        }
    }
}

impl Actions for Offline {
    fn ready(&self) -> Result<(), String> {
        self.start().as_ref().map(drop).map_err(Clone::clone)
    }

    fn duplicate(&self, maker: usize, flow: Flow) {
        if let Some(started) = self.started() {
            started.replayer.duplicate(maker, flow);
        }
    }

    fn replay(&self, flow: Flow) {
        if let Some(started) = self.started() {
            started.replayer.replay(flow);
        }
    }
}

impl Joining for Offline {
    fn finished(&self, wait: bool) -> Vec<Flow> {
        let waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        if !waiting.is_empty()
            && let Some(started) = self.started()
        {
            let queued = started.replayer.replay_file(waiting);
            self.queued.fetch_add(queued, Ordering::Relaxed);
        }
        match self.started.get() {
            Some(Ok(_)) => self.collected.finished(wait),
            _ => Vec::new(),
        }
    }
}
