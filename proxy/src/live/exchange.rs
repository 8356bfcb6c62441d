//! The HTTP flow's lifecycle, written once for every kind of client
//! connection: the hooks in mitmproxy's order, a killed or failed flow,
//! a script's own answer or the server's, bodies kept or streamed (by
//! `stream_large_bodies`, or a script's choice in the `_headers` hooks),
//! and the hand-back of an upgraded connection. The client side is a
//! `Downstream` (HTTP/1 or HTTP/2); the server side a `Link`.

use std::future::Future;
use std::sync::Mutex;

use bytes::Bytes;

use super::body::{Sink, Source, Trailers};
use super::failure::{Failure, Gone, ResponseError};
use super::state::{Hooked, Session};
use super::upstream::{self, Answer, AnswerBody, Link, Origin, Pool, Sent, TlsTo, Upstream};
use super::wire::{Piece, WireError};
use super::{record, via};
use crate::flow::Flow;
use crate::h1::BodyKind;
use crate::http::{self as fields, Which};
use crate::script::Event;
use crate::tls::TlsError;
use crate::tnetstring::Value;

/// The client's side of one exchange.
pub trait Downstream: Send {
    /// The request body's length, where its framing says it in advance.
    fn body_length(&self) -> Option<u64>;
    /// The request body, as the client sends it.
    fn body(&mut self) -> Source<'_>;
    /// Tells a client that waits for it (`Expect: 100-continue`) to send
    /// its body.
    fn go_ahead(&mut self) -> impl Future<Output = ()> + Send;
    /// Sends the flow's whole response; `false` when the client is gone.
    fn respond(&mut self, flow: &Flow) -> impl Future<Output = bool> + Send;
    /// Sends the response head; the body (of `length` bytes when known)
    /// follows through the sink. `None` when the client is gone.
    fn respond_head(
        &mut self,
        flow: &Flow,
        length: Option<u64>,
    ) -> impl Future<Output = Option<Sink<'_>>> + Send;
    /// Tells a waiting client that the flow failed.
    fn refuse(&mut self, failure: &Failure) -> impl Future<Output = ()> + Send;
    /// The flow was killed: the client gets no answer.
    fn kill(&mut self);
}

/// How an exchange ended, for the connection it ran on.
#[derive(Debug)]
pub enum Ending {
    /// Answered; the connection may carry another request.
    Done,
    /// The connection must close (killed, failed, broken off).
    Close,
    /// The server switched protocols (101): the client has the 101, and
    /// the flow and the server connection are the next layer's.
    Upgrade(Box<Flow>, Upstream),
}

/// A body read so far: whole, or over `stream_large_bodies` and to be
/// passed through (its first pieces read already).
enum Read {
    Whole(Bytes, Trailers),
    Large(Vec<Piece>),
}

/// Whether a request asks to switch protocols (WebSocket, h2c).
pub fn is_upgrade(flow: &Flow) -> bool {
    flow.request()
        .is_some_and(|req| fields::header(req, "upgrade").is_some())
}

/// Runs one flow from its request head to its end.
pub async fn run<D: Downstream>(
    s: &Session,
    pool: &Mutex<Pool>,
    down: &mut D,
    mut flow: Flow,
    expect_continue: bool,
) -> Ending {
    if let Some(end) = hooked(s, down, Event::RequestHeaders, &mut flow, true).await {
        return end;
    }
    s.track(&flow);
    let options = &s.live.options;
    let length = down.body_length();
    let stream_now = length != Some(0)
        && (flow.streaming(Which::Request) || over(length, options.stream_large_bodies));
    if expect_continue && length != Some(0) {
        down.go_ahead().await;
    }
    let mut source = down.body();
    let read = if stream_now {
        Ok(Read::Large(Vec::new()))
    } else {
        read(
            &mut source,
            length,
            options.stream_large_bodies,
            options.body_size_limit,
        )
        .await
    };
    let timeout = options.response_timeout;
    let (link, answer) = match read {
        Err(e) => {
            drop(source);
            return fail(s, down, flow, Failure::RequestBody(e), true).await;
        }
        Ok(Read::Whole(body, trailers)) => {
            drop(source);
            let req = flow
                .message_mut(Which::Request)
                .expect("an HTTP flow has a request");
            record::finish_message(req, Some(body), &trailers, record::now());
            if let Some(end) = hooked(s, down, Event::Request, &mut flow, true).await {
                return end;
            }
            if flow.response().is_some() {
                // Answered by a script: no server. mitmproxy fires both
                // response hooks here too.
                return respond(s, down, flow, true).await;
            }
            s.track(&flow);
            match forward(s, pool, &mut flow).await {
                Ok(answered) => answered,
                Err(e) => return fail(s, down, flow, e, true).await,
            }
        }
        Ok(Read::Large(first)) => {
            let sent = forward_streamed(s, pool, &mut flow, source, first).await;
            let (mut link, sent) = match sent {
                Ok(sent) => sent,
                Err(e) => {
                    let answer = !matches!(e, Failure::ClientGone(_));
                    return fail(s, down, flow, e, answer).await;
                }
            };
            let req = flow
                .message_mut(Which::Request)
                .expect("an HTTP flow has a request");
            record::finish_message(req, None, &[], record::now());
            if let Some(end) = hooked(s, down, Event::Request, &mut flow, true).await {
                return end;
            }
            let method = fields::raw(flow.request().expect("a request"), "method").to_vec();
            match link.answer(sent, &method, timeout).await {
                Ok(answer) => (link, answer),
                Err(e) => return fail(s, down, flow, e, true).await,
            }
        }
    };
    receive(s, pool, down, flow, link, answer).await
}

/// Whether a body of `length` is over the streaming threshold.
fn over(length: Option<u64>, threshold: Option<u64>) -> bool {
    matches!((length, threshold), (Some(n), Some(t)) if n > t)
}

/// Reads a body whole, unless it turns out larger than `threshold`
/// (mitmproxy checks a known length first, and an unknown one as it
/// arrives): then what was read is handed back to pass on first, and the
/// rest is still in `source`.
async fn read(
    source: &mut Source<'_>,
    length: Option<u64>,
    threshold: Option<u64>,
    limit: Option<u64>,
) -> Result<Read, WireError> {
    let Some(threshold) = threshold.filter(|_| length.is_none()) else {
        let whole = std::mem::replace(source, Source::Empty);
        let (body, trailers) = whole.collect(limit).await?;
        return Ok(Read::Whole(body, trailers));
    };
    let (mut pieces, mut size, mut trailers) = (Vec::new(), 0u64, Vec::new());
    while let Some(piece) = source.next().await? {
        match piece {
            Piece::Data(data) => {
                size += data.len() as u64;
                pieces.push(Piece::Data(data));
                if size > threshold {
                    return Ok(Read::Large(pieces));
                }
            }
            Piece::Trailers(t) => trailers = t,
        }
    }
    let mut body = Vec::with_capacity(size as usize);
    for piece in pieces {
        if let Piece::Data(data) = piece {
            body.extend_from_slice(&data);
        }
    }
    Ok(Read::Whole(Bytes::from(body), trailers))
}

/// Opens a connection to `origin` for `flow`, TLS with the proxy's trust
/// settings where the origin says so (offering h2 only when `allow_h2`),
/// records it as the flow's `server_conn` and fires `server_connect`.
pub async fn dial(
    s: &Session,
    flow: &mut Flow,
    origin: &Origin,
    allow_h2: bool,
) -> Result<Link, Failure> {
    let options = &s.live.options;
    let tls = if origin.tls {
        let Some(interceptor) = options.tls.as_deref() else {
            return Err(Failure::Tls(TlsError::NotSetUp {
                host: origin.host.clone(),
                port: origin.port,
            }));
        };
        Some(TlsTo {
            interceptor,
            sni: upstream::sni_for(&origin.host),
            alpn: upstream::offers(allow_h2),
        })
    } else {
        None
    };
    // Boxed: a TLS handshake's state is large, and would otherwise be
    // reserved in every client connection's task, idle or not.
    let via = via::proxy_of(&s.mode.kind);
    let link = Box::pin(via::connect(origin, tls, options, via, &s.notify)).await?;
    flow.dict_mut().insert("server_conn", link.conn().clone());
    Ok(link)
}

fn taken(pool: &Mutex<Pool>, origin: &Origin) -> Option<Link> {
    pool.lock().unwrap_or_else(|e| e.into_inner()).take(origin)
}

fn failure(pool: &Mutex<Pool>, origin: &Origin) -> Option<Failure> {
    pool.lock()
        .unwrap_or_else(|e| e.into_inner())
        .failure(origin)
}

/// Sends a whole request and reads the response head. A pooled HTTP/1
/// connection the server has since closed fails at once (at the write or
/// with no answer); then one fresh connection is tried.
async fn forward(
    s: &Session,
    pool: &Mutex<Pool>,
    flow: &mut Flow,
) -> Result<(Link, Answer), Failure> {
    let origin = Origin::of(flow);
    let upgrade = is_upgrade(flow);
    let method = fields::raw(flow.request().expect("a request"), "method").to_vec();
    let timeout = s.live.options.response_timeout;
    match taken(pool, &origin) {
        // A protocol switch needs HTTP/1.1: the shared h2 link stays.
        Some(h2 @ Link::H2(_)) if upgrade => keep(pool, origin.clone(), h2),
        Some(mut link @ Link::H2(_)) => {
            flow.dict_mut().insert("server_conn", link.conn().clone());
            let sent = link.send(flow, None).await?;
            let answer = link.answer(sent, &method, timeout).await?;
            return Ok((link, answer));
        }
        Some(mut link) => {
            flow.dict_mut().insert("server_conn", link.conn().clone());
            if let Ok(sent) = link.send(flow, None).await
                && let Ok(answer) = link.answer(sent, &method, timeout).await
            {
                return Ok((link, answer));
            }
        }
        None => {}
    }
    if let Some(failed) = failure(pool, &origin) {
        return Err(failed);
    }
    let mut link = dial(s, flow, &origin, !upgrade).await?;
    let sent = link.send(flow, None).await?;
    let answer = link.answer(sent, &method, timeout).await?;
    Ok((link, answer))
}

/// Sends a request whose body passes through as it arrives, after the
/// pieces already read. A fresh HTTP/1 connection is used (a streamed
/// body cannot be sent twice), or the origin's HTTP/2 one.
async fn forward_streamed(
    s: &Session,
    pool: &Mutex<Pool>,
    flow: &mut Flow,
    rest: Source<'_>,
    first: Vec<Piece>,
) -> Result<(Link, Sent), Failure> {
    let origin = Origin::of(flow);
    let mut link = match taken(pool, &origin) {
        Some(Link::H2(h2)) => {
            flow.dict_mut().insert("server_conn", h2.conn.clone());
            Link::H2(h2)
        }
        Some(Link::H1(idle)) => {
            pool.lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(origin.clone(), Link::H1(idle));
            dial(s, flow, &origin, true).await?
        }
        None => match failure(pool, &origin) {
            Some(failed) => return Err(failed),
            None => dial(s, flow, &origin, true).await?,
        },
    };
    let mut source = if first.is_empty() {
        rest
    } else {
        Source::Prefixed(first.into(), Box::new(rest))
    };
    let sent = link.send(flow, Some(&mut source)).await?;
    Ok((link, sent))
}

/// The response half, its head read: into the flow, `response_headers`, then
/// the body kept or passed through, `response`, and the client answered.
async fn receive<D: Downstream>(
    s: &Session,
    pool: &Mutex<Pool>,
    down: &mut D,
    mut flow: Flow,
    mut link: Link,
    answer: Answer,
) -> Ending {
    let options = &s.live.options;
    flow.dict_mut().insert("server_conn", link.conn().clone());
    flow.dict_mut()
        .insert("response", Value::Dict(answer.dict.into()));
    if let Some(end) = hooked(s, down, Event::ResponseHeaders, &mut flow, true).await {
        return end;
    }
    let (length, reusable) = match &answer.body {
        AnswerBody::H1 { kind, reusable } => (
            match kind {
                BodyKind::None => Some(0),
                BodyKind::Length(n) => Some(*n),
                BodyKind::Chunked | BodyKind::Close => None,
            },
            *reusable,
        ),
        AnswerBody::H2(body) => (
            if hyper::body::Body::is_end_stream(body) {
                Some(0)
            } else {
                hyper::body::Body::size_hint(body).exact()
            },
            true,
        ),
    };
    if answer.status == 101 {
        return upgrade(s, down, flow, link).await;
    }
    let origin = Origin::of(&flow);
    let stream_now = length != Some(0)
        && (flow.streaming(Which::Response) || over(length, options.stream_large_bodies));
    let mut source = match (&mut link, answer.body) {
        (Link::H1(up), AnswerBody::H1 { kind, .. }) => Source::h1(&mut up.wire, kind),
        (_, AnswerBody::H2(body)) => Source::H2(body),
        (Link::H2(_), AnswerBody::H1 { .. }) => unreachable!("an HTTP/2 link answers in HTTP/2"),
    };
    let read = if stream_now {
        Ok(Read::Large(Vec::new()))
    } else {
        read(
            &mut source,
            length,
            options.stream_large_bodies,
            options.body_size_limit,
        )
        .await
    };
    match read {
        Err(e) => {
            drop(source);
            fail(s, down, flow, Failure::ResponseBody(e), true).await
        }
        Ok(Read::Whole(body, trailers)) => {
            drop(source);
            let resp = flow.message_mut(Which::Response).expect("set above");
            record::finish_message(resp, Some(body), &trailers, record::now());
            if reusable {
                keep(pool, origin, link);
            }
            respond(s, down, flow, false).await
        }
        Ok(Read::Large(first)) => {
            let Some(mut sink) = down.respond_head(&flow, length).await else {
                drop(source);
                let gone = Failure::ClientGone(Gone::BeforeResponse);
                return fail(s, down, flow, gone, false).await;
            };
            let mut pumped = Ok(0);
            for piece in first {
                if let Err(e) = sink.send(piece).await {
                    pumped = Err(super::body::PumpError::Write(e));
                    break;
                }
            }
            if pumped.is_ok() {
                pumped = super::body::pump(&mut source, sink).await;
            }
            drop(source);
            let resp = flow.message_mut(Which::Response).expect("set above");
            record::finish_message(resp, None, &[], record::now());
            match pumped {
                Ok(_) => {
                    if reusable {
                        keep(pool, origin, link);
                    }
                    // The response is already out: a panic fails the flow
                    // and closes the connection, with no answer.
                    if let Some(end) = hooked(s, down, Event::Response, &mut flow, false).await {
                        return end;
                    }
                    s.finish(&flow).await;
                    Ending::Done
                }
                // Part of the body is out: all that can be done is to close.
                Err(super::body::PumpError::Read(e)) => {
                    fail(s, down, flow, Failure::ServerBrokeOff(e), false).await
                }
                Err(super::body::PumpError::Write(e)) => {
                    let gone = Failure::ClientGone(Gone::DuringResponse(e));
                    fail(s, down, flow, gone, false).await
                }
            }
        }
    }
}

fn keep(pool: &Mutex<Pool>, origin: Origin, link: Link) {
    pool.lock()
        .unwrap_or_else(|e| e.into_inner())
        .put(origin, link);
}

/// A 101: the response hooks, the 101 to the client, then the
/// connection is the next layer's.
async fn upgrade<D: Downstream>(s: &Session, down: &mut D, mut flow: Flow, link: Link) -> Ending {
    let Link::H1(up) = link else {
        let bad = Failure::BadResponse(ResponseError::SwitchedOverHttp2);
        return fail(s, down, flow, bad, true).await;
    };
    let resp = flow.message_mut(Which::Response).expect("set above");
    record::finish_message(resp, Some(Bytes::new()), &[], record::now());
    if record::is_websocket_switch(&flow) {
        // Set before `response`, as mitmproxy does, so that scripts see a
        // WebSocket is to follow.
        flow.start_websocket();
    }
    if let Some(end) = hooked(s, down, Event::Response, &mut flow, true).await {
        return end;
    }
    if down.respond_head(&flow, Some(0)).await.is_none() {
        let gone = Failure::ClientGone(Gone::BeforeSwitch);
        return fail(s, down, flow, gone, false).await;
    }
    Ending::Upgrade(Box::new(flow), up)
}

/// The flow has its whole response: `response` hooks (both, when a script
/// answered), then the client.
async fn respond<D: Downstream>(
    s: &Session,
    down: &mut D,
    mut flow: Flow,
    emulate_headers: bool,
) -> Ending {
    let events: &[Event] = if emulate_headers {
        &[Event::ResponseHeaders, Event::Response]
    } else {
        &[Event::Response]
    };
    for &event in events {
        if let Some(end) = hooked(s, down, event, &mut flow, true).await {
            return end;
        }
    }
    if !down.respond(&flow).await {
        flow.set_error(
            "the client went away before the response was sent",
            record::now(),
        );
        s.live.flow_event(Event::Error, &mut flow).await;
        s.finish(&flow).await;
        return Ending::Close;
    }
    s.finish(&flow).await;
    Ending::Done
}

/// The flow failed: the error recorded, `error` fired, and the client, if
/// it still waits and `answer` says so, told.
pub async fn fail<D: Downstream>(
    s: &Session,
    down: &mut D,
    mut flow: Flow,
    failure: Failure,
    answer: bool,
) -> Ending {
    let note = if failure.is_upstream() {
        s.failure_note
    } else {
        ""
    };
    flow.set_error(&format!("{failure}{note}"), record::now());
    let outcome = s.live.flow_event(Event::Error, &mut flow).await;
    s.finish(&flow).await;
    if outcome.killed {
        down.kill();
    } else if answer {
        down.refuse(&failure).await;
    }
    Ending::Close
}

/// Runs `event`'s hooks on the flow: `None` to go on, or how the exchange
/// ended, the one place a hook's outcome is handled: killed (no answer),
/// or a hook panicked (the flow fails; `answer`: whether the client still
/// waits for one).
async fn hooked<D: Downstream>(
    s: &Session,
    down: &mut D,
    event: Event,
    flow: &mut Flow,
    answer: bool,
) -> Option<Ending> {
    match s.hook(event, flow).await {
        Hooked::Go => None,
        Hooked::Killed => Some(killed(s, down, flow).await),
        Hooked::Panicked(e) => {
            let failed = std::mem::replace(flow, Flow::empty());
            Some(fail(s, down, failed, Failure::Panicked(e), answer).await)
        }
    }
}

/// A script killed the flow: no answer.
async fn killed<D: Downstream>(s: &Session, down: &mut D, flow: &Flow) -> Ending {
    s.finish(flow).await;
    down.kill();
    Ending::Close
}
