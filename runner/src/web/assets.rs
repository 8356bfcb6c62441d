//! The page: plain HTML, CSS and JavaScript modules, embedded in the
//! binary (no build step, no Node.js).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("page/index.html"),
    )
}

pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("page/app.js"),
    )
}

pub async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("page/app.css"),
    )
}

/// The page's other modules, by name.
const MODULES: &[(&str, &str)] = &[
    ("dom.js", include_str!("page/dom.js")),
    ("views.js", include_str!("page/views.js")),
    ("palette.js", include_str!("page/palette.js")),
    ("compare.js", include_str!("page/compare.js")),
    ("compose.js", include_str!("page/compose.js")),
    ("runs.js", include_str!("page/runs.js")),
    ("rules.js", include_str!("page/rules.js")),
];

/// `GET /js/{name}`: one of [`MODULES`].
pub async fn module(Path(name): Path<String>) -> Response {
    match MODULES.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            *text,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such module").into_response(),
    }
}
