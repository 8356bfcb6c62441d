//! The [`Concurrent`] trait: a script's hooks that run with shared access.

use crate::{ClientHello, Connection, Context, Flow, Script, TlsData};

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

    /// [`Script::http_connect`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn http_connect(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(&flow.request().authority());
    ///     }
    /// }
    /// ```
    fn http_connect(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::http_connect_upstream`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn http_connect_upstream(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(&flow.request().authority());
    ///     }
    /// }
    /// ```
    fn http_connect_upstream(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::http_connected`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn http_connected(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(&flow.request().authority());
    ///     }
    /// }
    /// ```
    fn http_connected(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::http_connect_error`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn http_connect_error(&self, ctx: &Context, flow: &mut Flow) {
    ///         ctx.debug(&flow.request().authority());
    ///     }
    /// }
    /// ```
    fn http_connect_error(&self, ctx: &Context, flow: &mut Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }

    /// [`Script::server_connected`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn server_connected(&self, ctx: &Context, server: &Connection) {
    ///         ctx.debug(&format!("{:?}", server.address()));
    ///     }
    /// }
    /// ```
    fn server_connected(&self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// [`Script::server_connect_error`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn server_connect_error(&self, ctx: &Context, server: &Connection) {
    ///         ctx.warn(server.error().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn server_connect_error(&self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// [`Script::server_disconnected`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Connection, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn server_disconnected(&self, ctx: &Context, server: &Connection) {
    ///         ctx.debug(&format!("{:?}", server.address()));
    ///     }
    /// }
    /// ```
    fn server_disconnected(&self, ctx: &Context, server: &Connection) {
        let _ = (ctx, server);
        crate::__export::default_hook();
    }

    /// [`Script::tls_clienthello`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{ClientHello, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_clienthello(&self, ctx: &Context, hello: &mut ClientHello) {
    ///         if hello.sni().is_none() { hello.set_ignore_connection(true); } let _ = ctx;
    ///     }
    /// }
    /// ```
    fn tls_clienthello(&self, ctx: &Context, hello: &mut ClientHello) {
        let _ = (ctx, hello);
        crate::__export::default_hook();
    }

    /// [`Script::tls_start_client`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_start_client(&self, ctx: &Context, tls: &TlsData) {
    ///         ctx.debug(tls.conn().sni().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn tls_start_client(&self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// [`Script::tls_start_server`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_start_server(&self, ctx: &Context, tls: &TlsData) {
    ///         ctx.debug(tls.conn().sni().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn tls_start_server(&self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// [`Script::tls_established_client`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_established_client(&self, ctx: &Context, tls: &TlsData) {
    ///         ctx.debug(tls.conn().tls_version().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn tls_established_client(&self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// [`Script::tls_established_server`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_established_server(&self, ctx: &Context, tls: &TlsData) {
    ///         ctx.debug(tls.conn().tls_version().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn tls_established_server(&self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// [`Script::tls_failed_client`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_failed_client(&self, ctx: &Context, tls: &TlsData) {
    ///         ctx.warn(tls.conn().error().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn tls_failed_client(&self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// [`Script::tls_failed_server`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Concurrent, Context, Script, TlsData};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn tls_failed_server(&self, ctx: &Context, tls: &TlsData) {
    ///         ctx.warn(tls.conn().error().unwrap_or("-"));
    ///     }
    /// }
    /// ```
    fn tls_failed_server(&self, ctx: &Context, tls: &TlsData) {
        let _ = (ctx, tls);
        crate::__export::default_hook();
    }

    /// [`Script::update`], concurrently.
    ///
    /// ```
    /// # use waylay_sdk::{Flow, Concurrent, Context, Script};
    /// # #[derive(Default)] struct S;
    /// # impl Script for S {}
    /// impl Concurrent for S {
    ///     fn update(&self, ctx: &Context, flow: &Flow) {
    ///         ctx.debug(flow.id());
    ///     }
    /// }
    /// ```
    fn update(&self, ctx: &Context, flow: &Flow) {
        let _ = (ctx, flow);
        crate::__export::default_hook();
    }
}
