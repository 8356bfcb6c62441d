//! Test a script like any Rust code: run it over saved flows in-process and
//! snapshot the result.
//!
//! The script runs through the same C boundary and the same dispatch as
//! under the runner, minus the dynamic loading:
//!
//! ```no_run
//! # use waylay_sdk::{Context, Flow, Script};
//! # #[derive(Default)] struct AddHeader;
//! # impl Script for AddHeader {}
//! let run = waylay_proxy::testing::run_file::<AddHeader>("tests/data/sample.mitm");
//! assert_eq!(run.flows.len(), 5);
//! // insta::assert_snapshot!(run.render());
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use waylay_sdk::Level;

use crate::flow::websocket::Message;
use crate::flow::{Flow, FlowKind, tcp};
use crate::flowfile::{FlowReader, FlowWriter};
use crate::offline;
use crate::script::{LogSink, Script, Scripts};
use crate::summary::url;
use crate::tnetstring::{Dict, Value};

/// The outcome of running a script over a flow file.
#[derive(Debug)]
pub struct Run {
    /// Every flow, as the script left it, in file order.
    pub flows: Vec<Flow>,
    /// Every line the script logged (and every panic reported), in order,
    /// as `level: message`.
    pub log: Vec<String>,
    /// The copies the script made (`Context::duplicate`), in order, as
    /// the hooks left them. The harness runs no other script over them.
    pub copies: Vec<Flow>,
    /// The flows the script asked to replay (`Context::replay`), in order:
    /// the harness never reaches for the network, so they are kept here,
    /// marked `is_replay: "request"`, as they would have left.
    pub replays: Vec<Flow>,
}

/// Keeps what a script asks of the run, for [`Run`].
#[derive(Default)]
struct Kept {
    copies: Mutex<Vec<Flow>>,
    replays: Mutex<Vec<Flow>>,
}

impl crate::script::Actions for Kept {
    fn duplicate(&self, _maker: usize, flow: Flow) {
        self.copies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(flow);
    }

    fn replay(&self, flow: Flow) {
        self.replays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(flow);
    }
}

#[derive(Default)]
struct Collect(Mutex<Vec<String>>);

/// A log sink that keeps lines, for this crate's own tests.
#[cfg(test)]
pub(crate) fn tests_support_sink() -> impl LogSink {
    Collect::default()
}

impl LogSink for Collect {
    fn log(&self, _script: &str, level: Level, msg: &str) {
        let level = format!("{level:?}").to_lowercase();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{level}: {msg}"));
    }
}

/// Runs script type `S` over the flow file at `path`, offline, and returns
/// the flows it wrote. Panics with the reason if the file cannot be read.
pub fn run_file<S: waylay_sdk::Script + Default>(path: impl AsRef<Path>) -> Run {
    run_file_with_args::<S>(path, &[])
}

/// [`run_file`] with `argv` for the script's `start`.
pub fn run_file_with_args<S: waylay_sdk::Script + Default>(
    path: impl AsRef<Path>,
    argv: &[&str],
) -> Run {
    let path = path.as_ref();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let collect = Arc::new(Collect::default());
    let mut scripts = Scripts::new(collect.clone());
    let descriptor = Box::leak(Box::new(waylay_sdk::__export::descriptor::<S>()));
    let name = std::any::type_name::<S>()
        .rsplit("::")
        .next()
        .unwrap_or("script");
    let argv = argv.iter().map(|s| (*s).to_owned()).collect();
    let script = Script::from_descriptor(descriptor, name, argv, &*collect)
        .unwrap_or_else(|e| panic!("{e}"));
    scripts.push(script);
    let kept = Arc::new(Kept::default());
    scripts.set_actions(kept.clone());
    let mut flows = Vec::new();
    let mut reader = FlowReader::new(file);
    let result = offline::run(
        &scripts,
        &mut reader,
        None::<&mut FlowWriter<std::io::Sink>>,
        |f| flows.push(f.clone()),
    );
    if let Err(e) = result {
        panic!("{}: {e}", path.display());
    }
    drop(scripts);
    let log = std::mem::take(&mut *collect.0.lock().unwrap_or_else(|e| e.into_inner()));
    let take =
        |m: &Mutex<Vec<Flow>>| std::mem::take(&mut *m.lock().unwrap_or_else(|e| e.into_inner()));
    Run {
        flows,
        log,
        copies: take(&kept.copies),
        replays: take(&kept.replays),
    }
}

/// Reads every flow of a flow file. Panics with the reason on bad input.
pub fn read_flows(path: impl AsRef<Path>) -> Vec<Flow> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    FlowReader::new(file)
        .map(|f| f.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

impl Run {
    /// The flows and the log as stable text, for snapshots; then the
    /// copies and replays, if any, their new ids written `<new id>`.
    pub fn render(&self) -> String {
        let mut out = render(&self.flows);
        for line in &self.log {
            let _ = writeln!(out, "log: {line}");
        }
        for (title, made) in [("copy", &self.copies), ("replay", &self.replays)] {
            for flow in made.iter() {
                let text = render(std::slice::from_ref(flow)).replace(flow.id(), "<new id>");
                let _ = write!(out, "{title}: {text}");
            }
        }
        out
    }
}

/// Flows as stable, readable text for snapshots: request and response
/// lines, headers in order, bodies, WebSocket and TCP messages, errors and
/// annotations. Timestamps and connection details are left out.
pub fn render(flows: &[Flow]) -> String {
    let mut out = String::new();
    for flow in flows {
        let _ = writeln!(out, "── {} flow {}", flow.kind_name(), flow.id());
        match flow.kind() {
            FlowKind::Http => http_lines(&mut out, flow),
            FlowKind::Tcp => tcp_lines(&mut out, flow),
            _ => {
                let n = flow
                    .dict()
                    .get("messages")
                    .and_then(Value::as_list)
                    .map_or(0, <[Value]>::len);
                let _ = writeln!(out, "{n} messages");
                continue;
            }
        }
        if let Some(msg) = flow.error_msg() {
            let _ = writeln!(out, "error: {msg}");
        }
        for key in ["comment", "marked", "is_replay"] {
            if let Some(text) = flow.text(key).filter(|t| !t.is_empty()) {
                let _ = writeln!(out, "{key}: {text}");
            }
        }
        if let Some(meta) = flow
            .dict()
            .get("metadata")
            .and_then(Value::as_dict)
            .filter(|m| !m.is_empty())
        {
            for (k, v) in meta.iter() {
                let _ = writeln!(
                    out,
                    "metadata: {} = {}",
                    k.as_str().unwrap_or("?"),
                    v.as_str().map_or("(not text)".into(), |s| format!("{s:?}"))
                );
            }
        }
    }
    out
}

/// An HTTP flow's request and response lines, headers and bodies, and its
/// WebSocket.
fn http_lines(out: &mut String, flow: &Flow) {
    if let Some(req) = flow.request() {
        let _ = writeln!(
            out,
            "{} {} {}",
            lossy(req, "method"),
            url(req),
            lossy(req, "http_version")
        );
        crate::summary::message_lines(out, req, Some(512));
    }
    if let Some(resp) = flow.response() {
        let code = resp.get("status_code").and_then(Value::as_int).unwrap_or(0);
        let _ = writeln!(
            out,
            "<< {} {code} {}",
            lossy(resp, "http_version"),
            lossy(resp, "reason")
        );
        crate::summary::message_lines(out, resp, Some(512));
    }
    websocket_lines(out, flow);
}

/// A TCP flow's messages, one line each, `->` from the client and `<-`
/// from the server; an empty (dropped) one says so.
fn tcp_lines(out: &mut String, flow: &Flow) {
    let messages = flow.tcp_messages().unwrap_or_default();
    let _ = writeln!(out, "tcp: {} messages", messages.len());
    for value in messages {
        let Some(m) = tcp::Message::new(value) else {
            let _ = writeln!(out, "    (malformed message)");
            continue;
        };
        let content = m.content().unwrap_or_default();
        let shown = &content[..content.len().min(512)];
        let mut line = format!(
            "    {} b\"{}\"",
            if m.from_client() { "->" } else { "<-" },
            shown.escape_ascii()
        );
        if shown.len() < content.len() {
            let _ = write!(line, " … {} bytes", content.len());
        }
        if m.dropped() {
            line.push_str(" (dropped)");
        }
        let _ = writeln!(out, "{line}");
    }
}

/// A flow's WebSocket: how it closed, then one line per message, `->` from
/// the client and `<-` from the server.
fn websocket_lines(out: &mut String, flow: &Flow) {
    let Some(ws) = flow.websocket() else {
        return;
    };
    let close = match ws.get("close_code").and_then(Value::as_int) {
        None => "open".to_owned(),
        Some(code) => {
            let by = match ws.get("closed_by_client") {
                Some(Value::Bool(true)) => "client",
                Some(Value::Bool(false)) => "server",
                _ => "?",
            };
            let reason = ws.get("close_reason").and_then(Value::as_str);
            format!("closed by {by}: {code} {:?}", reason.unwrap_or(""))
        }
    };
    let _ = writeln!(out, "websocket: {close}");
    for value in flow.websocket_messages().unwrap_or_default() {
        let Some(m) = Message::new(value) else {
            let _ = writeln!(out, "    (malformed message)");
            continue;
        };
        let content = m.content().unwrap_or_default();
        let shown = &content[..content.len().min(512)];
        let mut line = format!(
            "    {} {} ",
            if m.from_client() { "->" } else { "<-" },
            if m.is_text() { "text" } else { "binary" }
        );
        if m.is_text() {
            let _ = write!(line, "{:?}", String::from_utf8_lossy(shown));
        } else {
            let _ = write!(line, "b\"{}\"", shown.escape_ascii());
        }
        if shown.len() < content.len() {
            let _ = write!(line, " … {} bytes", content.len());
        }
        for (flag, name) in [(m.dropped(), "dropped"), (m.injected(), "injected")] {
            if flag {
                let _ = write!(line, " ({name})");
            }
        }
        let _ = writeln!(out, "{line}");
    }
}

fn lossy(msg: &Dict, key: &str) -> String {
    msg.get(key)
        .and_then(Value::as_bytes)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}
