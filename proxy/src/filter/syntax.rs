//! The grammar of mitmproxy 11's `flowfilter`, parsed by hand into a
//! [`Raw`] tree: the same text is accepted and means the same.
//!
//! mitmproxy builds its parser with pyparsing; this is that grammar as a
//! PEG, with pyparsing's ordered choice and backtracking:
//!
//! ```text
//! top   <- expr+ END                  several side by side: AND
//! expr  <- and ('|' and)*
//! and   <- not ('&' not)*
//! not   <- '!' not / base
//! base  <- atom / '(' expr ')'        no juxtaposition inside parentheses
//! atom  <- FLAG / REXFLAG arg / '~c' DIGITS / arg     a bare arg means ~u
//! arg   <- WORD / "…" / '…'
//! ```
//!
//! Whitespace (` \t\r\n`) is skipped before every token. A flag is `~`
//! and the whole run of printable ASCII after it (pyparsing's `WordEnd`),
//! so `~s)` is not `~s` followed by `)`. A WORD runs to whitespace or one
//! of `()~'"`, so `&`, `|` and `!` inside one are part of the regex
//! (`~d a|b` is one regex). Quoted strings lose their backslashes
//! (`"\d"` is `d`; write `"\\d"`) and turn `\n`, `\t`, `\x41`, `\u00e9`
//! and octal escapes into characters, as pyparsing's `QuotedString` does.

use super::{Expected, Failure};

/// A flag that takes nothing.
pub(super) const UNARY: [&str; 14] = [
    "a",
    "e",
    "http",
    "marked",
    "replay",
    "replayq",
    "replays",
    "q",
    "s",
    "tcp",
    "udp",
    "dns",
    "websocket",
    "all",
];

/// A flag that takes a regex.
pub(super) const REX: [&str; 17] = [
    "b", "bq", "bs", "t", "tq", "ts", "d", "dst", "h", "hq", "hs", "m", "src", "u", "meta",
    "marker", "comment",
];

/// A parsed expression, before its regexes are compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Raw {
    /// A flag without argument (`~s`).
    Flag(&'static str),
    /// A flag with its regex, unquoted, and where the regex starts.
    Rex(&'static str, String, usize),
    /// `~c` and its digits.
    Code(String),
    /// `!`.
    Not(Box<Raw>),
    /// `&`, or terms side by side.
    And(Vec<Raw>),
    /// `|`.
    Or(Vec<Raw>),
}

/// Parses `text`; on failure, says what was expected at the farthest
/// point reached (character positions).
pub(super) fn parse(text: &str) -> Result<Raw, Failure> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        far: Failure {
            position: 0,
            expected: Expected::Filter,
        },
    };
    let mut items = Vec::new();
    loop {
        let save = p.pos;
        match p.or_expr() {
            Some(node) => items.push(node),
            None => {
                p.pos = save;
                break;
            }
        }
    }
    p.skip_ws();
    if items.is_empty() || p.pos != p.chars.len() {
        let at = p.pos;
        p.fail(at, Expected::Filter);
        return Err(p.far);
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        Raw::And(items)
    })
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    far: Failure,
}

/// pyparsing's default whitespace.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Characters a flag's name runs over (pyparsing's `printables`).
fn is_printable(c: char) -> bool {
    ('!'..='~').contains(&c)
}

impl Parser {
    /// Notes a failure: the farthest one wins; at the same place, the
    /// more specific one.
    fn fail(&mut self, position: usize, expected: Expected) {
        if position > self.far.position
            || (position == self.far.position && expected.rank() > self.far.expected.rank())
        {
            self.far = Failure { position, expected };
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// A one-character operator, after whitespace.
    fn lit(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or_expr(&mut self) -> Option<Raw> {
        self.infix('|', Self::and_expr, Raw::Or)
    }

    fn and_expr(&mut self) -> Option<Raw> {
        self.infix('&', Self::not_expr, Raw::And)
    }

    /// One level of infix notation: `operand (op operand)*`, an operator
    /// with nothing after it left unread; one item alone, else `join`.
    fn infix(
        &mut self,
        op: char,
        operand: fn(&mut Self) -> Option<Raw>,
        join: fn(Vec<Raw>) -> Raw,
    ) -> Option<Raw> {
        let mut items = vec![operand(self)?];
        loop {
            let save = self.pos;
            if self.lit(op)
                && let Some(node) = operand(self)
            {
                items.push(node);
                continue;
            }
            self.pos = save;
            break;
        }
        Some(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            join(items)
        })
    }

    fn not_expr(&mut self) -> Option<Raw> {
        let save = self.pos;
        if self.lit('!')
            && let Some(node) = self.not_expr()
        {
            return Some(Raw::Not(Box::new(node)));
        }
        self.pos = save;
        self.base()
    }

    fn base(&mut self) -> Option<Raw> {
        let save = self.pos;
        if let Some(atom) = self.atom() {
            return Some(atom);
        }
        self.pos = save;
        if self.lit('(') {
            let open = self.pos - 1;
            if let Some(inner) = self.or_expr() {
                if self.lit(')') {
                    return Some(inner);
                }
                let at = self.pos;
                self.fail(at, Expected::Close(open));
            }
        }
        self.pos = save;
        None
    }

    fn atom(&mut self) -> Option<Raw> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() != Some('~') {
            let (pattern, _) = self.arg()?;
            return Some(Raw::Rex("u", pattern, start));
        }
        let run = self.chars[start..]
            .iter()
            .take_while(|c| is_printable(**c))
            .count();
        let name: String = self.chars[start + 1..start + run].iter().collect();
        let after = start + run;
        if let Some(flag) = UNARY.iter().find(|f| **f == name) {
            self.pos = after;
            return Some(Raw::Flag(flag));
        }
        if let Some(flag) = REX.iter().find(|f| **f == name) {
            self.pos = after;
            let Some((pattern, at)) = self.arg() else {
                let at = self.pos;
                self.fail(at, Expected::Regex(flag));
                return None;
            };
            return Some(Raw::Rex(flag, pattern, at));
        }
        if name == "c" {
            self.pos = after;
            self.skip_ws();
            let digits: String = self.chars[self.pos..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if digits.is_empty() {
                let at = self.pos;
                self.fail(at, Expected::Code);
                return None;
            }
            self.pos += digits.len();
            return Some(Raw::Code(digits));
        }
        // The longest flag the run starts with: `~s)` is `~s` glued to
        // what follows, `~x` no flag at all.
        let known = UNARY
            .iter()
            .chain(REX.iter())
            .chain(std::iter::once(&"c"))
            .filter(|f| name.starts_with(**f))
            .max_by_key(|f| f.len());
        let glued =
            |flag: &str| name[flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric());
        match known {
            Some(flag) if !(UNARY.contains(flag) && glued(flag)) => {
                self.fail(start + 1 + flag.len(), Expected::Space(flag, name.clone()));
            }
            _ => self.fail(start, Expected::Known(name)),
        }
        None
    }

    /// A regex argument: a word or a quoted string. Returns it unquoted
    /// with the position it starts at.
    fn arg(&mut self) -> Option<(String, usize)> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(q @ ('"' | '\'')) => self.quoted(q).map(|s| (s, start)),
            Some(c) if !is_ws(c) && !"()~".contains(c) => {
                let len = self.chars[start..]
                    .iter()
                    .take_while(|c| !is_ws(**c) && !"()~'\"".contains(**c))
                    .count();
                self.pos += len;
                Some((self.chars[start..start + len].iter().collect(), start))
            }
            _ => {
                self.fail(start, Expected::Filter);
                None
            }
        }
    }

    /// A quoted string: backslash escapes any character but a line break;
    /// no raw line breaks.
    fn quoted(&mut self, quote: char) -> Option<String> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match self.chars.get(i) {
                Some(c) if *c == quote => break,
                Some('\\')
                    if self
                        .chars
                        .get(i + 1)
                        .is_some_and(|c| !matches!(c, '\n' | '\r')) =>
                {
                    i += 2
                }
                Some(c) if !matches!(c, '\n' | '\r' | '\\') => i += 1,
                _ => {
                    self.fail(start, Expected::Unterminated(quote));
                    return None;
                }
            }
        }
        self.pos = i + 1;
        Some(unquote(&self.chars[start + 1..i]))
    }
}

/// pyparsing's `QuotedString` unquoting, as the pyparsing 3.2 that
/// mitmproxy 11.0.2 runs on does it: `\t \n \f \r` become whitespace, and
/// a backslash before anything else is dropped. Its numeric escapes are
/// built in an f-string that eats their `{n}` counts, so only `\0` (not
/// before `3`), `\xH2` and `\uH4` (one hex digit, then a literal `2` or
/// `4`) become the characters 0x0, 0xH2 and 0xH4; `\x41` is `x41`.
pub(super) fn unquote(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let rest = &chars[i + 1..];
        let at = |n: usize| rest.get(n).copied();
        let numeric = |tail: char| {
            let digit = at(1)?.to_digit(16)?;
            (at(2) == Some(tail))
                .then(|| char::from_u32(digit * 16 + tail.to_digit(16).unwrap_or(0)))
        };
        let (value, used) = match rest[0] {
            't' => ('\t', 1),
            'n' => ('\n', 1),
            'f' => ('\x0c', 1),
            'r' => ('\r', 1),
            '0'..='7' if at(1) == Some('3') => {
                out.push(rest[0]);
                ('3', 2)
            }
            '0' => ('\0', 1),
            'x' if numeric('2').is_some() => (numeric('2').flatten().unwrap_or('\u{fffd}'), 3),
            'u' if numeric('4').is_some() => (numeric('4').flatten().unwrap_or('\u{fffd}'), 3),
            other => (other, 1),
        };
        out.push(value);
        i += 1 + used;
    }
    out
}
