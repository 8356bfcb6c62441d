//! `map_local`: `[/filter]/url-regex/file-or-directory` answers live
//! requests from local files, as mitmproxy 11 does: a file serves every
//! URL the regex matches; a directory serves the part of the URL after
//! the match (or the regex's first group), its `index.html`, or the same
//! with unsafe characters as `_`; Content-Type from the extension; 404
//! when no candidate exists; no path may climb out of the directory.

use std::path::{Path, PathBuf};

use crate::event::{Event, Level, LogSink};
use crate::filter::{Filter, text_regex};
use crate::flow::Flow;
use crate::http::{self, Which, url};

use super::{Addon, SpecError, mimetypes, split};

/// What the Server field of a mapped response says.
const SERVER: &str = concat!("waylay ", env!("CARGO_PKG_VERSION"));

#[derive(Debug)]
struct Rule {
    filter: Option<Filter>,
    regex: regex::Regex,
    local: PathBuf,
}

#[derive(Debug)]
pub(super) struct MapLocal {
    rules: Vec<Rule>,
}

const SHAPE: &str = "[/filter]/url-regex/file-or-directory";

/// `Path(p).expanduser().resolve(strict=True)`.
fn resolve(path: &str) -> std::io::Result<PathBuf> {
    let expanded = match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    };
    expanded.canonicalize()
}

impl MapLocal {
    pub(super) fn new(specs: &[String]) -> Result<MapLocal, SpecError> {
        let rules = specs
            .iter()
            .map(|s| {
                let parts = split("map_local", s, SHAPE)?;
                let regex = text_regex(&parts.subject).map_err(|e| {
                    SpecError::new(
                        "map_local",
                        s,
                        format!("the URL regex {:?} does not compile: {e}", parts.subject),
                    )
                })?;
                let local = resolve(&parts.value).map_err(|e| {
                    SpecError::new(
                        "map_local",
                        s,
                        format!(
                            "the path {:?} cannot be used: {e}; give an existing file or directory",
                            parts.value
                        ),
                    )
                })?;
                Ok(Rule {
                    filter: parts.filter,
                    regex,
                    local,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(MapLocal { rules })
    }
}

/// `urllib.parse.unquote`: `%XX` runs decoded as UTF-8 (bad sequences as
/// U+FFFD), anything else kept.
fn unquote(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut run = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| b.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match hex {
            Some(byte) => {
                run.push(byte);
                i += 3;
            }
            None => {
                out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut run)));
                let c = text[i..].chars().next().expect("on a char boundary");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out.push_str(&String::from_utf8_lossy(&run));
    out
}

/// werkzeug's `safe_join(root, *Path(untrusted).parts)`: `None` when a
/// part is absolute or `..`.
fn safe_join(root: &Path, untrusted: &str) -> Option<PathBuf> {
    if untrusted.starts_with('/') {
        return None;
    }
    let mut joined = root.to_path_buf();
    for part in untrusted.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return None;
        }
        joined.push(part);
    }
    Some(joined)
}

/// `file_candidates`: where the file for `url` may be, best first.
fn candidates(url: &str, rule: &Rule) -> Vec<PathBuf> {
    let Some(caps) = rule.regex.captures(url) else {
        return Vec::new();
    };
    let suffix = if rule.regex.captures_len() > 1 {
        caps.get(1).map(|g| g.as_str().to_owned())
    } else {
        let after = &url[caps.get(0).map_or(0, |m| m.end())..];
        let before_query = after.split('?').next().unwrap_or("");
        Some(before_query.trim_matches('/').to_owned())
    };
    let Some(suffix) = suffix.filter(|s| !s.is_empty()) else {
        return vec![rule.local.join("index.html")];
    };
    let decoded = unquote(&suffix);
    let mut names = vec![decoded.clone(), format!("{decoded}/index.html")];
    let escaped: String = decoded
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=(),/".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if escaped != decoded {
        names.push(escaped.clone());
        names.push(format!("{escaped}/index.html"));
    }
    names
        .iter()
        .map(|n| safe_join(&rule.local, n))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default()
}

fn respond(flow: &mut Flow, status: u16, body: &[u8], headers: &[(&[u8], &[u8])]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    flow.set_new_response(status, now);
    if let Some(resp) = flow.message_mut(Which::Response) {
        for (name, value) in headers {
            http::append_header(resp, name, value);
        }
        http::set_decoded_content(resp, body);
    }
}

impl Addon for MapLocal {
    fn name(&self) -> &'static str {
        "map_local"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, _: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) {
        if flow.response().is_some() || flow.error_msg().is_some() || !live {
            return;
        }
        let Some(target) = flow.request().map(url::pretty_url) else {
            return;
        };
        let mut all = Vec::new();
        for rule in &self.rules {
            if rule.filter.as_ref().is_some_and(|f| !f.matches(flow))
                || !rule.regex.is_match(&target)
            {
                continue;
            }
            let found = if rule.local.is_file() {
                vec![rule.local.clone()]
            } else {
                candidates(&target, rule)
            };
            let file = found.iter().find(|c| c.is_file()).cloned();
            all.extend(found);
            let Some(file) = file else {
                continue;
            };
            let contents = match std::fs::read(&file) {
                Ok(c) => c,
                Err(e) => {
                    log.log(
                        "map_local",
                        Level::Warn,
                        &format!("Could not read file: {}: {e}", file.display()),
                    );
                    continue;
                }
            };
            let mut headers: Vec<(&[u8], &[u8])> = vec![(b"Server", SERVER.as_bytes())];
            let kind = mimetypes::guess_type(&file.to_string_lossy());
            if let Some(kind) = &kind {
                headers.push((b"Content-Type", kind.as_bytes()));
            }
            respond(flow, 200, &contents, &headers);
            return;
        }
        if !all.is_empty() {
            respond(flow, 404, b"", &[]);
            let shown: Vec<String> = all.iter().map(|p| p.display().to_string()).collect();
            log.log(
                "map_local",
                Level::Info,
                &format!(
                    "None of the local file candidates exist: {}",
                    shown.join(", ")
                ),
            );
        }
    }
}
