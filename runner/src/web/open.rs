//! Opening a capture from the page: `POST /api/open?name=FILE` with the
//! file as the body. The upload goes to a temporary file, then a thread
//! reads its flows (a `.mitm` flow file of any format mitmproxy 11 reads,
//! or a HAR file) into the view, as `-r` does; what it read, and what
//! stopped it, show in the event pane.

use std::io::{BufReader, Seek, SeekFrom, Write};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::json;
use waylay_proxy::flowfile::FlowReader;

use super::reply::error;
use super::{App, Feed};

/// The open route.
pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/api/open", post(open))
}

/// Takes the upload in, then reads it on a thread of its own: 202 at
/// once, the flows as they are read.
async fn open(
    State(app): State<Arc<App>>,
    Query(params): Query<std::collections::HashMap<String, String>>,
    body: Body,
) -> Response {
    let (name, file, size) = match receive(&params, body).await {
        Ok(received) => received,
        Err(refused) => return refused,
    };
    let feed = app.feed.clone();
    let reading = name.clone();
    let started = std::thread::Builder::new()
        .name("web-open".into())
        .spawn(move || read_into(&feed, file, &reading));
    match started {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(json!({"reading": name, "bytes": size})),
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{name}: {e}")),
    }
}

/// Takes an upload (named by `?name=`) into a temporary file, rewound:
/// its name, the file and its size, or the answer that says why not
/// (nothing sent, no room, the upload broke off).
pub(super) async fn receive(
    params: &std::collections::HashMap<String, String>,
    body: Body,
) -> Result<(String, std::fs::File, u64), Response> {
    let name = params.get("name").map_or("the upload", String::as_str);
    let mut file = tempfile::tempfile().map_err(|e| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{name}: no room for the upload: {e}"),
        )
    })?;
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let written = match chunk {
            Ok(bytes) => {
                size += bytes.len() as u64;
                file.write_all(&bytes).map_err(|e| {
                    format!("{name}: the upload could not be kept: {e} (is the disk full?)")
                })
            }
            Err(e) => Err(format!(
                "{name}: the upload broke off after {size} bytes: {e}"
            )),
        };
        written.map_err(|why| error(StatusCode::BAD_REQUEST, why))?;
    }
    if size == 0 {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("{name}: the file is empty; pick a .mitm or HAR file"),
        ));
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("{name}: {e}")))?;
    Ok((name.to_owned(), file, size))
}

/// Adds every flow in `file` to the view; says how many, or what stopped
/// the reading and how many came before it.
fn read_into(feed: &Feed, file: std::fs::File, name: &str) {
    let mut count = 0usize;
    for flow in FlowReader::new(BufReader::with_capacity(1 << 20, file)) {
        match flow {
            Ok(flow) => {
                feed.add(&flow);
                count += 1;
            }
            Err(e) => {
                feed.problem(&format!(
                    "runner: {name}: {e}; the view took the {count} flow(s) before it"
                ));
                return;
            }
        }
    }
    feed.touch();
    feed.note(&format!("Opened {count} flow(s) from {name}."));
}
