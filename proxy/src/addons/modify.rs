//! `modify_headers` (`[/filter]/name/[@]value`: remove the field, then
//! add the value unless it is empty) and `modify_body`
//! (`[/filter]/regex/[@]replacement`: `re.sub` over the decoded body),
//! both for live flows only, as in mitmproxy 11. Subjects and values are
//! Python-escaped (`\n`, `\x00`); `@path` reads the value from a file at
//! each use.

use std::path::PathBuf;

use crate::event::{Event, Level, LogSink};
use crate::filter::{Filter, bytes_regex};
use crate::flow::Flow;
use crate::http::{self, Which};

use super::spec::{self, Template, escape_decode};
use super::{Addon, SpecError, split};

/// A value given inline, or `@path`.
#[derive(Debug)]
enum Value<T> {
    Inline(T),
    File(PathBuf),
}

fn expand_user(path: &str) -> PathBuf {
    match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// The value of a spec: a readable file after `@`, else escaped text.
fn value(option: &'static str, spec: &str, text: &str) -> Result<Value<Vec<u8>>, SpecError> {
    match text.strip_prefix('@') {
        Some(path) => {
            let path = expand_user(path);
            std::fs::read(&path).map_err(|e| {
                SpecError::new(
                    option,
                    spec,
                    format!("cannot read the value file {}: {e}", path.display()),
                )
            })?;
            Ok(Value::File(path))
        }
        None => escape_decode(text).map(Value::Inline).map_err(|e| {
            SpecError::new(
                option,
                spec,
                format!("the value {text:?} is not a valid escaped string: {e}"),
            )
        }),
    }
}

fn read(path: &PathBuf, option: &str, log: &dyn LogSink) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            log.log(
                option,
                Level::Warn,
                &format!("Could not read replacement file {}: {e}", path.display()),
            );
            None
        }
    }
}

#[derive(Debug)]
struct HeaderRule {
    filter: Option<Filter>,
    name: Vec<u8>,
    value: Value<Vec<u8>>,
}

#[derive(Debug)]
pub(super) struct ModifyHeaders {
    rules: Vec<HeaderRule>,
}

impl ModifyHeaders {
    pub(super) fn new(specs: &[String]) -> Result<ModifyHeaders, SpecError> {
        let rules = specs
            .iter()
            .map(|s| {
                let parts = split("modify_headers", s, "[/filter]/name/[@]value")?;
                let name = escape_decode(&parts.subject).map_err(|e| {
                    SpecError::new(
                        "modify_headers",
                        s,
                        format!(
                            "the header name {:?} is not a valid escaped string: {e}",
                            parts.subject
                        ),
                    )
                })?;
                Ok(HeaderRule {
                    filter: parts.filter,
                    name,
                    value: value("modify_headers", s, &parts.value)?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ModifyHeaders { rules })
    }

    fn run(&self, flow: &mut Flow, which: Which, log: &dyn LogSink) {
        let matched: Vec<bool> = self
            .rules
            .iter()
            .map(|r| r.filter.as_ref().is_none_or(|f| f.matches(flow)))
            .collect();
        if !matched.contains(&true) {
            return;
        }
        let Some(msg) = flow.message_mut(which) else {
            return;
        };
        for (rule, _) in self.rules.iter().zip(&matched).filter(|(_, m)| **m) {
            http::remove_header(msg, &rule.name);
        }
        for (rule, _) in self.rules.iter().zip(&matched).filter(|(_, m)| **m) {
            let value = match &rule.value {
                Value::Inline(v) => v.clone(),
                Value::File(path) => match read(path, "modify_headers", log) {
                    Some(v) => v,
                    None => continue,
                },
            };
            if !value.is_empty() {
                http::append_header(msg, &rule.name, &value);
            }
        }
    }
}

impl Addon for ModifyHeaders {
    fn name(&self) -> &'static str {
        "modify_headers"
    }

    fn wants(&self, event: Event) -> bool {
        matches!(event, Event::RequestHeaders | Event::ResponseHeaders)
    }

    fn event(&self, event: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) {
        let failed = flow.error_msg().is_some();
        if !live || failed {
            return;
        }
        match event {
            Event::RequestHeaders if flow.response().is_none() => {
                self.run(flow, Which::Request, log)
            }
            Event::ResponseHeaders => self.run(flow, Which::Response, log),
            _ => {}
        }
    }
}

#[derive(Debug)]
struct BodyRule {
    filter: Option<Filter>,
    regex: regex::bytes::Regex,
    replacement: Value<Template>,
}

#[derive(Debug)]
pub(super) struct ModifyBody {
    rules: Vec<BodyRule>,
}

impl ModifyBody {
    pub(super) fn new(specs: &[String]) -> Result<ModifyBody, SpecError> {
        let rules = specs
            .iter()
            .map(|s| {
                let parts = split("modify_body", s, "[/filter]/regex/[@]replacement")?;
                let subject = escape_decode(&parts.subject).map_err(|e| {
                    SpecError::new(
                        "modify_body",
                        s,
                        format!(
                            "the regex {:?} is not a valid escaped string: {e}",
                            parts.subject
                        ),
                    )
                })?;
                let regex = bytes_regex(&subject, false, false, true).map_err(|e| {
                    SpecError::new(
                        "modify_body",
                        s,
                        format!("the regex {:?} does not compile: {e}", parts.subject),
                    )
                })?;
                let replacement = match value("modify_body", s, &parts.value)? {
                    Value::File(path) => Value::File(path),
                    Value::Inline(bytes) => {
                        Value::Inline(Template::for_bytes(&bytes, &regex).map_err(|e| {
                            SpecError::new(
                                "modify_body",
                                s,
                                format!(
                                    "the replacement {:?} is not a valid re.sub template: {e}",
                                    parts.value
                                ),
                            )
                        })?)
                    }
                };
                Ok(BodyRule {
                    filter: parts.filter,
                    regex,
                    replacement,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ModifyBody { rules })
    }

    /// One rule over the response's body if there is a response, else the
    /// request's; `Err` stops the hook, as mitmproxy's exception does.
    fn apply(&self, rule: &BodyRule, flow: &mut Flow, log: &dyn LogSink) -> Result<(), String> {
        let file_template;
        let template = match &rule.replacement {
            Value::Inline(t) => t,
            Value::File(path) => {
                let Some(bytes) = read(path, "modify_body", log) else {
                    return Ok(());
                };
                file_template = Template::for_bytes(&bytes, &rule.regex).map_err(|e| {
                    format!(
                        "the replacement in {} is not a valid re.sub template: {e}",
                        path.display()
                    )
                })?;
                &file_template
            }
        };
        let which = if flow.response().is_some() {
            Which::Response
        } else {
            Which::Request
        };
        let msg = flow.message(which).ok_or("the flow has no request")?;
        let body = http::mitmproxy_content(msg)
            .map_err(|e| e.to_string())?
            .ok_or("the body was streamed, not kept")?;
        let replaced = rule
            .regex
            .is_match(&body)
            .then(|| spec::sub_bytes(&rule.regex, template, &body))
            .filter(|r| r[..] != body[..]);
        let Some(replaced) = replaced else {
            // mitmproxy's encoder cache gives back the bytes it decoded;
            // the setter still sets Content-Length.
            let length = http::raw_content(msg).map_or(0, |b| b.len()).to_string();
            let current = http::header(msg, "content-length");
            if http::header(msg, "transfer-encoding").is_none()
                && current != Some(length.as_bytes())
            {
                // Changed (and copied, when shared) only when it must be.
                let msg = flow.message_mut(which).ok_or("the flow has no request")?;
                http::set_header(msg, b"content-length", length.as_bytes());
            }
            return Ok(());
        };
        let msg = flow.message_mut(which).ok_or("the flow has no request")?;
        http::set_decoded_content(msg, &replaced);
        Ok(())
    }
}

impl Addon for ModifyBody {
    fn name(&self) -> &'static str {
        "modify_body"
    }

    fn wants(&self, event: Event) -> bool {
        matches!(event, Event::Request | Event::Response)
    }

    fn event(&self, event: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) {
        if !live
            || flow.error_msg().is_some()
            || (event == Event::Request && flow.response().is_some())
        {
            return;
        }
        for rule in &self.rules {
            if rule.filter.as_ref().is_some_and(|f| !f.matches(flow)) {
                continue;
            }
            if let Err(e) = self.apply(rule, flow, log) {
                log.log(
                    "modify_body",
                    Level::Warn,
                    &format!("flow {}: {e}", flow.id()),
                );
                return;
            }
        }
    }
}
