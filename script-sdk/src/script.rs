//! The [`Script`] trait: one defaulted method per event.

use crate::{Connection, Context, Flow, ScriptOption};

/// A script: a set of event hooks, each with a default that does nothing.
///
/// Implement the hooks you need and export the type with
/// [`export_script!`](crate::export_script). The runner makes one instance per
/// `-s` option with [`Default`], so the instance can keep state between
/// events.
///
/// # Order
/// `start` comes first and `done` last. The events of one flow are strictly
/// ordered: `request_headers`, `request`, then `response_headers` and
/// `response`, or `error`. A response that upgrades to a WebSocket (101)
/// is followed by `websocket_start`, one `websocket_message` per message in
/// either direction, and `websocket_end`. A raw TCP connection (a TCP
/// flow, with no request) gets `tcp_start`, one `tcp_message` per chunk
/// read from either side, then `tcp_end`, or `tcp_error` instead when it
/// ended abnormally: exactly one of the two. Events of flows on different
/// connections interleave. A script's hooks run one at a time, so `&mut self` needs no
/// lock. With several scripts (`-s a -s b`) each event reaches them in
/// command-line order.
///
/// Live, connection events frame the flows: `client_connect` before the first
/// request of a connection, `server_connect` when the proxy opens an
/// upstream connection (not when it reuses one), `client_disconnect` when the
/// client closes.
///
/// Offline (`runner -n -r FILE`), no connection event fires; each flow in
/// file order gets `request_headers`, `request`, then `response_headers` and
/// `response` if it has a response, then the WebSocket events if it has a
/// WebSocket, or else `error` if it has an error. Whether there is a
/// response is checked after `request` returns, so a response set in
/// `request` gets its `response` hooks. The WebSocket's messages are
/// replayed one at a time, as mitmproxy does: in each `websocket_message`
/// the flow holds the messages up to the current one. A TCP flow gets
/// `tcp_start`, its messages replayed the same way with a `tcp_message`
/// each, then `tcp_error` if it has an error, else `tcp_end`.
///
/// # Panics
/// A panic in a hook fails that flow alone: the runner reports the script,
/// the hook and the panic message once, the flow goes on as it was before
/// the hook, and the script stays loaded for the next event.
///
/// ```
/// use waylay_sdk::{Context, Flow, Script};
///
/// /// Counts responses and says how many at the end.
/// #[derive(Default)]
/// struct Count {
///     responses: u64,
/// }
///
/// impl Script for Count {
///     fn response(&mut self, _ctx: &Context, _flow: &mut Flow) {
///         self.responses += 1;
///     }
///
///     fn done(&mut self, ctx: &Context) {
///         ctx.info(&format!("{} responses", self.responses));
///     }
/// }
/// ```
pub trait Script: Send + 'static {
    /// The options the script takes (`--set name=value`, listed by
    /// `runner --options`); read them with [`Context::option`]. None by
    /// default.
    ///
    /// ```
    /// # use waylay_sdk::{OptionKind, Script, ScriptOption};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn options() -> &'static [ScriptOption] {
    ///         &[ScriptOption { name: "delay_ms", kind: OptionKind::Int, default: "0", help: "Wait this long." }]
    ///     }
    /// }
    /// ```
    fn options() -> &'static [ScriptOption]
    where
        Self: Sized,
    {
        &[]
    }

    /// Once, before any other event.
    ///
    /// `argv` holds the words after the script path in `-s "DIR arg1 arg2"`
    /// (empty without them). Nothing else is readable yet.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script};
    /// #[derive(Default)]
    /// struct Tag(String);
    ///
    /// impl Script for Tag {
    ///     fn start(&mut self, _ctx: &Context, argv: &[&str]) {
    ///         self.0 = argv.first().copied().unwrap_or("waylay").to_owned();
    ///     }
    /// }
    /// ```
    fn start(&mut self, ctx: &Context, argv: &[&str]) {
        let _ = (ctx, argv);
    }

    /// Live only: a client opened a connection to the proxy. One connection
    /// may carry many flows. The connection is read-only.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn client_connect(&mut self, ctx: &Context, client: &Connection) {
    ///         ctx.info(&format!("client {:?}", client.peer()));
    ///     }
    /// }
    /// ```
    fn client_connect(&mut self, ctx: &Context, client: &Connection) {
        let _ = (ctx, client);
        crate::__export::default_hook();
    }

    /// Live only: the proxy opened a connection to the target server. A
    /// connection reused for a later flow does not fire this again.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn server_connect(&mut self, ctx: &Context, server: &Connection) {
    ///         ctx.info(&format!("upstream {:?}", server.address()));
    ///     }
    /// }
    /// ```
    fn server_connect(&mut self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// The request head has been read; live, the body has not.
    ///
    /// Readable: the request line and headers. Changes to them are what
    /// the server will see. A response set here with [`Flow::respond`]
    /// answers the client without contacting a server. Offline the body is
    /// already there, and so is any response.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn request_headers(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         flow.request_mut().headers_mut().remove("accept-encoding");
    ///     }
    /// }
    /// ```
    fn request_headers(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The whole request has been read. [`Flow::request`] is complete,
    /// body included.
    ///
    /// Changes go to the server. A response set here with
    /// [`Flow::respond`] short-circuits: the client gets it and no server is
    /// contacted.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         if flow.request().path() == "/blocked" {
    ///             flow.respond(403, "blocked by waylay\n");
    ///         }
    ///     }
    /// }
    /// ```
    fn request(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The response head has been read; always before
    /// [`response`](Script::response). Live, the body has not been read and
    /// [`Message::raw_content`](crate::Message::raw_content) is `None`. Changes to the status and headers
    /// reach the client.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn response_headers(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         if let Some(response) = flow.response_mut() {
    ///             response.headers_mut().remove("server");
    ///         }
    ///     }
    /// }
    /// ```
    fn response_headers(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The whole response has been read. [`Flow::request`] and
    /// [`Flow::response`] are set; with streaming on for this response its
    /// body is not kept and [`Message::raw_content`](crate::Message::raw_content) is `None`. Changes reach the
    /// client and what `-w` saves.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn response(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         if let Some(response) = flow.response_mut() {
    ///             response.headers_mut().set("newheader", "foo");
    ///         }
    ///     }
    /// }
    /// ```
    fn response(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// A flow error: an invalid server response, a refused or interrupted
    /// connection, a TLS failure, a killed flow. [`Flow::request`] and
    /// [`Flow::error`] are set. An HTTP error status (404, 500) is a
    /// response, not an error.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn error(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if let Some(error) = flow.error() {
    ///             ctx.warn(&format!("{} failed: {}", flow.request().url(), error.msg()));
    ///         }
    ///     }
    /// }
    /// ```
    fn error(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The WebSocket is open: after the `response` hook of the 101 that
    /// upgraded the request. [`Flow::websocket`] is set, with no messages
    /// yet (offline, none replayed yet).
    ///
    /// A message injected here ([`WebSocket::inject_to_client`](crate::WebSocket::inject_to_client))
    /// is the first one the client gets. Offline, injection is refused.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn websocket_start(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.info(&format!("WebSocket to {}", flow.request().url()));
    ///     }
    /// }
    /// ```
    fn websocket_start(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// A WebSocket message arrived from either side; it is the last of
    /// [`WebSocket::messages`](crate::WebSocket::messages)
    /// ([`WebSocket::last_message`](crate::WebSocket::last_message)).
    /// Fragmented frames arrive as one message; pings and pongs are not
    /// messages.
    ///
    /// Changing its content changes what the other side gets;
    /// [`drop`](crate::WebSocketMessageMut::drop) keeps it from the other
    /// side. Messages injected here are sent after it. Everything is saved
    /// as the hook leaves it.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn websocket_message(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         let Some(mut message) = flow.websocket_mut().and_then(|ws| ws.last_message_mut()) else {
    ///             return;
    ///         };
    ///         if message.text().is_some_and(|t| t.contains("spam")) {
    ///             message.drop();
    ///         }
    ///     }
    /// }
    /// ```
    fn websocket_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The WebSocket connection closed, from either side. Who closed it,
    /// the close code and reason, and when are set
    /// ([`WebSocket::close_code`](crate::WebSocket::close_code)): 1006 when
    /// a side's connection dropped without a close frame, as in mitmproxy.
    /// No `error` hook fires for such an end, though [`Flow::error`] may
    /// say what happened. No message can be injected any more; changes
    /// are what `-w` saves (the flow is written after this hook).
    ///
    /// Offline the close fields are the saved ones from `websocket_start`
    /// on, as in mitmproxy.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn websocket_end(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if let Some(ws) = flow.websocket() {
    ///             ctx.info(&format!("closed: {:?} {:?}", ws.close_code(), ws.close_reason()));
    ///         }
    ///     }
    /// }
    /// ```
    fn websocket_end(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// A TCP connection is being relayed (a tunnel or connection that is
    /// neither TLS to intercept nor HTTP): the flow is a TCP flow
    /// ([`Flow::tcp`]), with no messages yet, and no request. Live, it
    /// fires before any bytes are relayed.
    ///
    /// Bytes injected here ([`Tcp::inject_to_client`](crate::Tcp::inject_to_client))
    /// are sent once the connection is up, before anything relayed.
    /// Offline, injection is refused.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tcp_start(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         let server = flow.server().and_then(|s| s.address());
    ///         ctx.info(&format!("TCP to {server:?}"));
    ///     }
    /// }
    /// ```
    fn tcp_start(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// A side sent bytes: one message per read, in either direction; the
    /// message is the last of [`Tcp::messages`](crate::Tcp::messages)
    /// ([`Tcp::last_message`](crate::Tcp::last_message)). Where a message
    /// ends is however the bytes arrived: TCP is a stream.
    ///
    /// Changing its content changes what the other side gets;
    /// [`drop`](crate::TcpMessageMut::drop) empties it, so the other side
    /// gets nothing for it. Bytes injected here are sent after it, each
    /// with its own `tcp_message`. Everything is saved as the hook leaves
    /// it.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tcp_message(&mut self, _ctx: &Context, flow: &mut Flow) {
    ///         let Some(mut message) = flow.tcp_mut().and_then(|tcp| tcp.last_message_mut()) else {
    ///             return;
    ///         };
    ///         if message.from_client() && message.content().starts_with(b"QUIT") {
    ///             message.drop();
    ///         }
    ///     }
    /// }
    /// ```
    fn tcp_message(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The TCP connection ended: both sides closed (a side whose
    /// connection broke counts as closed, as in mitmproxy). Each TCP
    /// flow gets this or [`tcp_error`](Script::tcp_error), never both. No
    /// bytes can be injected any more; changes are what `-w` saves (the
    /// flow is written after this hook).
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tcp_end(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         let n = flow.tcp().map_or(0, |tcp| tcp.messages_len());
    ///         ctx.info(&format!("TCP flow {} closed after {n} messages", flow.id()));
    ///     }
    /// }
    /// ```
    fn tcp_end(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// The TCP connection ended abnormally: the server could not be
    /// reached (mitmproxy's one case), or the proxy ended it (the flow was
    /// killed, a hook panicked). [`Flow::error`] says why. Fires instead of
    /// [`tcp_end`](Script::tcp_end), as mitmproxy's `tcp_error`; the
    /// messages relayed before are all there. No bytes can be injected any
    /// more. Offline, a saved flow with an error gets this.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tcp_error(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if let Some(error) = flow.error() {
    ///             ctx.warn(&format!("TCP flow {} failed: {}", flow.id(), error.msg()));
    ///         }
    ///     }
    /// }
    /// ```
    fn tcp_error(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// Live only: the client connection closed.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn client_disconnect(&mut self, ctx: &Context, client: &Connection) {
    ///         ctx.debug(&format!("bye {:?}", client.peer()));
    ///     }
    /// }
    /// ```
    fn client_disconnect(&mut self, ctx: &Context, client: &Connection) {
        let _ = (ctx, client);
        crate::__export::default_hook();
    }

    /// Once, at shutdown, after every other event.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn done(&mut self, ctx: &Context) {
    ///         ctx.info("finished");
    ///     }
    /// }
    /// ```
    fn done(&mut self, ctx: &Context) {
        let _ = ctx;
    }
}

/// Hooks that run concurrently: with shared access (`&self`), on the
/// proxy's worker threads, in parallel with each other, so a hook may block
/// (sleep, read a file, call a blocking client) without holding up other
/// flows. The flow waits for its own hook.
///
/// Implement the hooks that should be concurrent here and name them in
/// [`export_script!`](crate::export_script) (`concurrent = [request]`);
/// the others stay in [`Script`] and run one at a time. A concurrent hook
/// never runs at the same time as one of the script's `&mut self` hooks.
/// Any state it touches must be shareable between threads, which the
/// compiler checks:
///
/// ```compile_fail
/// use std::cell::Cell;
/// use waylay_sdk::{Concurrent, Script};
///
/// #[derive(Default)]
/// struct Counter(Cell<u64>); // not Sync: cannot be shared between threads
///
/// impl Script for Counter {}
/// impl Concurrent for Counter {}
/// ```
///
/// Use atomics or a lock instead:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use waylay_sdk::{Concurrent, Context, Flow, Script};
///
/// #[derive(Default)]
/// struct Counter(AtomicU64);
///
/// impl Script for Counter {}
///
/// impl Concurrent for Counter {
///     fn request(&self, _ctx: &Context, _flow: &mut Flow) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// waylay_sdk::export_script!(Counter, concurrent = [request]);
/// ```
pub trait Concurrent: Script + Sync {
    /// [`Script::request_headers`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn request_headers(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(flow.request().host());
    ///     }
    /// }
    /// ```
    fn request_headers(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::request`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn request(&self, _ctx: &Context, _flow: &mut Flow) {
    ///         std::thread::sleep(std::time::Duration::from_millis(5));
    ///     }
    /// }
    /// ```
    fn request(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::response_headers`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn response_headers(&self, _ctx: &Context, flow: &mut Flow) {
    ///         if let Some(r) = flow.response_mut() { r.set_stream(true); }
    ///     }
    /// }
    /// ```
    fn response_headers(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::response`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn response(&self, _ctx: &Context, flow: &mut Flow) {
    ///         if let Some(r) = flow.response_mut() { r.headers_mut().set("x-checked", "1"); }
    ///     }
    /// }
    /// ```
    fn response(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::error`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn error(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.warn(flow.error().map_or("", |e| e.msg()));
    ///     }
    /// }
    /// ```
    fn error(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::websocket_start`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn websocket_start(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(&flow.request().url());
    ///     }
    /// }
    /// ```
    fn websocket_start(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::websocket_message`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn websocket_message(&self, _ctx: &Context, flow: &mut Flow) {
    ///         if let Some(mut m) = flow.websocket_mut().and_then(|ws| ws.last_message_mut()) {
    ///             if m.content().is_empty() { m.drop(); }
    ///         }
    ///     }
    /// }
    /// ```
    fn websocket_message(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::websocket_end`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn websocket_end(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.info(&format!("{:?}", flow.websocket().and_then(|ws| ws.close_code())));
    ///     }
    /// }
    /// ```
    fn websocket_end(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::tcp_start`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tcp_start(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(flow.id());
    ///     }
    /// }
    /// ```
    fn tcp_start(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::tcp_message`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tcp_message(&self, _ctx: &Context, flow: &mut Flow) {
    ///         if let Some(mut m) = flow.tcp_mut().and_then(|tcp| tcp.last_message_mut()) {
    ///             if m.content() == b"\0" { m.drop(); }
    ///         }
    ///     }
    /// }
    /// ```
    fn tcp_message(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::tcp_end`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tcp_end(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.info(&format!("{:?}", flow.tcp().map(|tcp| tcp.messages_len())));
    ///     }
    /// }
    /// ```
    fn tcp_end(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::tcp_error`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Flow, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tcp_error(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.warn(flow.error().map_or("", |e| e.msg()));
    ///     }
    /// }
    /// ```
    fn tcp_error(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }
}
