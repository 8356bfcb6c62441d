//! Filter expressions: mitmproxy 11's `flowfilter` language, compiled
//! once into a [`Filter`] and matched against flows.
//!
//! `~d example.com & ~s & !~t image` selects the same flows here as in
//! mitmproxy: the same grammar (pyparsing's quirks included, see
//! [`syntax`]), the same terms over the same fields (decoded bodies,
//! `pretty_url`, header blocks, DNS contents, metadata as Python prints
//! it), and Python `re` patterns translated for the `regex` crate
//! ([`pyre`]). Regexes are compiled when the filter is; matching a flow
//! builds only what the filter's terms read.
//!
//! The runner compiles the filters of `FILTER`, `save_stream_filter`,
//! `readfile_filter` and `view_filter`; the rewriting options compile
//! theirs at start-up; scripts compile theirs through the boundary
//! (`waylay_sdk::Filter::parse`) and match on the host.

use std::fmt;

use crate::flow::Flow;

mod dns;
mod pyre;
mod pyrepr;
mod syntax;
mod term;
mod view;

pub(crate) use term::{bytes_regex, text_regex};

use syntax::Raw;
use term::Term;

/// A compiled filter expression.
#[derive(Clone)]
pub struct Filter {
    expression: String,
    root: Node,
}

#[derive(Clone, Debug)]
enum Node {
    Term(Term),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl Filter {
    /// Compiles `expression`.
    ///
    /// ```
    /// use waylay_proxy::filter::Filter;
    ///
    /// let filter = Filter::parse("~d example.com & ~s").unwrap();
    /// assert_eq!(filter.expression(), "~d example.com & ~s");
    /// let err = Filter::parse("~d example.com & (~s").unwrap_err();
    /// assert_eq!(err.position(), 20);
    /// ```
    pub fn parse(expression: &str) -> Result<Filter, FilterError> {
        let error = |position, kind| FilterError {
            expression: expression.to_owned(),
            position,
            kind,
        };
        if expression.is_empty() {
            return Err(error(0, ErrorKind::Empty));
        }
        let raw = syntax::parse(expression)
            .map_err(|f| error(f.position, ErrorKind::Syntax(f.expected)))?;
        let root = compile(raw).map_err(|(flag, pattern, position, reason)| {
            error(
                position,
                ErrorKind::Regex {
                    flag,
                    pattern,
                    reason,
                },
            )
        })?;
        Ok(Filter {
            expression: expression.to_owned(),
            root,
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Whether `flow` matches.
    ///
    /// ```
    /// use waylay_proxy::filter::Filter;
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/flows/all.mitm");
    /// let flows = waylay_proxy::testing::read_flows(path);
    /// let not_found = Filter::parse("~c 404").unwrap();
    /// assert_eq!(flows.iter().filter(|f| not_found.matches(f)).count(), 1);
    /// ```
    pub fn matches(&self, flow: &Flow) -> bool {
        eval(&self.root, &view::View::new(flow))
    }
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.expression).finish()
    }
}

fn eval(node: &Node, view: &view::View<'_>) -> bool {
    match node {
        Node::Term(term) => term.matches(view),
        Node::Not(inner) => !eval(inner, view),
        Node::And(items) => items.iter().all(|n| eval(n, view)),
        Node::Or(items) => items.iter().any(|n| eval(n, view)),
    }
}

type CompileError = (&'static str, String, usize, String);

fn compile(raw: Raw) -> Result<Node, CompileError> {
    Ok(match raw {
        Raw::Flag(name) => Node::Term(Term::flag(name)),
        Raw::Rex(name, pattern, position) => match Term::rex(name, &pattern) {
            Ok(term) => Node::Term(term),
            Err(reason) => return Err((name, pattern, position, reason)),
        },
        Raw::Code(digits) => Node::Term(Term::Code(digits.parse().ok())),
        Raw::Not(inner) => Node::Not(Box::new(compile(*inner)?)),
        Raw::And(items) => Node::And(items.into_iter().map(compile).collect::<Result<_, _>>()?),
        Raw::Or(items) => Node::Or(items.into_iter().map(compile).collect::<Result<_, _>>()?),
    })
}

/// Why an expression does not compile: one line naming the expression,
/// the position (in characters, from 0) and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    expression: String,
    position: usize,
    kind: ErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ErrorKind {
    Empty,
    Syntax(Expected),
    Regex {
        flag: &'static str,
        pattern: String,
        reason: String,
    },
}

/// What the parser wanted where it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expected {
    /// A term, `!`, `(` or a regex; or, with text left, nothing more.
    Filter,
    /// `)` for the `(` at this position.
    Close(usize),
    /// A regex after this flag.
    Regex(&'static str),
    /// A status code after `~c`.
    Code,
    /// Whitespace after this flag, which is glued to the rest of this
    /// word.
    Space(&'static str, String),
    /// No flag has this name.
    Known(String),
    /// A closing quote.
    Unterminated(char),
}

impl Expected {
    /// At one position, the more specific failure is the one reported.
    fn rank(&self) -> u8 {
        match self {
            Expected::Filter => 0,
            Expected::Close(_) => 1,
            Expected::Regex(_) | Expected::Code => 2,
            Expected::Space(..) | Expected::Known(_) | Expected::Unterminated(_) => 3,
        }
    }
}

/// The farthest point a parse reached, and what it expected there.
#[derive(Clone, Debug)]
struct Failure {
    position: usize,
    expected: Expected,
}

impl FilterError {
    /// The expression that failed.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Where it failed, in characters from 0 (the length: at the end).
    pub fn position(&self) -> usize {
        self.position
    }

    /// The message without the expression: what happened, where, and
    /// what to do. Control characters from the expression are escaped
    /// (`\n`, `\u{0}`), so it is always one line.
    pub fn reason(&self) -> String {
        self.raw_reason()
            .chars()
            .flat_map(|c| {
                let escaped = c.is_control().then(|| c.escape_default());
                let plain = (!c.is_control()).then_some(c);
                escaped.into_iter().flatten().chain(plain)
            })
            .collect()
    }

    fn raw_reason(&self) -> String {
        let chars: Vec<char> = self.expression.chars().collect();
        let at = self.position;
        let found = if at >= chars.len() {
            "the end".to_owned()
        } else {
            let rest: String = chars[at..].iter().take(12).collect();
            let more = if chars.len() - at > 12 { "…" } else { "" };
            format!("\"{rest}{more}\"")
        };
        let place = format!("at position {at} ({found})");
        match &self.kind {
            ErrorKind::Empty => {
                "the expression is empty; give one such as \"~d example.com & ~s\"".into()
            }
            ErrorKind::Syntax(Expected::Filter) if at < chars.len() => format!(
                "unexpected {:?} {place}; expected a filter such as ~d REGEX, an operator (! & |), a parenthesis or a regex",
                chars[at]
            ),
            ErrorKind::Syntax(Expected::Filter) if self.expression.trim().is_empty() => {
                "the expression is only whitespace; give one such as \"~d example.com & ~s\"".into()
            }
            ErrorKind::Syntax(Expected::Filter) => format!(
                "expected a filter such as ~d REGEX, \"!\", \"(\" or a regex {place}; an operator or \"(\" needs something after it"
            ),
            ErrorKind::Syntax(Expected::Close(open)) => format!(
                "expected \")\" {place} to close the \"(\" at position {open}; add it (inside parentheses, join terms with & or |)"
            ),
            ErrorKind::Syntax(Expected::Regex(flag)) => format!(
                "~{flag} needs a regex {place}; write ~{flag} REGEX, quoting it if it has spaces or ( ) ~ ' \""
            ),
            ErrorKind::Syntax(Expected::Code) => {
                format!("~c needs a status code (digits) {place}; write ~c 404")
            }
            ErrorKind::Syntax(Expected::Space(flag, word)) => {
                let rest = &word[flag.len()..];
                if syntax::UNARY.contains(flag) {
                    format!(
                        "~{flag} must be followed by a space or the end, not {rest:?} {place}; write \"~{flag} {rest}\" (mitmproxy reads it the same way)"
                    )
                } else {
                    format!(
                        "unknown filter ~{word} {place}; did you mean \"~{flag} {rest}\"? (a flag and its argument are separated by a space)"
                    )
                }
            }
            ErrorKind::Syntax(Expected::Known(name)) => format!(
                "unknown filter ~{name} {place}; the filters are {}",
                known_flags()
            ),
            ErrorKind::Syntax(Expected::Unterminated(q)) => format!(
                "the quote {q} {place} is never closed; close it with {q} (a backslash escapes one inside)"
            ),
            ErrorKind::Regex {
                flag,
                pattern,
                reason,
            } => format!("~{flag}'s regex {pattern:?} {place} does not compile: {reason}"),
        }
    }
}

fn known_flags() -> String {
    let mut all: Vec<String> = syntax::UNARY
        .iter()
        .chain(syntax::REX.iter())
        .chain(std::iter::once(&"c"))
        .map(|f| format!("~{f}"))
        .collect();
    all.sort();
    all.join(" ")
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.expression.chars().any(char::is_control) {
            format!("{:?}", self.expression)
        } else {
            format!("\"{}\"", self.expression)
        };
        write!(f, "filter {shown}: {}", self.reason())
    }
}

impl std::error::Error for FilterError {}

#[cfg(test)]
mod tests;
