//! The view's routes: the page, the JSON API, bodies by range, export,
//! and the push channel.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::json;
use waylay_proxy::filter::Filter;
use waylay_proxy::view::{self, SortKey};

use super::reply::{Refusal, error, message_named, number, read_back, read_flow, refusal};
use super::{App, assets, guard};

type Params = Query<HashMap<String, String>>;

/// The most rows one window request gets.
const MAX_ROWS: usize = 1000;

/// Every route, behind the guard.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .route("/js/{name}", get(assets::module))
        .route("/api/flows", get(flows))
        .route("/api/flows/{n}", get(detail))
        .route("/api/flows/{n}/{which}/body", get(body))
        .route("/api/filter/cancel", post(cancel))
        .route("/api/updates", get(updates))
        .route("/api/log", get(log))
        .merge(super::actions::routes())
        .merge(super::intercept::routes())
        .merge(super::inflight::routes())
        .merge(super::open::routes())
        .merge(super::compare::routes())
        .merge(super::compose::routes())
        .merge(super::runs::routes())
        .merge(super::rules::routes())
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::guard,
        ))
        .with_state(app)
}

/// A filter parameter, or the 400 that says where it is wrong.
fn filter_param(params: &HashMap<String, String>, name: &str) -> Result<Option<Filter>, Refusal> {
    match params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => Filter::parse(text).map(Some).map_err(|e| {
            Refusal(
                StatusCode::BAD_REQUEST,
                json!({
                    "error": e.reason(),
                    "position": e.position(),
                    "field": name,
                }),
            )
        }),
    }
}

/// `GET /api/flows?filter=&highlight=&sort=&desc=&start=&count=`: a
/// window of the filtered, sorted list.
async fn flows(State(app): State<Arc<App>>, Query(params): Params) -> Result<Response, Refusal> {
    let filter = filter_param(&params, "filter")?;
    let highlight = filter_param(&params, "highlight")?;
    let sort_name = params.get("sort").map_or("", String::as_str);
    let Some(sort) = SortKey::parse(sort_name) else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            format!("sort={sort_name}: expected time, method, url, status, type, size or duration"),
        ));
    };
    let start = number(&params, "start", 0)?;
    let count = number(&params, "count", 100)?.min(MAX_ROWS);
    let query = view::Query {
        filter,
        sort,
        descending: params.get("desc").is_some_and(|d| d == "1" || d == "true"),
    };
    let session = app.feed.session.clone();
    let done = tokio::task::spawn_blocking(move || {
        session.window(&query, highlight.as_ref(), start, count)
    })
    .await;
    Ok(match done {
        Ok(Ok(Some(window))) => Json(view::json::window(&window)).into_response(),
        // A newer query or the page's cancel stopped this one.
        Ok(Ok(None)) => error(StatusCode::CONFLICT, "cancelled"),
        Ok(Err(e)) => read_back(e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the filter failed: {e}"),
        ),
    })
}

/// `GET /api/log?after=N&level=info`: the event pane's lines after
/// number N, at `level` (debug, info, warn, error) or above.
async fn log(State(app): State<Arc<App>>, Query(params): Params) -> Result<Response, Refusal> {
    let after = number(&params, "after", 0)? as u64;
    let rank = |l: &str| {
        ["debug", "info", "warn", "error"]
            .iter()
            .position(|x| *x == l)
    };
    let wanted = params.get("level").map_or("debug", String::as_str);
    let Some(least) = rank(wanted) else {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            format!("level={wanted}: expected debug, info, warn or error"),
        ));
    };
    let log = app.feed.log.lock().unwrap_or_else(|e| e.into_inner());
    let lines: Vec<_> = log
        .iter()
        .filter(|(seq, level, _)| *seq >= after && rank(level).is_some_and(|r| r >= least))
        .map(|(seq, level, text)| json!({"seq": seq, "level": level, "text": text}))
        .collect();
    let next = log.back().map_or(after, |(seq, _, _)| seq + 1);
    Ok(Json(json!({"lines": lines, "next": next})).into_response())
}

/// `POST /api/filter/cancel`: stops the running filter.
async fn cancel(State(app): State<Arc<App>>) -> Response {
    app.feed
        .session
        .progress
        .cancel
        .store(true, Ordering::SeqCst);
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /api/flows/{n}?from=`: the detail pane's flow, its messages from
/// `from`.
async fn detail(
    State(app): State<Arc<App>>,
    Path(n): Path<usize>,
    Query(params): Params,
) -> Response {
    let from = match number(&params, "from", 0) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    match read_flow(&app, n).await {
        Ok(flow) => Json(view::json::detail(n, &flow, from)).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/flows/{n}/{request|response}/body?offset=&limit=&decoded=&download=`:
/// part of a body, as bytes. Never served as what it claims to be (a
/// captured page must not run as the view's own), except images, which
/// the page shows.
async fn body(
    State(app): State<Arc<App>>,
    Path((n, which)): Path<(usize, String)>,
    Query(params): Params,
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
    let flow = match read_flow(&app, n).await {
        Ok(flow) => flow,
        Err(r) => return r,
    };
    let Some((part, whole)) = view::json::body(&flow, which, decoded, offset, limit) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("flow {n} has no {} body", which.key()),
        );
    };
    let claimed = flow
        .message(which)
        .and_then(|m| waylay_proxy::http::header(m, "content-type"))
        .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
        .unwrap_or_default();
    let image = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "image/avif",
    ]
    .iter()
    .find(|t| claimed.starts_with(*t));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        image
            .copied()
            .unwrap_or("application/octet-stream")
            .parse()
            .expect("a media type"),
    );
    headers.insert("x-body-length", whole.to_string().parse().expect("digits"));
    if params.get("download").is_some_and(|d| d == "1") {
        let name = format!("attachment; filename=\"flow-{n}-{}.bin\"", which.key());
        headers.insert(header::CONTENT_DISPOSITION, name.parse().expect("ASCII"));
    }
    (headers, part).into_response()
}

/// `GET /api/updates`: the push channel. It sends the flow count when it
/// changes (at most 20 times a second; a slow page just gets the latest),
/// how many flows are intercepted and in flight, and a running filter's
/// progress.
async fn updates(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !guard::origin_allowed(&headers, app.address) {
        return error(
            StatusCode::FORBIDDEN,
            "the push channel is only for the view's own page (Origin refused)",
        );
    }
    ws.on_upgrade(move |socket| push(app, socket))
}

async fn push(app: Arc<App>, mut socket: WebSocket) {
    let mut changed = app.changed.clone();
    let mut last = None;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        let progress = &app.feed.session.progress;
        let filtering = progress.total.load(Ordering::Relaxed);
        let in_flight = super::inflight::count(&app);
        let state = (
            *changed.borrow_and_update() + app.feed.session.version(),
            filtering,
            progress.done.load(Ordering::Relaxed),
            in_flight,
        );
        if last == Some(state) {
            // Nothing new: wait for a flow, or look again soon for a
            // filter that the page started.
            tokio::select! {
                r = changed.changed() => if r.is_err() { return },
                m = socket.recv() => if !matches!(m, Some(Ok(_))) { return },
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        }
        last = Some(state);
        let progress = (filtering > 0).then(|| json!({"done": state.2, "total": filtering}));
        let text = json!({
            "version": state.0,
            "total": app.feed.session.shown(),
            "progress": progress,
            "intercepted": app.intercepts.waiting(),
            "inflight": in_flight,
        })
        .to_string();
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
}
