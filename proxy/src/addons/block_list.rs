//! `block_list` (mitmproxy's `blocklist` addon): `/filter/status`, the
//! first character the separator. A live request a rule's filter matches
//! gets an empty response with that status (and `Server`) without going
//! upstream; status 444 kills it instead, closing the connection with no
//! response. Runs before the scripts, as in mitmproxy.

use super::{Addon, SpecError};
use crate::event::{Event, LogSink};
use crate::filter::Filter;
use crate::flow::Flow;
use crate::http::{self, Which};
use crate::tnetstring::Value;

/// mitmproxy's "no response": the connection is closed.
const NO_RESPONSE: u16 = 444;

#[derive(Debug)]
struct Rule {
    filter: Filter,
    status: u16,
}

/// The `block_list` rules, in order; the first that matches acts.
#[derive(Debug)]
pub(crate) struct BlockList {
    rules: Vec<Rule>,
}

/// Reads one `/filter/status` spec.
fn rule(spec: &str) -> Result<Rule, SpecError> {
    let problem = |what: String| SpecError::new("block_list", spec, what);
    let mut chars = spec.chars();
    let Some(sep) = chars.next() else {
        return Err(problem("it is empty; the form is /filter/status".into()));
    };
    let parts: Vec<&str> = chars.as_str().splitn(3, sep).collect();
    let [filter, status] = parts.as_slice() else {
        return Err(problem(format!(
            "{} part(s) where 2 are expected; the form is /filter/status, split on its first character",
            parts.len()
        )));
    };
    let status = status
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|s| (100..1000).contains(s))
        .ok_or_else(|| {
            problem(format!(
                "{status:?} is not an HTTP status (100 to 999; 444 closes the connection)"
            ))
        })?;
    let filter = Filter::parse(filter).map_err(|e| problem(format!("its filter part: {e}")))?;
    Ok(Rule { filter, status })
}

impl BlockList {
    pub(crate) fn new(specs: &[String]) -> Result<BlockList, SpecError> {
        let rules = specs.iter().map(|s| rule(s)).collect::<Result<_, _>>()?;
        Ok(BlockList { rules })
    }
}

impl Addon for BlockList {
    fn name(&self) -> &'static str {
        "block_list"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, event: Event, flow: &mut Flow, live: bool, log: &dyn LogSink) {
        self.event_may_kill(event, flow, live, log);
    }

    fn event_may_kill(&self, _: Event, flow: &mut Flow, live: bool, _: &dyn LogSink) -> bool {
        if flow.response().is_some() || flow.error_msg().is_some() || !live {
            return false;
        }
        let Some(rule) = self.rules.iter().find(|r| r.filter.matches(flow)) else {
            return false;
        };
        flow.set_metadata("blocklisted", Value::Bool(true));
        let now = super::now();
        if rule.status == NO_RESPONSE {
            flow.set_error("Connection killed.", now);
            return true;
        }
        flow.set_new_response(rule.status, now);
        if let Some(resp) = flow.message_mut(Which::Response) {
            http::set_header(resp, b"server", b"waylay");
            http::set_decoded_content(resp, b"");
        }
        false
    }
}
