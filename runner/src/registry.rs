//! One registry of the options `--set` and an options file can name
//! ([`OPTIONS`]: name, type, default, help, where it applies), and `--set`
//! read once against it into a [`Config`] that every part of the runner
//! asks for its values. A name no one knows is kept for the scripts'
//! declarations ([`Config::script_values`]) and refused, with the closest
//! name suggested, if no script declares it either.

use std::collections::HashMap;

use anyhow::{Result, bail};
use waylay_proxy::script::DeclaredOption;

mod table;

pub use table::OPTIONS;

/// What an option's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// true or false; `--set NAME` alone is true.
    Bool,
    /// Text.
    Text,
    /// A filter expression.
    Filter,
    /// A regular expression.
    Regex,
    /// A size: `1024`, `512k`, `10m`.
    Size,
    /// Whole seconds.
    Seconds,
    /// A whole number.
    Count,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A path.
    File,
    /// A rewriting spec: `[/filter]/a/b`.
    Spec,
}

impl Kind {
    /// How `--options` names it.
    pub fn label(self) -> String {
        match self {
            Kind::Bool => "true/false".into(),
            Kind::Text => "text".into(),
            Kind::Filter => "filter".into(),
            Kind::Regex => "regex".into(),
            Kind::Size => "size".into(),
            Kind::Seconds => "seconds".into(),
            Kind::Count => "number".into(),
            Kind::Choice(words) => words.join("|"),
            Kind::File => "path".into(),
            Kind::Spec => "spec".into(),
        }
    }
}

/// Where an option acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// The live proxy.
    Proxy,
    /// Flows, live and offline: filters and rewriting.
    Flows,
    /// Client and server replay.
    Replay,
    /// The web view.
    Web,
    /// What is shown and written.
    Output,
}

impl Applies {
    fn heading(self) -> &'static str {
        match self {
            Applies::Proxy => "the live proxy",
            Applies::Flows => "flows, live and offline (filters and rewriting)",
            Applies::Replay => "replay",
            Applies::Web => "the web view",
            Applies::Output => "what is shown and written",
        }
    }
}

/// One option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    /// Its value when unset, as shown (empty: none).
    pub default: &'static str,
    pub applies: Applies,
    /// Each `--set` adds a value, rather than replacing it.
    pub repeatable: bool,
    pub help: &'static str,
}

/// The option named `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// The known name closest to `name`, if one is close enough to be a
/// slip of the keyboard.
pub fn closest<'a>(name: &str, among: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    among
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `--set`, read once: each value by its option, in order.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Registry options: the name and the value (none: a switch alone).
    values: Vec<(&'static str, Option<String>)>,
    /// Names the registry does not know: for the scripts.
    others: Vec<(String, String)>,
}

impl Config {
    /// Reads `sets` (`NAME=VALUE`, or `NAME` for a true/false option).
    pub fn parse(sets: &[String]) -> Result<Config> {
        let mut config = Config::default();
        for set in sets {
            let (name, value) = match set.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (set.as_str(), None),
            };
            match (find(name), value) {
                (Some(spec), None) if spec.kind != Kind::Bool => {
                    bail!("--set {name}: expected {name}=VALUE")
                }
                (Some(spec), value) => config.values.push((spec.name, value)),
                (None, Some(value)) => config.others.push((name.to_owned(), value)),
                (None, None) => bail!("--set {set:?}: expected NAME=VALUE"),
            }
        }
        Ok(config)
    }

    /// Every value given for `name`, in order (`None`: a switch alone).
    pub fn given(&self, name: &str) -> impl Iterator<Item = Option<&str>> {
        self.values
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// Every registry option given, in order, with its value (`None`: a
    /// switch alone).
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        self.values.iter().map(|(n, v)| (*n, v.as_deref()))
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.given(name).map(Option::unwrap_or_default).collect()
    }

    /// The last value given for `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.given(name).last().map(Option::unwrap_or_default)
    }

    /// The registry's options given, in order, as (name, value) pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values
            .iter()
            .map(|(n, v)| (*n, v.as_deref().unwrap_or("true")))
    }

    /// The last value given for `name`, an option the registry does not
    /// know (a script's).
    pub fn other(&self, name: &str) -> Option<&str> {
        self.others
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The values given for `declared` options, each checked; names
    /// nobody declared are left alone.
    pub fn declared_values(&self, declared: &[DeclaredOption]) -> Result<HashMap<String, String>> {
        let mut values = HashMap::new();
        for (name, value) in &self.others {
            if let Some(option) = declared.iter().find(|o| &o.name == name) {
                option.check(value)?;
                values.insert(name.clone(), value.clone());
            }
        }
        Ok(values)
    }

    /// The values of options the scripts declare, checked; a name no one
    /// knows is refused with the closest one suggested.
    pub fn script_values(&self, declared: &[DeclaredOption]) -> Result<HashMap<String, String>> {
        let unknown = self
            .others
            .iter()
            .map(|(name, _)| name)
            .find(|name| !declared.iter().any(|o| &o.name == *name));
        if let Some(name) = unknown {
            let known = OPTIONS
                .iter()
                .map(|o| o.name)
                .chain(declared.iter().map(|o| o.name.as_str()));
            match closest(name, known) {
                Some(near) => bail!(
                    "--set {name}: no such option; did you mean {near}? (`runner --options` lists them all)"
                ),
                None => bail!(
                    "--set {name}: no such option; `runner --options` lists them all (with -s, the scripts' too)"
                ),
            }
        }
        self.declared_values(declared)
    }

    /// Every option for the web view's options panel: name, type,
    /// default, where it applies, help and the values given now.
    pub fn json(&self) -> serde_json::Value {
        let options: Vec<serde_json::Value> = OPTIONS
            .iter()
            .map(|o| {
                serde_json::json!({
                    "name": o.name,
                    "type": o.kind.label(),
                    "default": o.default,
                    "applies": o.applies.heading(),
                    "repeatable": o.repeatable,
                    "help": o.help,
                    "now": self.all(o.name),
                })
            })
            .collect();
        serde_json::Value::Array(options)
    }

    /// `runner --options`: every option by where it applies, with its
    /// type, default, the value given now, and help.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for applies in [
            Applies::Proxy,
            Applies::Flows,
            Applies::Replay,
            Applies::Output,
            Applies::Web,
        ] {
            out += &format!("{}:\n", applies.heading());
            for o in OPTIONS.iter().filter(|o| o.applies == applies) {
                let mut facts = vec![o.kind.label()];
                if o.repeatable {
                    facts.push("repeatable".into());
                }
                if !o.default.is_empty() {
                    facts.push(format!("default {}", o.default));
                }
                let now = self.all(o.name);
                if !now.is_empty() {
                    facts.push(format!("now {}", now.join(", ")));
                }
                out += &format!("  {} ({}): {}\n", o.name, facts.join("; "), o.help);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_names_are_unique() {
        let names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn sets_are_read_once_and_asked_for_by_name() {
        let sets: Vec<String> = [
            "anticache",
            "map_remote=/a/b",
            "map_remote=/c/d",
            "web_port=0",
            "web_port=9",
            "mine=1",
        ]
        .map(String::from)
        .into();
        let config = Config::parse(&sets).unwrap();
        assert_eq!(config.given("anticache").collect::<Vec<_>>(), [None]);
        assert_eq!(config.given("anticomp").count(), 0);
        assert_eq!(config.all("map_remote"), ["/a/b", "/c/d"]);
        assert_eq!(config.last("web_port"), Some("9"));
        assert!(
            config
                .describe()
                .contains("  web_port (number; default 8081; now 0, 9): ")
        );
        let why = config.script_values(&[]).unwrap_err().to_string();
        assert_eq!(
            why,
            "--set mine: no such option; `runner --options` lists them all (with -s, the scripts' too)"
        );
    }

    #[test]
    fn a_slip_gets_the_closest_name() {
        for (typed, near) in [
            ("map_remot", Some("map_remote")),
            ("anticahce", Some("anticache")),
            ("webport", Some("web_port")),
            ("stream_large_body", Some("stream_large_bodies")),
            ("colour", None),
        ] {
            assert_eq!(
                closest(typed, OPTIONS.iter().map(|o| o.name)),
                near,
                "{typed}"
            );
        }
        let config = Config::parse(&["map_remot=/a/b".into()]).unwrap();
        assert_eq!(
            config.script_values(&[]).unwrap_err().to_string(),
            "--set map_remot: no such option; did you mean map_remote? (`runner --options` lists them all)"
        );
        for (set, says) in [
            ("web_port", "--set web_port: expected web_port=VALUE"),
            ("nothing", "--set \"nothing\": expected NAME=VALUE"),
        ] {
            assert_eq!(Config::parse(&[set.into()]).unwrap_err().to_string(), says);
        }
    }
}
