//! Compose (Burp's Repeater, with a diff built in): drafts of requests,
//! made from a flow, from scratch, from raw text or a pasted curl
//! command; sent through the proxy's own replay, so scripts see them;
//! every send kept with its draft and its response diffed against the
//! one before.
//!
//! - `POST /api/drafts` `{"from": N}`, `{"curl": "…"}`, `{"raw": "…"}`,
//!   `{"draft": {…}}` or `{}`: a new draft.
//! - `GET /api/drafts`: the drafts; `GET /api/drafts/{d}`: one, with its
//!   sends.
//! - `PUT /api/drafts/{d}` `{"draft": {…}}` or `{"raw": "…"}`: edits it.
//! - `POST /api/drafts/{d}/send` `{"count": N, "parallel": bool}`: sends
//!   N copies, in turn or all at once.
//! - `GET /api/drafts/{d}/diff?send=I`: send I's flow against send I-1's.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use waylay_proxy::Flow;
use waylay_proxy::live::replay::Together;
use waylay_proxy::view::compare;
use waylay_proxy::view::compose::Draft;

use super::reply::{Refusal, error, invalid_status, number, read_back, read_flow, refusal};
use super::{App, Sending};

/// The most copies one send makes.
const MAX_COPIES: usize = 1000;

/// The largest draft the page may send (a request body included).
const MAX_DRAFT: usize = 64 << 20;

/// One draft: the request, the flow it came from, and its sends: each
/// one's flow id and, once it has joined the view, its number there.
struct Entry {
    draft: Draft,
    base: Option<usize>,
    sends: Vec<(String, Option<usize>)>,
}

impl Entry {
    /// Fills in the numbers of sends that have joined the view since.
    fn catch_up(&mut self, sent: &super::sent::Sent) {
        for (id, n) in self.sends.iter_mut().filter(|(_, n)| n.is_none()) {
            *n = sent.take(id);
        }
    }
}

/// The page's drafts, numbered from 0 in the order they were made.
#[derive(Default)]
pub struct Drafts(Mutex<Vec<Entry>>);

/// The compose routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/drafts", post(create).get(list))
        .route("/api/drafts/{d}", get(show).put(change))
        .route("/api/drafts/{d}/send", post(send))
        .route("/api/drafts/{d}/diff", get(diff))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_DRAFT))
}

fn bad(message: impl Into<String>) -> Refusal {
    refusal(StatusCode::BAD_REQUEST, message)
}

/// The request body as JSON, or the 400 that says it is not.
fn body_json(body: &[u8]) -> Result<Value, Refusal> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))
}

/// The draft a request body describes (see the module's list); `base`
/// and `scheme` come from the draft it replaces, if any.
async fn draft_of(
    app: &Arc<App>,
    body: &Value,
    scheme: &str,
) -> Result<(Draft, Option<usize>), Response> {
    if let Some(n) = body.get("from") {
        let n = n
            .as_u64()
            .ok_or_else(|| bad("from: expected a flow's number").into_response())?
            as usize;
        let flow = read_flow(app, n).await?;
        let draft = Draft::of(&flow)
            .map_err(|e| refusal(invalid_status(&e), format!("flow {n}: {e}")).into_response())?;
        return Ok((draft, Some(n)));
    }
    let curl = text_field(body, "curl").map_err(IntoResponse::into_response)?;
    let raw = text_field(body, "raw").map_err(IntoResponse::into_response)?;
    if let Some(command) = curl {
        let draft =
            Draft::from_curl(command).map_err(|e| bad(format!("curl: {e}")).into_response())?;
        return Ok((draft, None));
    }
    if let Some(raw) = raw {
        let draft = Draft::from_raw(raw, scheme)
            .map_err(|e| refusal(invalid_status(&e), format!("raw: {e}")).into_response())?;
        return Ok((draft, None));
    }
    match body.get("draft") {
        Some(d) => Draft::from_json(d)
            .map(|d| (d, None))
            .map_err(|e| refusal(invalid_status(&e), format!("draft.{e}")).into_response()),
        None => Ok((Draft::default(), None)),
    }
}

/// A text field of a request body, if there.
fn text_field<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, Refusal> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{key}: expected text"))),
    }
}

/// `POST /api/drafts`: a new draft; 201 with it.
async fn create(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let (draft, base) = match draft_of(&app, &body, "http").await {
        Ok(made) => made,
        Err(r) => return r,
    };
    let d = {
        let mut drafts = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner());
        drafts.push(Entry {
            draft,
            base,
            sends: Vec::new(),
        });
        drafts.len() - 1
    };
    (StatusCode::CREATED, Json(entry_json(&app, d))).into_response()
}

/// `GET /api/drafts`: each draft's method, URL and how many sends.
async fn list(State(app): State<Arc<App>>) -> Json<Value> {
    let drafts = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner());
    let list: Vec<Value> = drafts
        .iter()
        .enumerate()
        .map(|(d, e)| json!({"id": d, "method": e.draft.method, "url": e.draft.url, "sends": e.sends.len()}))
        .collect();
    Json(json!({"drafts": list}))
}

/// Draft `d` for the page: the draft, as raw text too, and its sends
/// (each with its flow's number and row once it has arrived).
fn entry_json(app: &App, d: usize) -> Value {
    let mut drafts = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner());
    let Some(e) = drafts.get_mut(d) else {
        return Value::Null;
    };
    e.catch_up(&app.feed.sent);
    let sends: Vec<Value> = e
        .sends
        .iter()
        .map(|&(ref id, n)| {
            let row = n.and_then(|n| app.feed.session.row(n));
            json!({
                "id": id,
                "n": n,
                "status": row.as_ref().map(|r| r.status),
                "duration": row.as_ref().and_then(|r| r.duration),
                "size": row.as_ref().map(|r| r.size),
                "error": row.as_ref().map(|r| r.flags & waylay_proxy::view::row::ERROR != 0),
            })
        })
        .collect();
    json!({
        "id": d,
        "draft": e.draft.json(),
        "raw": e.draft.raw(),
        "base": e.base,
        "sends": sends,
    })
}

/// The number in `/api/drafts/{d}`, or the 404 that says there is no
/// such draft.
fn draft_number(app: &App, d: usize) -> Result<usize, Refusal> {
    let count = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner()).len();
    if d < count {
        Ok(d)
    } else {
        Err(refusal(
            StatusCode::NOT_FOUND,
            format!("there is no draft {d} (there are {count})"),
        ))
    }
}

/// `GET /api/drafts/{d}`.
async fn show(State(app): State<Arc<App>>, Path(d): Path<usize>) -> Result<Json<Value>, Refusal> {
    let d = draft_number(&app, d)?;
    Ok(Json(entry_json(&app, d)))
}

/// `PUT /api/drafts/{d}`: the draft replaced by `{"draft": …}` or
/// `{"raw": …}`; its sends stay.
async fn change(
    State(app): State<Arc<App>>,
    Path(d): Path<usize>,
    body: axum::body::Bytes,
) -> Response {
    let (d, body) = match draft_number(&app, d).and_then(|d| Ok((d, body_json(&body)?))) {
        Ok(got) => got,
        Err(r) => return r.into_response(),
    };
    if body.get("raw").is_none() && body.get("draft").is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"draft\": {...}} or {\"raw\": \"...\"}",
        );
    }
    let scheme = {
        let drafts = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner());
        let url = &drafts[d].draft.url;
        if url.to_ascii_lowercase().starts_with("https:") {
            "https"
        } else {
            "http"
        }
    };
    let (draft, _) = match draft_of(&app, &body, scheme).await {
        Ok(made) => made,
        Err(r) => return r,
    };
    app.drafts.0.lock().unwrap_or_else(|e| e.into_inner())[d].draft = draft;
    Json(entry_json(&app, d)).into_response()
}

/// `POST /api/drafts/{d}/send`: `count` copies (1 by default), one after
/// another or, with `"parallel": true`, all at once; 202 with their flow
/// ids.
async fn send(
    State(app): State<Arc<App>>,
    Path(d): Path<usize>,
    body: axum::body::Bytes,
) -> Result<Response, Refusal> {
    let d = draft_number(&app, d)?;
    let body = body_json(&body)?;
    let count = match body.get("count") {
        None => 1,
        Some(c) => c
            .as_u64()
            .filter(|c| (1..=MAX_COPIES as u64).contains(c))
            .ok_or_else(|| bad(format!("count: expected 1 to {MAX_COPIES}")))?
            as usize,
    };
    let together = match body.get("parallel") {
        None | Some(Value::Bool(false)) => Together::InTurn,
        Some(Value::Bool(true)) => Together::AtOnce,
        Some(_) => return Err(bad("parallel: expected true or false")),
    };
    let (draft, base) = {
        let drafts = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner());
        (drafts[d].draft.clone(), drafts[d].base)
    };
    let base_flow: Option<Flow> = match base {
        Some(n) => match read_flow(&app, n).await {
            Ok(flow) => Some(flow),
            Err(answer) => return Ok(answer),
        },
        None => None,
    };
    // Built once; each copy is a duplicate of it with an id of its own.
    let first = draft
        .to_flow(base_flow.as_ref())
        .map_err(|e| bad(format!("the draft cannot be sent: {e}")))?;
    let mut flows: Vec<Flow> = (1..count).map(|_| first.duplicate()).collect();
    flows.insert(0, first);
    let Some(replay) = app.replay.get() else {
        return Err(refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "sending is not ready yet; try again in a moment",
        ));
    };
    // Watched before they go, so that none arrives unseen.
    let ids: Vec<String> = flows.iter().map(|f| f.id().to_owned()).collect();
    for id in &ids {
        app.feed.sent.expect(id);
    }
    if let Err(why) = replay(flows, Sending::Now(together)) {
        app.feed.sent.forget(&ids);
        return Err(refusal(StatusCode::CONFLICT, format!("draft {d}: {why}")));
    }
    app.drafts.0.lock().unwrap_or_else(|e| e.into_inner())[d]
        .sends
        .extend(ids.iter().map(|id| (id.clone(), None)));
    Ok((StatusCode::ACCEPTED, Json(json!({"ids": ids}))).into_response())
}

/// `GET /api/drafts/{d}/diff?send=I`: send I's flow compared with send
/// I-1's (409 while either has not come back).
async fn diff(
    State(app): State<Arc<App>>,
    Path(d): Path<usize>,
    Query(params): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let d = draft_number(&app, d)?;
    if !params.contains_key("send") {
        return Err(bad(
            "expected ?send=I: the send to compare with the one before it",
        ));
    }
    let i = number(&params, "send", 0)?;
    let sends = {
        let mut drafts = app.drafts.0.lock().unwrap_or_else(|e| e.into_inner());
        drafts[d].catch_up(&app.feed.sent);
        drafts[d].sends.clone()
    };
    if sends.len() < 2 {
        return Err(bad(format!(
            "send={i}: draft {d} has {} send(s); send it twice to compare",
            sends.len()
        )));
    }
    if i == 0 || i >= sends.len() {
        return Err(bad(format!(
            "send={i}: expected 1 to {} (draft {d} has {} sends; each is compared with the one before it)",
            sends.len() - 1,
            sends.len()
        )));
    }
    let [Some(a), Some(b)] = [sends[i - 1].1, sends[i].1] else {
        return Err(refusal(
            StatusCode::CONFLICT,
            "still waiting for the response; ask again in a moment",
        ));
    };
    let session = app.feed.session.clone();
    let done = tokio::task::spawn_blocking(move || {
        Ok::<_, waylay_proxy::view::ReadBack>(json!({
            "left": a,
            "right": b,
            "compare": compare::flows(&session.flow(a)?, &session.flow(b)?),
        }))
    })
    .await;
    Ok(match done {
        Ok(Ok(json)) => Json(json).into_response(),
        Ok(Err(e)) => read_back(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    })
}
