//! Rules in the page (`waylay_proxy::view::rules`): `GET /api/rules` the
//! table (the rule options as started, then as the page set them), `PUT
//! /api/rules` a new table, in effect for the next flow exactly as
//! `--set` would have made it (rows that are off or wrong are left out,
//! each wrong one with its error), `POST /api/rules/save` the table's
//! option values into an options file that `runner --options FILE` reads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use waylay_proxy::addons::{Options, Rules as RuleSet};
use waylay_proxy::filter::Filter;
use waylay_proxy::script::Scripts;
use waylay_proxy::view::rules::{Applied, Kind, Rule, Table};

use super::App;
use super::reply::{error, invalid};

/// The rules table and what its rows came to (checked once, when set).
#[derive(Default)]
struct Shown {
    table: Table,
    applied: Applied,
}

impl Shown {
    fn of(table: Table) -> Shown {
        let applied = table.options();
        Shown { table, applied }
    }
}

/// The page's rules, and what they act on.
pub struct Rules {
    shown: Mutex<Shown>,
    /// The run's scripts, whose addons the rules are (set once the run
    /// has them).
    engine: OnceLock<Arc<Scripts>>,
    /// Where Save writes: `--options FILE`, else `CONFDIR/config.yaml`.
    path: PathBuf,
    /// `--set intercept`, as started.
    intercept: Option<String>,
}

impl Rules {
    pub fn new(path: PathBuf, intercept: Option<String>) -> Rules {
        Rules {
            shown: Mutex::new(Shown::default()),
            engine: OnceLock::new(),
            path,
            intercept,
        }
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The run's scripts, and the rule options they started with.
    pub fn start(&self, engine: Arc<Scripts>, options: &Options) {
        *self.shown() = Shown::of(Table::from_options(options, self.intercept.as_deref()));
        let _ = self.engine.set(engine);
    }

    /// The Intercept box set `filter`: the breakpoints become that one.
    pub fn intercept_typed(&self, filter: Option<&Filter>) {
        let mut shown = self.shown();
        let mut table = std::mem::take(&mut shown.table);
        table.rules.retain(|r| r.kind != Kind::Intercept);
        if let Some(filter) = filter {
            table
                .rules
                .push(Rule::from_spec(Kind::Intercept, filter.expression()));
        }
        *shown = Shown::of(table);
    }
}

/// The rules routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/rules", get(list).put(replace))
        .route("/api/rules/save", post(save))
        .route("/api/options", get(options))
}

/// `GET /api/options`: every option of the registry with the value the
/// run started with (the rules' options as the table has them now), and
/// the scripts' declared options.
async fn options(State(app): State<Arc<App>>) -> Response {
    let mut list = app.config.json();
    let now = app.rules.shown().applied.values();
    if let Some(items) = list.as_array_mut() {
        for item in items {
            if let Some((_, values)) = now.iter().find(|(n, _)| item["name"] == *n) {
                item["now"] = json!(values);
            }
        }
    }
    let scripts: Vec<Value> = app
        .rules
        .engine
        .get()
        .map(|e| e.declared())
        .unwrap_or_default()
        .into_iter()
        .map(|o| {
            json!({
                "name": o.name,
                "type": format!("{:?}", o.kind).to_lowercase(),
                "default": o.default,
                "script": o.script,
                "help": o.help,
                "now": app.config.other(&o.name),
            })
        })
        .collect();
    Json(json!({"options": list, "scripts": scripts})).into_response()
}

fn answer(app: &App) -> Value {
    let shown = app.rules.shown();
    let mut json = shown.table.json(&shown.applied);
    drop(shown);
    json["file"] = json!(app.rules.path.display().to_string());
    json["live"] = json!(app.live.get().is_some());
    json
}

/// `GET /api/rules`.
async fn list(State(app): State<Arc<App>>) -> Response {
    Json(answer(&app)).into_response()
}

/// `PUT /api/rules {"rules": [...]}`: the table the page shows now.
async fn replace(State(app): State<Arc<App>>, Json(body): Json<Value>) -> Response {
    let table = match Table::from_json(&body) {
        Ok(t) => t,
        Err(why) => return invalid(why),
    };
    let Some(engine) = app.rules.engine.get() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the rules are not ready yet; try again in a moment",
        );
    };
    let shown = Shown::of(table);
    let rules = match RuleSet::new(&shown.applied.options) {
        Ok(r) => r,
        // Each row was checked alone; together they build.
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    engine.set_rules(rules);
    app.intercepts.set_filter(shown.applied.intercept.clone());
    let after = shown.applied.values();
    let before = std::mem::replace(&mut *app.rules.shown(), shown)
        .applied
        .values();
    let changed: Vec<String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(_, (name, _))| (*name).to_owned())
        .collect();
    if !changed.is_empty() {
        engine.configure(&changed);
        app.feed
            .note(&format!("Rules changed: {}.", changed.join(", ")));
    }
    app.feed.touch();
    Json(answer(&app)).into_response()
}

/// `POST /api/rules/save {"path": FILE}` (the path optional): the rules'
/// option values written into the options file, its other options kept.
async fn save(State(app): State<Arc<App>>, body: Option<Json<Value>>) -> Response {
    let path = body
        .as_ref()
        .and_then(|b| b["path"].as_str())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map_or_else(|| app.rules.path.clone(), PathBuf::from);
    let values = app.rules.shown().applied.values();
    let written = tokio::task::spawn_blocking({
        let path = path.clone();
        move || crate::options_file::save(&path, &values)
    })
    .await;
    match written {
        Ok(Ok(())) => {
            app.feed
                .note(&format!("Rules saved to {}.", path.display()));
            Json(json!({"saved": path.display().to_string()})).into_response()
        }
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, format!("{e:#}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
