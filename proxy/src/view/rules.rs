//! The web view's rules table: the everyday options (`map_remote`,
//! `map_local`, `modify_headers`, `modify_body`, `block_list`, and
//! breakpoints, which are `intercept`) as rows of filter, action and
//! arguments, each switched on or off. A table becomes the option values
//! `--set` would have given ([`Table::options`]); the values read back
//! become rows ([`Table::from_options`]), so the two forms say the same.
//!
//! Breakpoints compile into mitmproxy's one `intercept` filter: a rule on
//! requests only adds `~q & (filter)` (a flow without a response yet, as
//! it is when it pauses after `request`), one on responses only
//! `~s & (filter)`, one on both the filter itself, joined with `|`.

use serde_json::{Value as Json, json};

use super::Invalid;
use crate::addons::{Options, Rules};
use crate::filter::Filter;

/// What a rule does: the option it becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `map_remote`: URL regex, replacement.
    MapRemote,
    /// `map_local`: URL regex, file or directory.
    MapLocal,
    /// `modify_headers`: name, value (`@file`; empty removes).
    ModifyHeaders,
    /// `modify_body`: regex, replacement (`@file`).
    ModifyBody,
    /// `block_list`: status (444 closes the connection).
    BlockList,
    /// A breakpoint (`intercept`): `request`, `response` or `both`.
    Intercept,
}

/// Every kind, in the order the page offers them.
pub const KINDS: [Kind; 6] = [
    Kind::MapRemote,
    Kind::MapLocal,
    Kind::ModifyHeaders,
    Kind::ModifyBody,
    Kind::BlockList,
    Kind::Intercept,
];

impl Kind {
    /// The option's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::MapRemote => "map_remote",
            Kind::MapLocal => "map_local",
            Kind::ModifyHeaders => "modify_headers",
            Kind::ModifyBody => "modify_body",
            Kind::BlockList => "block_list",
            Kind::Intercept => "intercept",
        }
    }

    /// The kind named `name`.
    pub fn named(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// What its arguments are, for the page's column heads.
    pub fn arguments(self) -> &'static [&'static str] {
        match self {
            Kind::MapRemote => &["URL regex", "replacement"],
            Kind::MapLocal => &["URL regex", "file or directory"],
            Kind::ModifyHeaders => &["header name", "value (@file; empty removes)"],
            Kind::ModifyBody => &["regex", "replacement (@file)"],
            Kind::BlockList => &["status (444 closes the connection)"],
            Kind::Intercept => &["request, response or both"],
        }
    }
}

/// One row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Whether it applies.
    pub on: bool,
    /// What it does.
    pub kind: Kind,
    /// Which flows (empty: every flow).
    pub filter: String,
    /// Its arguments, as [`Kind::arguments`] names them.
    pub args: Vec<String>,
}

/// Separators tried, in turn, for a spec: the first in none of its parts.
const SEPARATORS: &str = "/|:!#~,;%^=+";

impl Rule {
    /// Reads `{"on", "kind", "filter", "args"}`; why not, in one line.
    pub fn from_json(row: &Json) -> Result<Rule, Invalid> {
        let kind_name = row["kind"].as_str().unwrap_or_default();
        let kind = Kind::named(kind_name).ok_or_else(|| {
            Invalid::at(
                format!("kind {kind_name:?}"),
                format!("expected one of {}", KINDS.map(Kind::name).join(", ")),
            )
        })?;
        let filter = match &row["filter"] {
            Json::Null => String::new(),
            Json::String(s) => s.trim().to_owned(),
            _ => return Err(Invalid::at("filter", "expected text")),
        };
        let args = match &row["args"] {
            Json::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(Invalid::at("args", "expected a list of text"))?,
            _ => return Err(Invalid::at("args", "expected a list of text")),
        };
        if args.len() != kind.arguments().len() {
            let why = format!(
                "{} expects {} ({}), got {}",
                kind.name(),
                kind.arguments().len(),
                kind.arguments().join(", "),
                args.len()
            );
            return Err(Invalid::at("args", why));
        }
        let on = row["on"].as_bool().unwrap_or(true);
        Ok(Rule {
            on,
            kind,
            filter,
            args,
        })
    }

    /// The row for the page, with its error if it has one.
    pub fn json(&self, error: Option<&str>) -> Json {
        json!({
            "on": self.on,
            "kind": self.kind.name(),
            "filter": self.filter,
            "args": self.args,
            "error": error,
        })
    }

    /// The option value `--set` would carry for this rule (for a
    /// breakpoint, its part of the `intercept` filter).
    pub fn spec(&self) -> Result<String, Invalid> {
        match self.kind {
            Kind::Intercept => {
                let filter = if self.filter.is_empty() {
                    "~all"
                } else {
                    &self.filter
                };
                match self.args[0].trim() {
                    // Spaces inside the brackets: mitmproxy's grammar wants
                    // one after a bare `~all` or `~q`.
                    "both" => Ok(format!("( {filter} )")),
                    "request" => Ok(format!("( ~q & ( {filter} ) )")),
                    "response" => Ok(format!("( ~s & ( {filter} ) )")),
                    other => Err(Invalid::at(
                        format!("{other:?}"),
                        "a breakpoint is on request, response or both",
                    )),
                }
            }
            Kind::BlockList => {
                // mitmproxy's block_list always has a filter part.
                let filter = if self.filter.is_empty() {
                    "~all"
                } else {
                    &self.filter
                };
                joined(&[filter, self.args[0].trim()])
            }
            _ if self.filter.is_empty() => joined(&[&self.args[0], &self.args[1]]),
            _ => joined(&[&self.filter, &self.args[0], &self.args[1]]),
        }
    }

    /// Whether the rule would work; why not, in one line.
    pub fn check(&self) -> Result<(), Invalid> {
        let spec = self.spec()?;
        if self.kind == Kind::Intercept {
            return Filter::parse(&spec)
                .map(drop)
                .map_err(|e| Invalid::at("filter", e.reason()));
        }
        let mut options = Options::default();
        push(&mut options, self.kind, spec);
        Rules::new(&options)
            .map(drop)
            .map_err(|e| Invalid::Whole(e.to_string()))
    }

    /// The row an option value reads as.
    pub fn from_spec(kind: Kind, spec: &str) -> Rule {
        let row = |filter: &str, args: Vec<String>| Rule {
            on: true,
            kind,
            filter: filter.to_owned(),
            args,
        };
        if kind == Kind::Intercept {
            return row(spec, vec!["both".into()]);
        }
        let mut chars = spec.chars();
        let Some(sep) = chars.next() else {
            return row("", vec![String::new(); kind.arguments().len()]);
        };
        let parts: Vec<&str> = chars.as_str().splitn(3, sep).collect();
        match (kind, parts.as_slice()) {
            (Kind::BlockList, [filter, status]) => row(filter, vec![(*status).to_owned()]),
            (Kind::BlockList, _) => row(spec, vec![String::new()]),
            (_, [subject, value]) => row("", vec![(*subject).into(), (*value).into()]),
            (_, [filter, subject, value]) => row(filter, vec![(*subject).into(), (*value).into()]),
            _ => row("", vec![spec.to_owned(), String::new()]),
        }
    }
}

/// `parts` joined by the first separator none of them holds.
fn joined(parts: &[&str]) -> Result<String, Invalid> {
    let sep = SEPARATORS
        .chars()
        .find(|c| parts.iter().all(|p| !p.contains(*c)))
        .ok_or_else(|| {
            Invalid::Whole(format!(
                "its parts hold every separator ({SEPARATORS}); take one of them out of one part"
            ))
        })?;
    let mut spec = String::new();
    for part in parts {
        spec.push(sep);
        spec.push_str(part);
    }
    Ok(spec)
}

fn push(options: &mut Options, kind: Kind, spec: String) {
    match kind {
        Kind::MapRemote => options.map_remote.push(spec),
        Kind::MapLocal => options.map_local.push(spec),
        Kind::ModifyHeaders => options.modify_headers.push(spec),
        Kind::ModifyBody => options.modify_body.push(spec),
        Kind::BlockList => options.block_list.push(spec),
        Kind::Intercept => {}
    }
}

/// The rules, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The rows.
    pub rules: Vec<Rule>,
}

/// What a table comes to: the rule options (for [`Rules::new`]), the
/// `intercept` filter, and each row's error (a row with one is left out).
#[derive(Debug, Default)]
pub struct Applied {
    /// `block_list` and the map and modify options.
    pub options: Options,
    /// The breakpoints joined into one filter; `None` without any.
    pub intercept: Option<Filter>,
    /// Per row: why it does not apply.
    pub errors: Vec<Option<String>>,
}

impl Table {
    /// The rows the option values read as: each spec of each rule option,
    /// then the `intercept` filter as one breakpoint.
    pub fn from_options(options: &Options, intercept: Option<&str>) -> Table {
        let mut rules = Vec::new();
        for (kind, specs) in [
            (Kind::MapRemote, &options.map_remote),
            (Kind::MapLocal, &options.map_local),
            (Kind::ModifyHeaders, &options.modify_headers),
            (Kind::ModifyBody, &options.modify_body),
            (Kind::BlockList, &options.block_list),
        ] {
            rules.extend(specs.iter().map(|s| Rule::from_spec(kind, s)));
        }
        if let Some(filter) = intercept.filter(|f| !f.trim().is_empty()) {
            rules.push(Rule::from_spec(Kind::Intercept, filter.trim()));
        }
        Table { rules }
    }

    /// Reads `{"rules": [...]}`; why not, naming the row.
    pub fn from_json(body: &Json) -> Result<Table, Invalid> {
        let rows = body["rules"].as_array().ok_or_else(|| {
            Invalid::Whole(
                "expected {\"rules\": [{\"on\", \"kind\", \"filter\", \"args\"}, ...]}".into(),
            )
        })?;
        let rules = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Rule::from_json(r).map_err(|e| e.within(&format!("rule {}", i + 1))))
            .collect::<Result<_, _>>()?;
        Ok(Table { rules })
    }

    /// What the rows that are on, and work, come to.
    pub fn options(&self) -> Applied {
        let mut applied = Applied::default();
        let mut breakpoints = Vec::new();
        for rule in &self.rules {
            let checked = rule.check().and_then(|()| rule.spec());
            let error = match checked {
                Ok(spec) if rule.on => {
                    if rule.kind == Kind::Intercept {
                        breakpoints.push(spec);
                    } else {
                        push(&mut applied.options, rule.kind, spec);
                    }
                    None
                }
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            };
            applied.errors.push(error);
        }
        if !breakpoints.is_empty() {
            // Each part parsed alone, so the whole does.
            applied.intercept = Filter::parse(&breakpoints.join(" | ")).ok();
        }
        applied
    }

    /// The table for the page: the rows with their errors (`applied`,
    /// what [`Table::options`] made of these rows), and the kinds with
    /// their arguments.
    pub fn json(&self, applied: &Applied) -> Json {
        let rules: Vec<Json> = self
            .rules
            .iter()
            .zip(&applied.errors)
            .map(|(r, e)| r.json(e.as_deref()))
            .collect();
        let kinds: Vec<Json> = KINDS
            .iter()
            .map(|k| json!({"kind": k.name(), "arguments": k.arguments()}))
            .collect();
        json!({ "rules": rules, "kinds": kinds })
    }
}

impl Applied {
    /// The option values to save, by name: each rule option's specs, and
    /// `intercept` (empty when none).
    pub fn values(&self) -> Vec<(&'static str, Vec<String>)> {
        let o = &self.options;
        vec![
            ("block_list", o.block_list.clone()),
            ("map_local", o.map_local.clone()),
            ("map_remote", o.map_remote.clone()),
            ("modify_body", o.modify_body.clone()),
            ("modify_headers", o.modify_headers.clone()),
            (
                "intercept",
                self.intercept
                    .iter()
                    .map(|f| f.expression().to_owned())
                    .collect(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests;
