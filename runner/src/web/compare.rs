//! Comparing flows: `GET /api/compare?a=N&b=M` sets two flows side by
//! side (`&b_in=other` takes the second from the second capture), and
//! `POST /api/compare/capture?name=FILE` takes a second capture (a
//! `.mitm` file of any format mitmproxy 11 reads, or a HAR file) and
//! compares it with the view's flows.

use std::collections::HashMap;
use std::io::BufReader;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use waylay_proxy::flowfile::FlowReader;
use waylay_proxy::view::Session;
use waylay_proxy::view::compare::{self, CaptureDiff};

use super::App;
use super::open::receive;
use super::reply::{Refusal, error, number, read_back, refusal};

/// The second capture, once one is sent: its name and its flows.
pub struct Other {
    name: String,
    session: Session,
}

/// The page's second capture, if one was sent.
pub type OtherCapture = Mutex<Option<Arc<Other>>>;

/// The compare routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/compare", get(pair))
        .route("/api/compare/capture", post(capture))
}

/// `GET /api/compare?a=N&b=M[&b_in=other]`: flows `a` and `b` compared.
async fn pair(
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let (Some(_), Some(_)) = (params.get("a"), params.get("b")) else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "expected a=N&b=M: the numbers of the two flows to compare",
        ));
    };
    let (a, b) = (number(&params, "a", 0)?, number(&params, "b", 0)?);
    let right: Option<Arc<Other>> = match params.get("b_in").map(String::as_str) {
        None | Some("view") => None,
        Some("other") => Some(current(&app).ok_or_else(|| {
            refusal(
                StatusCode::NOT_FOUND,
                "no second capture is open: compare a capture first (POST /api/compare/capture)",
            )
        })?),
        Some(x) => {
            return Err(refusal(
                StatusCode::BAD_REQUEST,
                format!("b_in={x}: expected view or other"),
            ));
        }
    };
    let session = app.feed.session.clone();
    let done = tokio::task::spawn_blocking(move || {
        let left = session.flow(a)?;
        let right = match &right {
            Some(other) => other.session.flow(b)?,
            None => session.flow(b)?,
        };
        Ok(compare::flows(&left, &right))
    })
    .await;
    Ok(match done {
        Ok(Ok(json)) => Json(json).into_response(),
        Ok(Err(e)) => read_back(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    })
}

/// The second capture now open.
fn current(app: &App) -> Option<Arc<Other>> {
    app.other.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// `POST /api/compare/capture?name=FILE` with the file as the body: reads
/// it as the second capture and compares it with the view's flows. A
/// capture that breaks off part way is compared as far as it was read,
/// with a warning.
async fn capture(
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let (name, file, _) = match receive(&params, body).await {
        Ok(received) => received,
        Err(refused) => return refused,
    };
    let app2 = app.clone();
    let done = tokio::task::spawn_blocking(move || compare_with(&app2, file, name)).await;
    match done {
        Ok(answer) => answer,
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Reads `file` into a session of its own, keeps it as the second
/// capture, and answers with the comparison.
fn compare_with(app: &App, file: std::fs::File, name: String) -> Response {
    let session = match Session::temporary() {
        Ok(s) => s,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{name}: no room for the second capture: {e}"),
            );
        }
    };
    let mut warning = None;
    for flow in FlowReader::new(BufReader::with_capacity(1 << 20, file)) {
        let kept = flow.map_err(|e| e.to_string()).and_then(|f| {
            session
                .append(&f)
                .map_err(|e| format!("it could not be kept: {e}"))
        });
        if let Err(e) = kept {
            if session.is_empty() {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("{name}: {e}; pick a .mitm or HAR file to compare with"),
                );
            }
            warning = Some(format!(
                "{name}: {e}; compared the {} flow(s) before it",
                session.len()
            ));
            break;
        }
    }
    let other = Arc::new(Other { name, session });
    let diff = match CaptureDiff::of(&app.feed.session, &other.session) {
        Ok(d) => d,
        Err(e) => return read_back(e),
    };
    let mut answer = diff.json(&app.feed.session, &other.session);
    answer["name"] = json!(other.name);
    answer["warning"] = json!(warning);
    *app.other.lock().unwrap_or_else(|e| e.into_inner()) = Some(other);
    Json(answer).into_response()
}
