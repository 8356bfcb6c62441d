//! The [`Script`] trait: one defaulted method per event.

use crate::{ClientHello, Connection, Context, Flow, ScriptOption, TlsData};

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
/// `start` is followed by `configure` (the options are set) and `running`
/// (the proxy listens); after each of a flow's events comes `update`.
///
/// Live, connection events frame the flows, in mitmproxy 11's order:
/// `client_connect` before the first request of a connection;
/// `server_connect` when the proxy opens an upstream connection (not when
/// it reuses one), then `server_connected` or `server_connect_error`, and
/// `server_disconnected` when it closes; `client_disconnect` when the
/// client closes. A CONNECT gets `http_connect`, then `http_connected` or
/// `http_connect_error` (`http_connect_upstream` before a CONNECT to an
/// upstream proxy). TLS with the client begins with `tls_clienthello`;
/// each side's handshake gets `tls_start_*` and `tls_established_*` or
/// `tls_failed_*`. For HTTPS through CONNECT:
/// `client_connect`, `http_connect`, `server_connect`, `server_connected`,
/// `http_connected`, `tls_clienthello`, `tls_start_server`,
/// `tls_established_server`, `tls_start_client`, `tls_established_client`,
/// then the flow's events.
///
/// Offline (`runner -n -r FILE`), no connection or TLS event fires; each flow in
/// file order gets `request_headers`, `request`, then `response_headers` and
/// `response` if it has a response, then the WebSocket events if it has a
/// WebSocket, or else `error` if it has an error. Whether there is a
/// response is checked after `request` returns, so a response set in
/// `request` gets its `response` hooks. The WebSocket's messages are
/// replayed one at a time, as mitmproxy does: in each `websocket_message`
/// the flow holds the messages up to the current one. A TCP flow gets
/// `tcp_start`, its messages replayed the same way with a `tcp_message`
/// each, then `tcp_error` if it has an error, else `tcp_end`. Each of
/// these is followed by `update`, as in mitmdump.
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

    /// Once, after [`start`](Script::start): the options are set
    /// ([`Context::option`]). `updated` names every option, the proxy's and
    /// the scripts'. A script reloaded while the proxy runs gets it again.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script};
    /// # #[derive(Default)] struct S { limit: i64 }
    /// impl Script for S {
    ///     fn configure(&mut self, ctx: &Context, updated: &[&str]) {
    ///         if updated.contains(&"limit") {
    ///             self.limit = ctx.option_int("limit").unwrap_or(0);
    ///         }
    ///     }
    /// }
    /// ```
    fn configure(&mut self, ctx: &Context, updated: &[&str]) {
        let _ = (ctx, updated);
    }

    /// Once, after [`configure`](Script::configure): the proxy is listening
    /// (offline: the flows are about to be read).
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn running(&mut self, ctx: &Context) {
    ///         ctx.info("ready");
    ///     }
    /// }
    /// ```
    fn running(&mut self, ctx: &Context) {
        let _ = ctx;
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

    /// Live only: the proxy is about to open a connection to the target
    /// server: its `address` is set, its peer not yet; then comes
    /// [`server_connected`](Script::server_connected) or
    /// [`server_connect_error`](Script::server_connect_error). A
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

    /// Live only: the connection to the server is open (after
    /// [`server_connect`](Script::server_connect), before any TLS with it).
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn server_connected(&mut self, ctx: &Context, server: &Connection) {
    ///         ctx.info(&format!("connected to {:?} from {:?}", server.address(), server.sock()));
    ///     }
    /// }
    /// ```
    fn server_connected(&mut self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// Live only: the server could not be reached;
    /// [`Connection::error`] says why. The flow or CONNECT that needed it
    /// fails next.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn server_connect_error(&mut self, ctx: &Context, server: &Connection) {
    ///         ctx.warn(server.error().unwrap_or("unreachable"));
    ///     }
    /// }
    /// ```
    fn server_connect_error(&mut self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// Live only: a server connection that was open has closed, from
    /// either side.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn server_disconnected(&mut self, ctx: &Context, server: &Connection) {
    ///         ctx.debug(&format!("{:?} closed", server.address()));
    ///     }
    /// }
    /// ```
    fn server_disconnected(&mut self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// Live only: a client asked for a tunnel (an HTTP `CONNECT`), before
    /// the proxy reaches the server. The flow's request is the CONNECT; its
    /// host and port are where the tunnel goes, and changing them changes
    /// that. A response set here ([`Flow::respond`]) answers the CONNECT
    /// instead: a 2xx opens the tunnel, anything else refuses it. The
    /// CONNECT's flow is not saved (as in mitmproxy), unless it fails.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn http_connect(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         if flow.request().host() == "blocked.example" {
    ///             flow.respond(403, "no tunnels there\n");
    ///         }
    ///     }
    /// }
    /// ```
    fn http_connect(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// Live only, in upstream mode: the proxy is about to send a `CONNECT`
    /// to the upstream proxy. The flow's request is that CONNECT; header
    /// changes (a `Proxy-Authorization`) are what the upstream proxy gets.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn http_connect_upstream(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         flow.request_mut().headers_mut().set("proxy-authorization", "Basic dXNlcjpwYXNz");
    ///     }
    /// }
    /// ```
    fn http_connect_upstream(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// Live only: the tunnel a CONNECT asked for is open; the flow's
    /// response is the 2xx the client gets.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn http_connected(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.info(&format!("tunnel to {}", flow.request().authority()));
    ///     }
    /// }
    /// ```
    fn http_connected(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// Live only: a CONNECT failed (the server out of reach) or was
    /// refused (a non-2xx set in [`http_connect`](Script::http_connect)). The
    /// flow's response is what the client gets (a 502 when the server was
    /// out of reach) and may be changed here; [`Flow::error`] is set when
    /// the server was out of reach, and the flow is saved.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn http_connect_error(&mut self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.warn(&format!("no tunnel to {}", flow.request().authority()));
    ///     }
    /// }
    /// ```
    fn http_connect_error(&mut self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// Live only: a client began a TLS handshake. Its server name and ALPN
    /// offers are readable; [`ClientHello::set_ignore_connection`] lets the
    /// connection pass through undecrypted (no flow, no later TLS event).
    ///
    /// ```
    /// # use waylay_sdk::{ClientHello, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_clienthello(&mut self, ctx: &Context, hello: &mut ClientHello) {
    ///         if hello.sni() == Some("bank.example") {
    ///             hello.set_ignore_connection(true);
    ///         }
    ///     }
    /// }
    /// ```
    fn tls_clienthello(&mut self, ctx: &Context, hello: &mut ClientHello) {
        let _ = (ctx, hello);
        crate::__export::default_hook();
    }

    /// Live only: the proxy begins TLS with the client; its SNI and ALPN
    /// offers are set.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_start_client(&mut self, ctx: &Context, tls: &TlsData) {
    ///         ctx.debug(&format!("TLS with {:?}", tls.conn().sni()));
    ///     }
    /// }
    /// ```
    fn tls_start_client(&mut self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// Live only: TLS with the client is up; the version, cipher, ALPN and
    /// (server side) certificates are set.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_established_client(&mut self, ctx: &Context, tls: &TlsData) {
    ///         ctx.info(&format!("{:?} {:?}", tls.conn().tls_version(), tls.conn().alpn()));
    ///     }
    /// }
    /// ```
    fn tls_established_client(&mut self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// Live only: TLS with the client failed; [`Connection::error`] says
    /// why.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_failed_client(&mut self, ctx: &Context, tls: &TlsData) {
    ///         ctx.warn(tls.conn().error().unwrap_or("TLS failed"));
    ///     }
    /// }
    /// ```
    fn tls_failed_client(&mut self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// Live only: the proxy begins TLS with the server; its SNI and ALPN
    /// offers are set.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_start_server(&mut self, ctx: &Context, tls: &TlsData) {
    ///         ctx.debug(&format!("TLS with {:?}", tls.conn().sni()));
    ///     }
    /// }
    /// ```
    fn tls_start_server(&mut self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// Live only: TLS with the server is up; the version, cipher, ALPN and
    /// (server side) certificates are set.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_established_server(&mut self, ctx: &Context, tls: &TlsData) {
    ///         ctx.info(&format!("{:?} {:?}", tls.conn().tls_version(), tls.conn().alpn()));
    ///     }
    /// }
    /// ```
    fn tls_established_server(&mut self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// Live only: TLS with the server failed; [`Connection::error`] says
    /// why.
    ///
    /// ```
    /// # use waylay_sdk::{Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn tls_failed_server(&mut self, ctx: &Context, tls: &TlsData) {
    ///         ctx.warn(tls.conn().error().unwrap_or("TLS failed"));
    ///     }
    /// }
    /// ```
    fn tls_failed_server(&mut self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
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

    /// A flow changed: fires after each of a flow's events above (every
    /// script's hook and the options' rewrites done), live and offline, as
    /// mitmproxy's `update`. Read-only: a hook that changes flows belongs
    /// to the event itself.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Context, Script};
    /// # #[derive(Default)] struct S;
    /// impl Script for S {
    ///     fn update(&mut self, ctx: &Context, flow: &Flow) {
    ///         ctx.debug(&format!("{} now {:?}", flow.id(), flow.response().map(|r| r.status_code())));
    ///     }
    /// }
    /// ```
    fn update(&mut self, ctx: &Context, flow: &Flow) {
        let _ = (ctx, flow);
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
