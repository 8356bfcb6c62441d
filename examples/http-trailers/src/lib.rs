//! mitmproxy's `http-trailers.py`: logs the trailers requests and
//! responses carry, and adds one to both halves of `/inject_trailers`
//! (HTTP/1.1 needs a chunked body for that; HTTP/1.0 has no trailers).

use waylay_sdk::{Context, Flow, Message, Script};

#[derive(Default)]
pub struct Trailers;

const TRAILER: &str = "x-my-injected-trailer-header";

/// Adds the trailer, where the message's HTTP version can carry one.
fn inject(ctx: &Context, message: &mut Message, what: &str) {
    match message.http_version() {
        "HTTP/1.0" => return,
        "HTTP/1.1" => {
            // No body: a chunked empty body with trailers makes some
            // servers answer 400.
            if message
                .content()
                .ok()
                .flatten()
                .is_none_or(<[u8]>::is_empty)
            {
                return;
            }
            message.headers_mut().set("transfer-encoding", "chunked");
        }
        _ => {}
    }
    message.headers_mut().set("trailer", TRAILER);
    let trailers = message.trailers_mut();
    while !trailers.is_empty() {
        trailers.remove_at(0);
    }
    trailers.append(TRAILER, "foobar");
    ctx.info(&format!("Injected a new {what} trailer... {TRAILER}"));
}

fn show(message: &Message) -> String {
    message
        .trailers()
        .iter()
        .map(|(n, v)| {
            format!(
                "{}: {}",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Script for Trailers {
    fn request(&mut self, ctx: &Context, flow: &mut Flow) {
        if !flow.request().trailers().is_empty() {
            ctx.info(&format!(
                "HTTP Trailers detected! Request contains: {}",
                show(flow.request())
            ));
        }
        if flow.request().path() == "/inject_trailers" {
            inject(ctx, flow.request_mut(), "request");
        }
    }

    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        let inject_here = flow.request().path() == "/inject_trailers";
        let Some(response) = flow.response_mut() else {
            return;
        };
        if !response.trailers().is_empty() {
            ctx.info(&format!(
                "HTTP Trailers detected! Response contains: {}",
                show(response)
            ));
        }
        if inject_here {
            inject(ctx, response, "response");
        }
    }
}

waylay_sdk::export_script!(Trailers);
