//! How the API answers when it can't do what was asked: a status and
//! `{"error": ...}`, written for the person reading it; and the flow
//! read-back every route shares.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;
use waylay_proxy::http::Which;
use waylay_proxy::view::{Invalid, ReadBack};

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

/// The status for what the page sent that cannot be taken: 409 when the
/// flow lacks what the change needs, 400 when the request is wrong.
pub(super) fn invalid_status(e: &Invalid) -> StatusCode {
    match e {
        Invalid::Missing(_) => StatusCode::CONFLICT,
        Invalid::At { .. } | Invalid::Whole(_) => StatusCode::BAD_REQUEST,
    }
}

/// What the page sent cannot be taken: its status, and why.
pub(super) fn invalid(e: Invalid) -> Response {
    error(invalid_status(&e), e.to_string())
}

pub(super) fn read_back(e: ReadBack) -> Response {
    unreadable(e).into_response()
}

/// [`read_back`] as a [`Refusal`].
pub(super) fn unreadable(e: ReadBack) -> Refusal {
    match e {
        ReadBack::NoSuchFlow(_) => refusal(StatusCode::NOT_FOUND, e.to_string()),
        _ => refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
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

/// `request` or `response` in a route, or the 404 that says so.
pub(super) fn message_named(name: &str) -> Result<Which, Refusal> {
    match name {
        "request" => Ok(Which::Request),
        "response" => Ok(Which::Response),
        other => Err(refusal(
            StatusCode::NOT_FOUND,
            format!("{other}: expected request or response"),
        )),
    }
}

/// `?flows=1,2,3`: the numbered flows, `None` without the parameter.
pub(super) fn flow_numbers(
    params: &std::collections::HashMap<String, String>,
) -> Result<Option<Vec<usize>>, Refusal> {
    let Some(list) = params.get("flows") else {
        return Ok(None);
    };
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<usize>, _>>()
        .map(Some)
        .map_err(|_| {
            refusal(
                StatusCode::BAD_REQUEST,
                format!("flows={list}: expected numbers separated by commas"),
            )
        })
}

/// A whole-number parameter, or the 400 that says it is not one.
pub(super) fn number(
    params: &std::collections::HashMap<String, String>,
    name: &str,
    default: usize,
) -> Result<usize, Refusal> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            refusal(
                StatusCode::BAD_REQUEST,
                format!("{name}={v}: expected a whole number"),
            )
        }),
    }
}
