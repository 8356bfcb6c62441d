//! What the page does to flows: replay, duplicate, edit (and mark and
//! comment), revert, delete, and export as curl, HTTPie, raw HTTP, HAR
//! or a flow file.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use waylay_proxy::filter::Filter;
use waylay_proxy::har::HarDump;
use waylay_proxy::view::edit;
use waylay_proxy::view::export::{self, ExportError};

use super::App;
use super::reply::{error, flow_numbers, invalid, read_back, read_flow};

/// The action routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/flows/{n}/replay", post(replay))
        .route("/api/flows/{n}/duplicate", post(duplicate))
        .route("/api/flows/{n}/revert", post(revert))
        .route("/api/flows/{n}/edit", post(change))
        .route("/api/flows/{n}/delete", post(delete))
        .route("/api/flows/{n}/export/{format}", get(export_one))
        .route("/api/save", get(save))
}

/// `POST /api/flows/{n}/replay`: a copy of the request goes out again and
/// comes back as a new flow.
async fn replay(State(app): State<Arc<App>>, Path(n): Path<usize>) -> Response {
    let flow = match read_flow(&app, n).await {
        Ok(flow) => flow,
        Err(r) => return r,
    };
    let Some(replay) = app.replay.get() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "replay is not ready yet; try again in a moment",
        );
    };
    match replay(vec![flow], super::Sending::Queued) {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(why) => error(StatusCode::CONFLICT, format!("flow {n}: {why}")),
    }
}

/// `POST /api/flows/{n}/duplicate`: a copy with a new id, added to the
/// view.
async fn duplicate(State(app): State<Arc<App>>, Path(n): Path<usize>) -> Response {
    let flow = match read_flow(&app, n).await {
        Ok(flow) => flow,
        Err(r) => return r,
    };
    let copy = flow.duplicate();
    match app.feed.session.append(&copy) {
        Ok(at) => {
            app.feed.touch();
            Json(json!({"n": at})).into_response()
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot keep the copy: {e}"),
        ),
    }
}

/// `POST /api/flows/{n}/edit` with the fields to change (see
/// `waylay_proxy::view::edit::apply`).
async fn change(
    State(app): State<Arc<App>>,
    Path(n): Path<usize>,
    Json(fields): Json<serde_json::Value>,
) -> Response {
    let mut flow = match read_flow(&app, n).await {
        Ok(flow) => flow,
        Err(r) => return r,
    };
    if let Err(why) = edit::apply(&mut flow, &fields) {
        return invalid(why);
    }
    match app.feed.session.replace(n, &flow) {
        Ok(()) => {
            app.feed.touch();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => read_back(e),
    }
}

/// `POST /api/flows/{n}/revert`: the flow as it was before its edits.
async fn revert(State(app): State<Arc<App>>, Path(n): Path<usize>) -> Response {
    match app.feed.session.revert(n) {
        Ok(true) => {
            app.feed.touch();
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => error(
            StatusCode::CONFLICT,
            format!("flow {n} has no edits to revert"),
        ),
        Err(e) => read_back(e),
    }
}

/// `POST /api/flows/{n}/delete`: out of the view (the session file keeps
/// it).
async fn delete(State(app): State<Arc<App>>, Path(n): Path<usize>) -> Response {
    match app.feed.session.delete(n) {
        Ok(()) => {
            app.feed.touch();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => read_back(e),
    }
}

fn attachment(name: &str, media: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/flows/{n}/export/{curl|httpie|raw|raw_request|raw_response|har|mitm}`.
async fn export_one(
    State(app): State<Arc<App>>,
    Path((n, format)): Path<(usize, String)>,
) -> Response {
    let flow = match read_flow(&app, n).await {
        Ok(flow) => flow,
        Err(r) => return r,
    };
    let text = |made: Result<String, ExportError>| match made {
        Ok(cmd) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], cmd).into_response(),
        Err(why) => error(StatusCode::CONFLICT, why.to_string()),
    };
    let bytes = |made: Result<Vec<u8>, ExportError>, name: &str| match made {
        Ok(b) => attachment(name, "application/octet-stream", b),
        Err(why) => error(StatusCode::CONFLICT, why.to_string()),
    };
    match format.as_str() {
        "curl" => text(export::curl(&flow)),
        "httpie" => text(export::httpie(&flow)),
        "raw" => bytes(export::raw(&flow), &format!("flow-{n}.txt")),
        "raw_request" => bytes(export::raw_request(&flow), &format!("flow-{n}-request.txt")),
        "raw_response" => bytes(
            export::raw_response(&flow),
            &format!("flow-{n}-response.txt"),
        ),
        "har" => {
            let mut har = HarDump::new();
            har.add(&flow);
            let mut out = Vec::new();
            match har.finish(&mut out) {
                Ok(()) => attachment(&format!("flow-{n}.har"), "application/json", out),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        "mitm" => {
            let mut out = Vec::new();
            match waylay_proxy::flowfile::encode(&flow, &mut out) {
                Ok(()) => attachment(&format!("flow-{n}.mitm"), "application/octet-stream", out),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            }
        }
        other => error(
            StatusCode::NOT_FOUND,
            format!("{other}: expected curl, httpie, raw, raw_request, raw_response, har or mitm"),
        ),
    }
}

/// `GET /api/save?format=mitm|har&filter=…&flows=1,2`: every flow the
/// view shows, those a filter matches, or the numbered ones, as one file.
async fn save(
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let filter = match params
        .get("filter")
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
    {
        None => None,
        Some(text) => match Filter::parse(text) {
            Ok(f) => Some(f),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("filter: {}", e.reason())),
        },
    };
    let picked = match flow_numbers(&params) {
        Ok(picked) => picked,
        Err(r) => return r.into_response(),
    };
    let har = match params.get("format").map_or("mitm", String::as_str) {
        "mitm" => false,
        "har" => true,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("format={other}: expected mitm or har"),
            );
        }
    };
    let session = app.feed.session.clone();
    let made = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let numbers: Vec<usize> = match picked {
            Some(ns) => ns,
            None => (0..session.len())
                .filter(|&n| session.row(n).is_some_and(|r| !r.deleted))
                .collect(),
        };
        let mut dump = HarDump::new();
        let mut out = Vec::new();
        for n in numbers {
            let flow = session.flow(n).map_err(|e| e.to_string())?;
            if filter.as_ref().is_some_and(|f| !f.matches(&flow)) {
                continue;
            }
            if har {
                dump.add(&flow);
            } else {
                waylay_proxy::flowfile::encode(&flow, &mut out).map_err(|e| e.to_string())?;
            }
        }
        if har {
            dump.finish(&mut out).map_err(|e| e.to_string())?;
        }
        Ok(out)
    })
    .await;
    match made {
        Ok(Ok(bytes)) if har => attachment("flows.har", "application/json", bytes),
        Ok(Ok(bytes)) => attachment("flows.mitm", "application/octet-stream", bytes),
        Ok(Err(why)) => error(StatusCode::INTERNAL_SERVER_ERROR, why),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
