//! `stickyauth` and `stickycookie`: what a browser would have sent again,
//! added to the requests a filter picks. Both act on flows read from a
//! file too, in file order, as mitmproxy does.

use std::sync::Mutex;

use crate::event::{Event, Level, LogSink};
use crate::filter::Filter;
use crate::flow::Flow;
use crate::http::{self, Which};
use crate::tnetstring::Value;

use super::{Addon, SpecError};
use crate::http::cookies::{self, SetCookie};

fn filter(option: &'static str, expression: &str) -> Result<Filter, SpecError> {
    Filter::parse(expression).map_err(|e| {
        SpecError::new(
            option,
            expression,
            format!("not a valid filter: {}", e.reason()),
        )
    })
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// A request's header, every field's value joined by `, `.
fn header_joined(msg: &crate::tnetstring::Dict, name: &[u8]) -> Option<Vec<u8>> {
    let values: Vec<&[u8]> = (0..http::headers(msg).len())
        .filter_map(|i| http::header_at(msg, i))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect();
    (!values.is_empty()).then(|| values.join(&b", "[..]))
}

/// Remembers each host's Authorization and sends it again on requests
/// the filter matches that have none.
#[derive(Debug)]
pub(super) struct StickyAuth {
    filter: Filter,
    hosts: Mutex<Vec<(String, Vec<u8>)>>,
}

impl StickyAuth {
    pub(super) fn new(expression: &str) -> Result<StickyAuth, SpecError> {
        Ok(StickyAuth {
            filter: filter("stickyauth", expression)?,
            hosts: Mutex::default(),
        })
    }
}

impl Addon for StickyAuth {
    fn name(&self) -> &'static str {
        "stickyauth"
    }

    fn wants(&self, event: Event) -> bool {
        event == Event::Request
    }

    fn event(&self, _: Event, flow: &mut Flow, _: bool, _: &dyn LogSink) {
        let matches = self.filter.matches(flow);
        let Some(req) = flow.message_mut(Which::Request) else {
            return;
        };
        let host = text(http::raw(req, "host"));
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(auth) = header_joined(req, b"authorization") {
            match hosts.iter_mut().find(|(h, _)| *h == host) {
                Some(slot) => slot.1 = auth,
                None => hosts.push((host, auth)),
            }
        } else if matches && let Some((_, auth)) = hosts.iter().find(|(h, _)| *h == host) {
            http::set_header(req, b"authorization", auth);
        }
    }
}

/// Where a cookie belongs: domain, port, path (`None`: a `Path`
/// attribute without a value, which breaks mitmproxy's matching).
type Origin = (String, i64, Option<String>);

/// Cookies by origin, in the order mitmproxy's dict keeps them.
type Jar = Vec<(Origin, Vec<(String, Option<String>)>)>;

/// Collects the cookies responses set and sends them on requests the
/// filter matches, as a browser would.
#[derive(Debug)]
pub(super) struct StickyCookie {
    filter: Filter,
    jar: Mutex<Jar>,
}

impl StickyCookie {
    pub(super) fn new(expression: &str) -> Result<StickyCookie, SpecError> {
        Ok(StickyCookie {
            filter: filter("stickycookie", expression)?,
            jar: Mutex::default(),
        })
    }

    fn response(&self, flow: &Flow, log: &dyn LogSink) -> Result<(), String> {
        let (Some(req), Some(resp)) = (flow.request(), flow.response()) else {
            return Ok(());
        };
        let host = text(http::raw(req, "host"));
        let port = req.get("port").and_then(Value::as_int).unwrap_or(0);
        let set_cookies: Vec<SetCookie> = (0..http::headers(resp).len())
            .filter_map(|i| http::header_at(resp, i))
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"set-cookie"))
            .flat_map(|(_, v)| cookies::parse_set_cookie(&text(v)))
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let mut jar = self.jar.lock().unwrap_or_else(|e| e.into_inner());
        for cookie in set_cookies {
            let domain = match cookie.attr("domain") {
                None => host.clone(),
                Some(Some(d)) => d.to_owned(),
                Some(None) => return Err("a Domain attribute without a value".into()),
            };
            let path = match cookie.attr("path") {
                None => Some("/".to_owned()),
                Some(p) => p.map(str::to_owned),
            };
            if !(cookies::domain_match(&host, &domain)
                || cookies::domain_match(&host, domain.trim_matches('.')))
            {
                continue;
            }
            let origin = (domain, port, path);
            let slot = jar.iter().position(|(o, _)| *o == origin);
            if cookies::is_expired(&cookie, now)? {
                if let Some(i) = slot {
                    jar[i].1.retain(|(name, _)| *name != cookie.name);
                    if jar[i].1.is_empty() {
                        jar.remove(i);
                    }
                }
                continue;
            }
            let entry = match slot {
                Some(i) => &mut jar[i].1,
                None => {
                    jar.push((origin, Vec::new()));
                    &mut jar.last_mut().expect("just pushed").1
                }
            };
            match entry.iter_mut().find(|(name, _)| *name == cookie.name) {
                Some(pair) => pair.1 = cookie.value,
                None => entry.push((cookie.name, cookie.value)),
            }
        }
        let _ = log;
        Ok(())
    }

    fn request(&self, flow: &mut Flow) -> Result<(), String> {
        if !self.filter.matches(flow) {
            return Ok(());
        }
        let Some(req) = flow.request() else {
            return Ok(());
        };
        let host = text(http::raw(req, "host"));
        let port = req.get("port").and_then(Value::as_int).unwrap_or(0);
        let path = text(http::raw(req, "path"));
        let mut pairs = Vec::new();
        for ((domain, p, prefix), cookies) in
            self.jar.lock().unwrap_or_else(|e| e.into_inner()).iter()
        {
            let Some(prefix) = prefix else {
                return Err("a stored cookie has a Path attribute without a value".into());
            };
            let domain_ok = cookies::domain_match(&host, domain)
                || cookies::domain_match(&host, domain.trim_matches('.'));
            if domain_ok && *p == port && path.starts_with(prefix.as_str()) {
                pairs.extend(cookies.iter().cloned());
            }
        }
        if pairs.is_empty() {
            return Ok(());
        }
        let header = cookies::format_cookie_header(&pairs);
        flow.set_metadata("stickycookie", Value::Bool(true));
        if let Some(req) = flow.message_mut(Which::Request) {
            http::set_header(req, b"cookie", header.as_bytes());
        }
        Ok(())
    }
}

impl Addon for StickyCookie {
    fn name(&self) -> &'static str {
        "stickycookie"
    }

    fn wants(&self, event: Event) -> bool {
        matches!(event, Event::Request | Event::Response)
    }

    fn event(&self, event: Event, flow: &mut Flow, _: bool, log: &dyn LogSink) {
        let done = if event == Event::Response {
            self.response(flow, log)
        } else {
            self.request(flow)
        };
        if let Err(e) = done {
            log.log(
                "stickycookie",
                Level::Warn,
                &format!(
                    "flow {}: {e}; mitmproxy stops the addon's hook here too",
                    flow.id()
                ),
            );
        }
    }
}
