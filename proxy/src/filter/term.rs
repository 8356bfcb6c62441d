//! The terms, compiled: each flag with its regex built the way mitmproxy
//! builds it (bytes or text, its flags), and what each matches in which
//! kinds of flow.

use std::sync::LazyLock;

use crate::flow::FlowKind;
use crate::http::Which;

use super::pyre::{self, Dialect};
use super::view::View;

/// A regex over text (`~d`, `~u`, `~src`, `~dst`, `~meta`, `~marker`,
/// `~comment`).
#[derive(Clone, Debug)]
pub(super) struct TextRe(regex::Regex);

/// A regex over bytes (bodies, headers, methods, content types).
#[derive(Clone, Debug)]
pub(super) struct BytesRe(regex::bytes::Regex);

impl TextRe {
    fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

impl BytesRe {
    fn is_match(&self, bytes: &[u8]) -> bool {
        self.0.is_match(bytes)
    }
}

/// Which message of a flow a term looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Either,
    Request,
    Response,
}

impl Side {
    fn wants(self, which: Which) -> bool {
        match self {
            Side::Either => true,
            Side::Request => which == Which::Request,
            Side::Response => which == Which::Response,
        }
    }

    fn wants_from(self, from_client: bool) -> bool {
        match self {
            Side::Either => true,
            Side::Request => from_client,
            Side::Response => !from_client,
        }
    }
}

/// One compiled term.
#[derive(Clone, Debug)]
pub(super) enum Term {
    Asset,
    Error,
    Http,
    Marked,
    Replay,
    ReplayRequest,
    ReplayResponse,
    Request,
    Response,
    Tcp,
    Udp,
    Dns,
    WebSocket,
    All,
    Body(Side, BytesRe),
    ContentType(Side, BytesRe),
    Domain(TextRe),
    Dst(TextRe),
    Header(Side, BytesRe),
    Method(BytesRe),
    Src(TextRe),
    Url(TextRe),
    Meta(TextRe),
    Marker(TextRe),
    Comment(TextRe),
    /// `~c`; `None` for a number no status code can be.
    Code(Option<i64>),
}

/// The flags of Python's `re` that matter here.
#[derive(Clone, Copy, Default)]
struct Flags {
    ignore_case: bool,
    multiline: bool,
    dotall: bool,
}

fn text_re(pattern: &str, flags: Flags) -> Result<TextRe, String> {
    let translated = pyre::translate(pattern.as_bytes(), Dialect::Str, flags.multiline)?;
    regex::RegexBuilder::new(&translated)
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multiline)
        .dot_matches_new_line(flags.dotall)
        .build()
        .map(TextRe)
        .map_err(|e| regex_error(&e))
}

fn bytes_re(pattern: &str, flags: Flags) -> Result<BytesRe, String> {
    bytes_regex(
        pattern.as_bytes(),
        flags.ignore_case,
        flags.multiline,
        flags.dotall,
    )
    .map(BytesRe)
}

/// A Python bytes pattern as a `regex::bytes::Regex` (ASCII semantics).
pub(crate) fn bytes_regex(
    pattern: &[u8],
    ignore_case: bool,
    multiline: bool,
    dotall: bool,
) -> Result<regex::bytes::Regex, String> {
    let translated = pyre::translate(pattern, Dialect::Bytes, multiline)?;
    regex::bytes::RegexBuilder::new(&translated)
        .unicode(false)
        .case_insensitive(ignore_case)
        .multi_line(multiline)
        .dot_matches_new_line(dotall)
        .build()
        .map_err(|e| regex_error(&e))
}

/// A Python str pattern as a `regex::Regex`.
pub(crate) fn text_regex(pattern: &str) -> Result<regex::Regex, String> {
    text_re(pattern, Flags::default()).map(|t| t.0)
}

/// `regex`'s error without the pattern it quotes (ours is translated).
fn regex_error(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map_or_else(
                || text.clone(),
                |l| l.trim_start_matches("error: ").to_owned(),
            ),
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled regex would be over {limit} bytes")
        }
        other => other.to_string(),
    }
}

impl Term {
    /// A flag without argument.
    pub(super) fn flag(name: &str) -> Term {
        match name {
            "a" => Term::Asset,
            "e" => Term::Error,
            "http" => Term::Http,
            "marked" => Term::Marked,
            "replay" => Term::Replay,
            "replayq" => Term::ReplayRequest,
            "replays" => Term::ReplayResponse,
            "q" => Term::Request,
            "s" => Term::Response,
            "tcp" => Term::Tcp,
            "udp" => Term::Udp,
            "dns" => Term::Dns,
            "websocket" => Term::WebSocket,
            _ => Term::All,
        }
    }

    /// A flag with its regex, compiled as mitmproxy compiles it.
    pub(super) fn rex(name: &str, pattern: &str) -> Result<Term, String> {
        let f = |ignore_case, multiline, dotall| Flags {
            ignore_case,
            multiline,
            dotall,
        };
        Ok(match name {
            "b" => Term::Body(Side::Either, bytes_re(pattern, f(false, false, true))?),
            "bq" => Term::Body(Side::Request, bytes_re(pattern, f(false, false, true))?),
            "bs" => Term::Body(Side::Response, bytes_re(pattern, f(false, false, true))?),
            "t" => Term::ContentType(Side::Either, bytes_re(pattern, Flags::default())?),
            "tq" => Term::ContentType(Side::Request, bytes_re(pattern, Flags::default())?),
            "ts" => Term::ContentType(Side::Response, bytes_re(pattern, Flags::default())?),
            "d" => Term::Domain(text_re(pattern, f(true, false, false))?),
            "dst" => Term::Dst(text_re(pattern, Flags::default())?),
            "h" => Term::Header(Side::Either, bytes_re(pattern, f(false, true, false))?),
            "hq" => Term::Header(Side::Request, bytes_re(pattern, f(false, true, false))?),
            "hs" => Term::Header(Side::Response, bytes_re(pattern, f(false, true, false))?),
            "m" => Term::Method(bytes_re(pattern, f(true, false, false))?),
            "src" => Term::Src(text_re(pattern, Flags::default())?),
            "meta" => Term::Meta(text_re(pattern, f(false, true, false))?),
            "marker" => Term::Marker(text_re(pattern, Flags::default())?),
            "comment" => Term::Comment(text_re(pattern, f(false, true, false))?),
            _ => Term::Url(text_re(pattern, f(true, false, false))?),
        })
    }

    /// Whether the term holds for the flow, as mitmproxy's `F*` classes
    /// decide (each only for the kinds of flow it applies to).
    pub(super) fn matches(&self, v: &View<'_>) -> bool {
        let http = v.is_http();
        let http_or_dns = http || v.kind == FlowKind::Dns;
        match self {
            Term::All => true,
            Term::Error => v.flow.dict().get("error").is_some_and(|e| !e.is_null()),
            Term::Marked => !v.text("marked").is_empty(),
            Term::Http => http,
            Term::Tcp => v.kind == FlowKind::Tcp,
            Term::Udp => v.kind == FlowKind::Udp,
            Term::Dns => v.kind == FlowKind::Dns,
            Term::WebSocket => http && v.flow.websocket().is_some(),
            Term::Replay => v.flow.dict().get("is_replay").is_some_and(|r| !r.is_null()),
            Term::ReplayRequest => v.text("is_replay") == "request",
            Term::ReplayResponse => v.text("is_replay") == "response",
            Term::Request => http_or_dns && v.message(Which::Response).is_none(),
            Term::Response => http_or_dns && v.message(Which::Response).is_some(),
            Term::Asset => {
                http && v
                    .content_types(Which::Response)
                    .any(|ct| ASSETS.iter().any(|a| a.is_match(ct)))
            }
            Term::ContentType(side, re) => {
                http && [Which::Request, Which::Response]
                    .into_iter()
                    .filter(|w| side.wants(*w))
                    .any(|w| v.content_types(w).any(|ct| re.is_match(ct)))
            }
            Term::Header(side, re) => {
                http && [Which::Request, Which::Response]
                    .into_iter()
                    .filter(|w| side.wants(*w))
                    .any(|w| v.head(w).is_some_and(|h| re.is_match(h)))
            }
            Term::Body(side, re) => body(v, *side, re),
            Term::Method(re) => {
                http && v
                    .message(Which::Request)
                    .is_some_and(|r| re.is_match(crate::http::raw(r, "method")))
            }
            Term::Domain(re) => {
                http && (v.host().is_some_and(|h| re.is_match(h))
                    || v.pretty_host().is_some_and(|h| re.is_match(h)))
            }
            Term::Url(re) => match v.kind {
                FlowKind::Http => v.pretty_url().is_some_and(|u| re.is_match(u)),
                FlowKind::Dns => v.dns_question().is_some_and(|q| re.is_match(&q)),
                _ => false,
            },
            Term::Code(code) => {
                http && v
                    .message(Which::Response)
                    .and_then(|r| r.get("status_code")?.as_int())
                    .is_some_and(|s| Some(s) == *code)
            }
            Term::Src(re) => v
                .address("client_conn", "peername")
                .is_some_and(|a| re.is_match(&a)),
            Term::Dst(re) => v
                .address("server_conn", "address")
                .is_some_and(|a| re.is_match(&a)),
            Term::Meta(re) => re.is_match(&v.metadata()),
            Term::Marker(re) => re.is_match(v.text("marked")),
            Term::Comment(re) => re.is_match(v.text("comment")),
        }
    }
}

/// `~b`, `~bq`, `~bs` over HTTP bodies and WebSocket messages, TCP and
/// UDP messages, DNS contents.
fn body(v: &View<'_>, side: Side, re: &BytesRe) -> bool {
    match v.kind {
        FlowKind::Http => {
            [Which::Request, Which::Response]
                .into_iter()
                .filter(|w| side.wants(*w))
                .any(|w| v.body(w).is_some_and(|b| re.is_match(b)))
                || v.any_message(|client, content| side.wants_from(client) && re.is_match(content))
        }
        FlowKind::Tcp | FlowKind::Udp => {
            v.any_message(|client, content| side.wants_from(client) && re.is_match(content))
        }
        FlowKind::Dns => [Which::Request, Which::Response]
            .into_iter()
            .filter(|w| side.wants(*w))
            .any(|w| v.dns_content(w).is_some_and(|c| re.is_match(&c))),
        FlowKind::Other => false,
    }
}

/// `FAsset.ASSET_TYPES`: searched in the response's Content-Type.
static ASSETS: LazyLock<Vec<regex::bytes::Regex>> = LazyLock::new(|| {
    [
        "text/javascript",
        "application/x-javascript",
        "application/javascript",
        "text/css",
        "image/.*",
        "font/.*",
        "application/font.*",
    ]
    .iter()
    .map(|p| {
        regex::bytes::RegexBuilder::new(p)
            .unicode(false)
            .build()
            .expect("valid")
    })
    .collect()
});
