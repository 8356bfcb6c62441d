//! Flows in flight in the view: listed from the live proxy's registry as
//! they were last seen (a request waiting for its response, a WebSocket
//! or TCP stream still open), opened, and killed. They join the list
//! proper when they finish.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use waylay_proxy::Flow;
use waylay_proxy::live::Live;
use waylay_proxy::view::{self, Row};

use super::App;
use super::reply::{Refusal, error, message_named, number, refusal};

/// The most flows in flight one answer lists.
const MAX_LISTED: usize = 200;

/// The in-flight routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/live", get(list))
        .route("/api/live/{id}", get(detail))
        .route("/api/live/{id}/kill", post(kill))
        .route("/api/live/{id}/{which}/body", get(body))
}

/// The live proxy, while there is one (`-n --web` has none).
fn live(app: &App) -> Option<Arc<Live>> {
    app.live.get().and_then(Weak::upgrade)
}

/// How many flows are in flight.
pub(super) fn count(app: &App) -> usize {
    live(app).map_or(0, |l| l.in_flight())
}

/// Where a flow in flight has got to, in a few words. The registry's
/// copy of an HTTP flow is taken after its request headers and after its
/// request, so a response on its way is not seen until the flow ends.
fn stage(flow: &Flow) -> &'static str {
    if flow.kind() == waylay_proxy::flow::FlowKind::Tcp {
        "tcp open"
    } else if flow.websocket().is_some() {
        "websocket open"
    } else if flow
        .request()
        .and_then(|r| r.get("timestamp_end"))
        .is_none_or(|t| t.is_null())
    {
        "receiving the request"
    } else {
        "request sent"
    }
}

/// `GET /api/live?filter=`: the flows in flight that match the list's
/// filter, oldest first (at most 200), and how many there are in all.
async fn list(
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let filter = match params.get("filter").map(|s| s.trim()) {
        None | Some("") => None,
        Some(text) => match waylay_proxy::filter::Filter::parse(text) {
            Ok(f) => Some(f),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("filter {text:?}: {}", e.reason()),
                );
            }
        },
    };
    let Some(live) = live(&app) else {
        return Json(json!({"flows": [], "total": 0})).into_response();
    };
    let flows: Vec<serde_json::Value> = live
        .in_flight_flows()
        .iter()
        .filter(|f| filter.as_ref().is_none_or(|filter| filter.matches(f)))
        .take(MAX_LISTED)
        .map(|f| {
            let mut row = view::json::row(0, &Row::of(f, 0, 0), false);
            row["n"] = serde_json::Value::Null;
            row["id"] = json!(f.id());
            row["stage"] = json!(stage(f));
            row
        })
        .collect();
    Json(json!({"flows": flows, "total": live.in_flight()})).into_response()
}

/// The flow `id` as last seen, or the 404 that says it is not in flight.
fn find(app: &App, id: &str) -> Result<Flow, Refusal> {
    live(app).and_then(|l| l.in_flight_flow(id)).ok_or_else(|| {
        refusal(
            StatusCode::NOT_FOUND,
            format!(
                "flow {id} is not in flight (it finished and is in the list, or was never live)"
            ),
        )
    })
}

/// `GET /api/live/{id}?from=`: a flow in flight as the detail pane shows
/// flows, with `live` set.
async fn detail(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let from = params.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    match find(&app, &id) {
        Ok(flow) => {
            let mut detail = view::json::detail(0, &flow, from);
            detail["n"] = serde_json::Value::Null;
            detail["live"] = json!(true);
            detail["stage"] = json!(stage(&flow));
            Json(detail).into_response()
        }
        Err(r) => r.into_response(),
    }
}

/// `GET /api/live/{id}/{request|response}/body?offset=&limit=&decoded=`:
/// part of a body as far as it has been read, as bytes (never served as
/// what it claims to be).
async fn body(
    State(app): State<Arc<App>>,
    Path((id, which)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let which = match message_named(&which) {
        Ok(which) => which,
        Err(r) => return r.into_response(),
    };
    let (offset, limit) = match (
        number(&params, "offset", 0),
        number(&params, "limit", usize::MAX),
    ) {
        (Ok(o), Ok(l)) => (o, l),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let decoded = params.get("decoded").is_none_or(|d| d != "0");
    let flow = match find(&app, &id) {
        Ok(flow) => flow,
        Err(r) => return r.into_response(),
    };
    match view::json::body(&flow, which, decoded, offset, limit) {
        Some((bytes, whole)) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/octet-stream".to_owned(),
                ),
                (
                    axum::http::header::HeaderName::from_static("x-body-length"),
                    whole.to_string(),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("flow {id} has no {} body yet", which.key()),
        ),
    }
}

/// `POST /api/live/{id}/kill`: closes the flow's client connection; the
/// flow (and any other in flight on that connection) is recorded with
/// the error "Connection killed." and joins the list.
async fn kill(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let Some(live) = live(&app) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("flow {id} is not in flight: the view has no live proxy (-n)"),
        );
    };
    match live.kill(&id) {
        true => StatusCode::NO_CONTENT.into_response(),
        false => error(
            StatusCode::NOT_FOUND,
            format!("flow {id} is not in flight (it finished already); nothing to kill"),
        ),
    }
}
