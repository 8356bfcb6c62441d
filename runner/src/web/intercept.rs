//! Intercept in the view: `--set intercept=FILTER` (or the page's box)
//! says which flows pause after their `request` and `response` hooks;
//! the page edits them and resumes or kills them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use waylay_proxy::Flow;
use waylay_proxy::filter::Filter;
use waylay_proxy::live::pause::{Pause, Resume};
use waylay_proxy::script::Event;
use waylay_proxy::view::{edit, json as view_json};

use super::reply::{error, invalid, message_named};
use super::{App, Feed};

/// One paused flow.
struct Paused {
    event: Event,
    flow: Flow,
    reply: oneshot::Sender<Resume>,
}

/// The intercept filter and the flows waiting.
pub struct Intercepts {
    filter: RwLock<Option<Filter>>,
    paused: Mutex<BTreeMap<u64, Paused>>,
    next: AtomicU64,
    feed: Arc<Feed>,
}

impl Intercepts {
    pub fn new(filter: Option<Filter>, feed: Arc<Feed>) -> Intercepts {
        Intercepts {
            filter: RwLock::new(filter),
            paused: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
            feed,
        }
    }

    /// Sets the intercept filter (none: nothing is intercepted; flows
    /// already waiting keep waiting).
    pub fn set_filter(&self, filter: Option<Filter>) {
        *self.filter.write().unwrap_or_else(|e| e.into_inner()) = filter;
    }

    /// How many flows wait.
    pub fn waiting(&self) -> usize {
        self.waiting_now().len()
    }

    /// The waiting flows, without those whose connection went away (a
    /// kill from the in-flight list, a client that hung up): nothing
    /// waits for their answer any more.
    fn waiting_now(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Paused>> {
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        paused.retain(|_, p| !p.reply.is_closed());
        paused
    }

    fn finish(&self, key: u64, how: impl FnOnce(Flow) -> Resume) -> bool {
        let taken = self
            .paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let Some(paused) = taken else { return false };
        let _ = paused.reply.send(how(paused.flow));
        self.feed.touch();
        true
    }
}

impl Pause for Intercepts {
    fn pause(&self, event: Event, flow: &Flow) -> Option<oneshot::Receiver<Resume>> {
        let matches = self
            .filter
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|f| f.matches(flow));
        if !matches {
            return None;
        }
        let (reply, decided) = oneshot::channel();
        let key = self.next.fetch_add(1, Ordering::SeqCst);
        let mut flow = flow.clone();
        flow.dict_mut()
            .insert("intercepted", waylay_proxy::tnetstring::Value::Bool(true));
        self.paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Paused { event, flow, reply });
        self.feed.touch();
        Some(decided)
    }
}

/// The intercept routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/intercept", get(filter).post(set_filter))
        .route("/api/intercepted", get(list))
        .route("/api/intercepted/resume-all", post(resume_all))
        .route("/api/intercepted/{key}/edit", post(change))
        .route("/api/intercepted/{key}/resume", post(resume))
        .route("/api/intercepted/{key}/kill", post(kill))
        .route("/api/intercepted/{key}/{which}/body", get(body))
}

async fn filter(State(app): State<Arc<App>>) -> Response {
    let filter = app
        .intercepts
        .filter
        .read()
        .unwrap_or_else(|e| e.into_inner());
    Json(json!({"filter": filter.as_ref().map_or("", |f| f.expression())})).into_response()
}

/// `POST /api/intercept {"filter": "~d example.com"}`: an empty filter
/// intercepts nothing (flows already waiting keep waiting).
async fn set_filter(State(app): State<Arc<App>>, Json(body): Json<Value>) -> Response {
    let text = body["filter"].as_str().unwrap_or("").trim();
    let parsed = if text.is_empty() {
        None
    } else {
        match Filter::parse(text) {
            Ok(f) => Some(f),
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": e.reason(), "position": e.position(), "field": "intercept"})),
                )
                    .into_response();
            }
        }
    };
    app.rules.intercept_typed(parsed.as_ref());
    app.intercepts.set_filter(parsed);
    app.feed.touch();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /api/intercepted`: the waiting flows, oldest first, as the detail
/// pane shows them, with `key` and `event` (`request` or `response`).
async fn list(State(app): State<Arc<App>>) -> Response {
    let paused = app.intercepts.waiting_now();
    let flows: Vec<Value> = paused
        .iter()
        .map(|(key, p)| {
            let mut detail = view_json::detail(0, &p.flow, 0);
            detail["key"] = json!(key);
            detail["event"] = json!(if p.event == Event::Request {
                "request"
            } else {
                "response"
            });
            detail
        })
        .collect();
    Json(json!({"flows": flows})).into_response()
}

/// `POST /api/intercepted/{key}/edit`: the same fields as a stored flow's
/// edit.
async fn change(
    State(app): State<Arc<App>>,
    Path(key): Path<u64>,
    Json(fields): Json<Value>,
) -> Response {
    let mut paused = app
        .intercepts
        .paused
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(p) = paused.get_mut(&key) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("intercepted flow {key} is not waiting (resumed or killed already)"),
        );
    };
    match edit::apply(&mut p.flow, &fields) {
        Ok(()) => {
            drop(paused);
            app.feed.touch();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(why) => invalid(why),
    }
}

fn gone(key: u64) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("intercepted flow {key} is not waiting (resumed or killed already)"),
    )
}

async fn resume(State(app): State<Arc<App>>, Path(key): Path<u64>) -> Response {
    match app.intercepts.finish(key, |flow| Resume::Go(Some(flow))) {
        true => StatusCode::NO_CONTENT.into_response(),
        false => gone(key),
    }
}

async fn kill(State(app): State<Arc<App>>, Path(key): Path<u64>) -> Response {
    match app.intercepts.finish(key, |_| Resume::Kill) {
        true => StatusCode::NO_CONTENT.into_response(),
        false => gone(key),
    }
}

async fn resume_all(State(app): State<Arc<App>>) -> Response {
    let keys: Vec<u64> = app
        .intercepts
        .paused
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .copied()
        .collect();
    for key in &keys {
        app.intercepts.finish(*key, |flow| Resume::Go(Some(flow)));
    }
    Json(json!({"resumed": keys.len()})).into_response()
}

/// A waiting flow's body, for the editor.
async fn body(State(app): State<Arc<App>>, Path((key, which)): Path<(u64, String)>) -> Response {
    let which = match message_named(&which) {
        Ok(which) => which,
        Err(r) => return r.into_response(),
    };
    let paused = app
        .intercepts
        .paused
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(p) = paused.get(&key) else {
        return gone(key);
    };
    match view_json::body(&p.flow, which, true, 0, usize::MAX) {
        Some((bytes, _)) => (
            [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no {} body", which.key())),
    }
}
