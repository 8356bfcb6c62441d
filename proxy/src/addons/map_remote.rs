//! `map_remote`: `[/filter]/url-regex/replacement` rewrites the URL of
//! live requests (`re.sub` over `pretty_url`; the new URL sets scheme,
//! host, port and path, and the Host field and authority follow).

use crate::event::{Event, Level, LogSink};
use crate::filter::{Filter, text_regex};
use crate::flow::Flow;
use crate::http::{Which, url};

use super::spec::{self, Template};
use super::{Addon, SpecError, split};

#[derive(Debug)]
struct Rule {
    filter: Option<Filter>,
    regex: regex::Regex,
    replacement: Template,
}

#[derive(Debug)]
pub(super) struct MapRemote {
    rules: Vec<Rule>,
}

const SHAPE: &str = "[/filter]/url-regex/replacement";

impl MapRemote {
    pub(super) fn new(specs: &[String]) -> Result<MapRemote, SpecError> {
        let rules = specs
            .iter()
            .map(|s| {
                let parts = split("map_remote", s, SHAPE)?;
                let regex = text_regex(&parts.subject).map_err(|e| {
                    SpecError::new(
                        "map_remote",
                        s,
                        format!("the URL regex {:?} does not compile: {e}", parts.subject),
                    )
                })?;
                let replacement = Template::for_text(&parts.value, &regex).map_err(|e| {
                    SpecError::new(
                        "map_remote",
                        s,
                        format!(
                            "the replacement {:?} is not a valid re.sub template: {e}",
                            parts.value
                        ),
                    )
                })?;
                Ok(Rule {
                    filter: parts.filter,
                    regex,
                    replacement,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(MapRemote { rules })
    }
}

impl Addon for MapRemote {
    fn name(&self) -> &'static str {
        "map_remote"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, _: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) {
        if flow.response().is_some() || flow.error_msg().is_some() || !live {
            return;
        }
        for rule in &self.rules {
            if rule.filter.as_ref().is_some_and(|f| !f.matches(flow)) {
                continue;
            }
            let Some(before) = flow.request().map(url::pretty_url) else {
                return;
            };
            if !rule.regex.is_match(&before) {
                continue;
            }
            let after = spec::sub_text(&rule.regex, &rule.replacement, &before);
            if before == after {
                continue;
            }
            let Some(req) = flow.message_mut(Which::Request) else {
                return;
            };
            if let Err(e) = url::set_url(req, &after) {
                log.log(
                    "map_remote",
                    Level::Warn,
                    &format!("cannot map {before} to {after}: {e}; the request goes on unchanged"),
                );
                return;
            }
        }
    }
}
