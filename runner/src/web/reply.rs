//! How the API answers when it can't do what was asked: a status and
//! `{"error": ...}`, written for the person reading it; and the flow
//! read-back every route shares.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;
use waylay_proxy::view::ReadBack;

use super::App;

/// An answer that is not the one asked for: a status and a JSON body.
pub(super) struct Refusal(pub(super) StatusCode, pub(super) serde_json::Value);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

/// A JSON error: `{"error": ...}` with the status.
pub(super) fn refusal(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal(status, json!({"error": message.into()}))
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    refusal(status, message).into_response()
}

pub(super) fn read_back(e: ReadBack) -> Response {
    match e {
        ReadBack::NoSuchFlow(_) => error(StatusCode::NOT_FOUND, e.to_string()),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Reads flow `n` off the session file on a blocking thread.
pub(super) async fn read_flow(app: &Arc<App>, n: usize) -> Result<waylay_proxy::Flow, Response> {
    let session = app.feed.session.clone();
    match tokio::task::spawn_blocking(move || session.flow(n)).await {
        Ok(Ok(flow)) => Ok(flow),
        Ok(Err(e)) => Err(read_back(e)),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}
