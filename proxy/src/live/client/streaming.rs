//! Streamed bodies: passed through as they arrive, never kept.

use super::{Client, Hooked, Next, key_of, panicked};
use crate::flow::Flow;
use crate::h1::BodyKind;
use crate::http::Which;
use crate::live::upstream::{Key, Link, Upstream};
use crate::live::wire::PumpError;
use crate::live::{record, send};
use crate::script::Event;

impl Client {
    /// A request whose body is streamed: the head goes upstream at once,
    /// the body follows as it arrives and is not kept; `request` fires
    /// after it, then the response is handled as usual.
    pub(super) async fn stream_request(
        &mut self,
        mut flow: Flow,
        kind: BodyKind,
        expect_continue: bool,
        next: Next,
    ) -> Next {
        let key = key_of(&flow);
        let head = send::request_head(&flow, kind);
        let mut pooled = self.pool.take(&key);
        let reused = match pooled.as_mut() {
            Some(up) => up.send(&head).await.is_ok(),
            None => false,
        };
        let mut upstream = match pooled {
            Some(up) if reused => up,
            // A streamed body goes only over HTTP/1.1.
            _ => match super::dial(&self.live, &mut flow, &key, false).await {
                Ok(Link::H2(_)) => {
                    let what = "the server chose HTTP/2 without being offered it";
                    return self.fail(flow, what, next, true).await;
                }
                Ok(Link::H1(mut fresh)) => match fresh.send(&head).await {
                    Ok(()) => fresh,
                    Err(e) => {
                        return self
                            .fail(
                                flow,
                                &format!("sending the request failed: {e}"),
                                next,
                                true,
                            )
                            .await;
                    }
                },
                Err(e) => return self.fail(flow, &e, next, true).await,
            },
        };
        if expect_continue {
            let _ = self.reply(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        }
        match self.reader.pump(kind, &mut upstream.writer).await {
            Ok(_) => {}
            Err(PumpError::Read(e)) => {
                return self
                    .fail(
                        flow,
                        &format!("the client broke off the streamed request: {e}"),
                        Next::Close,
                        false,
                    )
                    .await;
            }
            Err(PumpError::Write(e)) => {
                return self
                    .fail(
                        flow,
                        &format!("the server went away during the streamed request: {e}"),
                        Next::Close,
                        true,
                    )
                    .await;
            }
        }
        let req = flow
            .message_mut(Which::Request)
            .expect("an HTTP flow has a request");
        record::finish_message(req, None, &[], record::now());
        match self.hook(Event::Request, &mut flow).await {
            Hooked::Go => {}
            Hooked::Killed => return self.killed(&flow),
            Hooked::Panicked(e) => return self.fail(flow, &panicked(e), Next::Close, true).await,
        }
        let received = match upstream
            .response_head(self.live.options.response_timeout)
            .await
        {
            Ok((head, status)) => self.receive(&mut flow, upstream, head, status, key).await,
            Err(e) => Err(e),
        };
        self.after_forward(flow, received, next).await
    }

    /// Passes the response body from the server to the client as it
    /// arrives; the flow keeps no body, and `response` fires after.
    pub(super) async fn stream_response(
        &mut self,
        mut flow: Flow,
        mut upstream: Upstream,
        kind: BodyKind,
        key: Key,
        reusable: bool,
        next: Next,
    ) -> Next {
        let close = next == Next::Close || kind == BodyKind::Close;
        if !self.reply(&send::response_head(&flow, kind, close)).await {
            return self
                .fail(
                    flow,
                    "the client went away before the response",
                    Next::Close,
                    false,
                )
                .await;
        }
        let pumped = upstream.reader.pump(kind, &mut self.writer).await;
        let resp = flow
            .message_mut(Which::Response)
            .expect("streaming a response the flow has");
        record::finish_message(resp, None, &[], record::now());
        match pumped {
            Ok(_) => {
                if reusable {
                    self.pool.put(key, upstream);
                }
                match self.hook(Event::Response, &mut flow).await {
                    Hooked::Go => {}
                    Hooked::Killed => return self.killed(&flow),
                    // The response is already out: the flow fails and the
                    // connection closes.
                    Hooked::Panicked(e) => {
                        return self.fail(flow, &panicked(e), Next::Close, false).await;
                    }
                }
                self.live.finish(&flow);
                if close { Next::Close } else { next }
            }
            // Part of the body is out: all that can be done is to close.
            Err(PumpError::Read(e)) => {
                self.fail(
                    flow,
                    &format!("the server broke off the streamed body: {e}"),
                    Next::Close,
                    false,
                )
                .await
            }
            Err(PumpError::Write(e)) => {
                self.fail(
                    flow,
                    &format!("the client went away during the streamed body: {e}"),
                    Next::Close,
                    false,
                )
                .await
            }
        }
    }
}
