//! A script on a selection, previewed (`waylay_proxy::view::preview`):
//! `POST /api/runs` builds the crate as `-s` builds it and runs it over the
//! chosen flows on a thread of its own; `GET /api/runs/{r}` gives the
//! build's lines, the progress and the preview; `GET …/diff?i=` one
//! flow before and after; `POST …/apply` and `POST …/discard`.
//! `GET /api/scripts` lists the `-s` scripts, to pick from.

use std::collections::{HashMap, VecDeque};
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use waylay_proxy::event::{Level, LogSink};
use waylay_proxy::script::build::BuildLines;
use waylay_proxy::script::{Script, Scripts};
use waylay_proxy::view::preview::{self, Applied, Preview, Progress, Request};

use super::reply::{Refusal, error, invalid, number, refusal, unreadable};
use super::{App, Feed};
use crate::output::Output;

/// How many build lines a run keeps (the last ones).
const BUILD_LINES: usize = 2000;
/// How many runs are kept; older previews are dropped with their files.
const KEPT_RUNS: usize = 4;
/// How many changes the run's JSON lists.
const LISTED: usize = 1000;

/// The runs the page started, newest last.
#[derive(Default)]
pub struct Runs {
    next: AtomicU64,
    runs: Mutex<VecDeque<Arc<Run>>>,
}

/// Where a run is.
enum Stage {
    Building,
    Running,
    Previewed(Box<Preview>),
    Failed(String),
    Cancelled,
    Applied(Applied),
    Discarded,
}

/// One script run over a selection.
pub struct Run {
    id: u64,
    script: String,
    stage: Mutex<Stage>,
    build: Mutex<VecDeque<String>>,
    progress: Progress,
    /// Build and run time, in milliseconds, once known.
    times: Mutex<(Option<u128>, Option<u128>)>,
}

/// The run routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/scripts", get(scripts))
        .route("/api/runs", post(start))
        .route("/api/runs/{r}", get(status))
        .route("/api/runs/{r}/diff", get(diff))
        .route("/api/runs/{r}/apply", post(apply))
        .route("/api/runs/{r}/discard", post(discard))
}

/// `GET /api/scripts`: the `-s` scripts, to run again on a selection.
async fn scripts(State(app): State<Arc<App>>) -> Response {
    let loaded: Vec<_> = app
        .scripts
        .iter()
        .map(|s| json!({"script": s.path.display().to_string(), "argv": s.argv}))
        .collect();
    Json(json!({ "loaded": loaded })).into_response()
}

/// `POST /api/runs` with [`Request`]'s JSON: starts a run; 202 with its
/// number.
async fn start(State(app): State<Arc<App>>, Json(body): Json<serde_json::Value>) -> Response {
    let request = match Request::from_json(&body) {
        Ok(r) => r,
        Err(why) => return invalid(why),
    };
    let id = app.runs.next.fetch_add(1, Ordering::Relaxed);
    let run = Arc::new(Run {
        id,
        script: request.script.clone(),
        stage: Mutex::new(Stage::Building),
        build: Mutex::new(VecDeque::new()),
        progress: Progress::default(),
        times: Mutex::new((None, None)),
    });
    {
        let mut runs = lock(&app.runs.runs);
        while runs.len() >= KEPT_RUNS {
            if let Some(old) = runs.pop_front() {
                old.progress.cancel.store(true, Ordering::Relaxed);
            }
        }
        runs.push_back(run.clone());
    }
    let feed = app.feed.clone();
    let going = run.clone();
    let config = app.config.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("web-run-{id}"))
        .spawn(move || going.work(request, &config, &feed));
    if let Err(e) = spawned {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot start the run: {e}"),
        );
    }
    (StatusCode::ACCEPTED, Json(json!({ "run": id }))).into_response()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `r`, or the 404 that says it is gone.
fn find(app: &App, r: u64) -> Result<Arc<Run>, Refusal> {
    lock(&app.runs.runs)
        .iter()
        .find(|run| run.id == r)
        .cloned()
        .ok_or_else(|| {
            refusal(
                StatusCode::NOT_FOUND,
                format!(
                    "run {r} is not kept (the view keeps the last {KEPT_RUNS}); start it again"
                ),
            )
        })
}

/// `GET /api/runs/{r}`: the stage, the build's lines, the progress, and
/// the preview once there is one.
async fn status(State(app): State<Arc<App>>, Path(r): Path<u64>) -> Response {
    match find(&app, r) {
        Ok(run) => Json(run.json()).into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /api/runs/{r}/diff?i=I`: change `I`'s flow before and after.
async fn diff(
    State(app): State<Arc<App>>,
    Path(r): Path<u64>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let run = match find(&app, r) {
        Ok(run) => run,
        Err(refused) => return refused.into_response(),
    };
    let i = match number(&params, "i", 0) {
        Ok(i) => i,
        Err(refused) => return refused.into_response(),
    };
    let session = app.feed.session.clone();
    let done = tokio::task::spawn_blocking(move || match &*lock(&run.stage) {
        Stage::Previewed(preview) => preview.diff(&session, i).map_err(unreadable),
        other => Err(refusal(
            StatusCode::CONFLICT,
            format!("run {r} has no preview to show (it is {})", other.name()),
        )),
    })
    .await;
    match done {
        Ok(Ok(Some(json))) => Json(json).into_response(),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("run {r} has no change {i}")),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/runs/{r}/apply`: the preview's changes into the view and the
/// session file.
async fn apply(State(app): State<Arc<App>>, Path(r): Path<u64>) -> Response {
    let run = match find(&app, r) {
        Ok(run) => run,
        Err(refused) => return refused.into_response(),
    };
    let feed = app.feed.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut stage = lock(&run.stage);
        let Stage::Previewed(preview) = &*stage else {
            return Err(refusal(
                StatusCode::CONFLICT,
                format!("run {r} has no preview to apply (it is {})", stage.name()),
            ));
        };
        let applied = preview.apply(&feed.session).map_err(unreadable)?;
        *stage = Stage::Applied(applied);
        drop(stage);
        feed.touch();
        feed.note(&format!(
            "Applied {} to {} flow(s){}.",
            run.script,
            applied.applied,
            match applied.skipped {
                0 => String::new(),
                n => format!("; {n} flow(s) changed since the preview were left alone"),
            }
        ));
        Ok(applied)
    })
    .await;
    match done {
        Ok(Ok(applied)) => {
            Json(json!({"applied": applied.applied, "skipped": applied.skipped})).into_response()
        }
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/runs/{r}/discard`: drops the preview (or stops the run);
/// the view stays as it was.
async fn discard(State(app): State<Arc<App>>, Path(r): Path<u64>) -> Response {
    let run = match find(&app, r) {
        Ok(run) => run,
        Err(refused) => return refused.into_response(),
    };
    run.progress.cancel.store(true, Ordering::Relaxed);
    let mut stage = lock(&run.stage);
    if let Stage::Previewed(_) = &*stage {
        *stage = Stage::Discarded;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Logs a run's script: to the runner's output (and so the event pane),
/// keeping the last error for the flow it panicked on.
struct RunLog {
    output: Arc<Output>,
    last_error: Mutex<Option<String>>,
}

impl LogSink for RunLog {
    fn log(&self, script: &str, level: Level, msg: &str) {
        if level == Level::Error {
            *lock(&self.last_error) = Some(msg.to_owned());
        }
        self.output.log(script, level, msg);
    }
}

impl Stage {
    fn name(&self) -> &'static str {
        match self {
            Stage::Building => "building",
            Stage::Running => "running",
            Stage::Previewed(_) => "previewed",
            Stage::Failed(_) => "failed",
            Stage::Cancelled => "cancelled",
            Stage::Applied(_) => "applied",
            Stage::Discarded => "discarded",
        }
    }
}

impl Run {
    fn set(&self, stage: Stage) {
        let mut now = lock(&self.stage);
        // A discard while building or running stays a discard.
        if !matches!(*now, Stage::Discarded) {
            *now = stage;
        }
    }

    fn line(&self, line: &str) {
        let mut build = lock(&self.build);
        if build.len() == BUILD_LINES {
            build.pop_front();
        }
        build.push_back(line.to_owned());
    }

    /// Builds, loads and runs the script (its options as `--set` gave
    /// them, else their defaults); the preview, or why not.
    fn work(self: Arc<Self>, request: Request, config: &crate::registry::Config, feed: &Feed) {
        let output = &feed.output;
        let started = Instant::now();
        let script = match self.load(&request, output) {
            Ok(s) => s,
            Err(why) => {
                feed.problem(&format!(
                    "runner: running {} on flows: {why}",
                    request.script
                ));
                return self.set(Stage::Failed(why));
            }
        };
        lock(&self.times).0 = Some(started.elapsed().as_millis());
        if self.progress.cancel.load(Ordering::Relaxed) {
            return self.set(Stage::Cancelled);
        }
        self.set(Stage::Running);
        let ran = Instant::now();
        let log = Arc::new(RunLog {
            output: output.clone(),
            last_error: Mutex::new(None),
        });
        let mut scripts = Scripts::new(log.clone());
        scripts.push(script);
        let values = match config.declared_values(&scripts.declared()) {
            Ok(values) => values,
            Err(why) => {
                let why = why.to_string();
                feed.problem(&format!(
                    "runner: running {} on flows: {why}",
                    request.script
                ));
                return self.set(Stage::Failed(why));
            }
        };
        scripts.set_options(&values);
        scripts.start();
        scripts.running();
        let previewed = preview::run(
            &scripts,
            &feed.session,
            &request.selection,
            &self.progress,
            &|| lock(&log.last_error).take(),
        );
        scripts.done();
        lock(&self.times).1 = Some(ran.elapsed().as_millis());
        match previewed {
            Ok(Some(preview)) => {
                feed.note(&format!(
                    "{} previewed on {} flow(s): {} would change, {} panicked; apply or discard it in the Run pane.",
                    request.script,
                    preview.ran,
                    preview.changed(),
                    preview.panicked(),
                ));
                self.set(Stage::Previewed(Box::new(preview)));
            }
            Ok(None) => self.set(Stage::Cancelled),
            Err(e) => self.set(Stage::Failed(e.to_string())),
        }
        feed.touch();
    }

    /// Builds the crate as `-s` does (or opens a built library), its lines
    /// kept for the page, and loads a fresh instance.
    fn load(self: &Arc<Self>, request: &Request, output: &Arc<Output>) -> Result<Script, String> {
        let me = self.clone();
        let lines = BuildLines(Arc::new(move |line: &str| me.line(line)));
        let library = crate::scripts::library(FsPath::new(&request.script), output, Some(lines))
            .map_err(|e| format!("{e:#}"))?;
        let sink: &dyn LogSink = &**output;
        Script::load(&library, &request.script, request.argv.clone(), sink)
            .map_err(|e| e.to_string())
    }

    fn json(&self) -> serde_json::Value {
        let stage = lock(&self.stage);
        let times = *lock(&self.times);
        let mut answer = json!({
            "run": self.id,
            "script": self.script,
            "stage": stage.name(),
            "build": lock(&self.build).iter().collect::<Vec<_>>(),
            "progress": {
                "done": self.progress.done.load(Ordering::Relaxed),
                "total": self.progress.total.load(Ordering::Relaxed),
            },
            "build_ms": times.0.map(|t| t as u64),
            "run_ms": times.1.map(|t| t as u64),
        });
        match &*stage {
            Stage::Previewed(preview) => answer["preview"] = preview.json(LISTED),
            Stage::Failed(why) => answer["error"] = json!(why),
            Stage::Applied(a) => {
                answer["applied"] = json!({"applied": a.applied, "skipped": a.skipped});
            }
            _ => {}
        }
        answer
    }
}
