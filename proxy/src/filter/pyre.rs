//! Python `re` patterns, translated for the `regex` crate so that a
//! pattern mitmproxy compiles means the same here.
//!
//! Most syntax is shared; what differs is rewritten:
//! - `$` without MULTILINE also matches before a final `\n` (`\n?\z`),
//!   `\Z` is the end (`\z`);
//! - `{` that is not a repetition is a literal; `{,n}` is `{0,n}`;
//! - inside `[...]`, `[`, `&&`, `--` and `~~` are literals, `\b` is a
//!   backspace;
//! - octal escapes, `\uXXXX`, `\UXXXXXXXX`, `(?#comments)` and verbose
//!   mode (`(?x)`) are expanded here;
//! - in a bytes pattern (mitmproxy's body and header filters) a non-ASCII
//!   character is its UTF-8 bytes, each a literal, as Python encodes the
//!   pattern first.
//!
//! Every literal is written as `\x{..}` unless it is a letter, digit or
//! `_`, so no character can take on a meaning it has only in `regex`
//! (`\<`, `[[:alpha:]]`). Python features `regex` lacks (backreferences,
//! look-around, conditionals, possessive and atomic groups) are errors
//! that say so.

/// How Python would have compiled the pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// A `str` pattern over text.
    Str,
    /// A `bytes` pattern (the text's UTF-8 encoding) over bytes.
    Bytes,
}

/// The pattern in `regex` syntax, or why Python (or `regex`) refuses it.
pub(crate) fn translate(
    pattern: &[u8],
    dialect: Dialect,
    multiline: bool,
) -> Result<String, String> {
    let units: Vec<u32> = match dialect {
        Dialect::Bytes => pattern.iter().map(|b| u32::from(*b)).collect(),
        Dialect::Str => String::from_utf8_lossy(pattern)
            .chars()
            .map(u32::from)
            .collect(),
    };
    let mut t = Translator {
        units,
        pos: 0,
        out: String::with_capacity(pattern.len() * 2),
        dialect,
        stack: vec![Mode {
            multiline,
            verbose: false,
        }],
        started: false,
    };
    t.run()?;
    if t.stack.len() > 1 {
        return Err("missing ), unterminated subpattern".into());
    }
    Ok(t.out)
}

/// Flags that change how this translator reads what follows.
#[derive(Clone, Copy)]
struct Mode {
    multiline: bool,
    verbose: bool,
}

struct Translator {
    units: Vec<u32>,
    pos: usize,
    out: String,
    dialect: Dialect,
    stack: Vec<Mode>,
    /// Something other than global flags has been read.
    started: bool,
}

fn ch(u: u32) -> char {
    char::from_u32(u).unwrap_or('\u{fffd}')
}

fn is(u: Option<u32>, c: char) -> bool {
    u == Some(u32::from(c))
}

impl Translator {
    fn peek(&self) -> Option<u32> {
        self.units.get(self.pos).copied()
    }

    fn peek_at(&self, i: usize) -> Option<u32> {
        self.units.get(self.pos + i).copied()
    }

    fn mode(&self) -> Mode {
        *self.stack.last().expect("never empty")
    }

    fn literal(&mut self, u: u32) {
        let c = ch(u);
        if c.is_ascii_alphanumeric() || c == '_' {
            self.out.push(c);
        } else {
            self.out.push_str(&if u <= 0xFF {
                format!("\\x{u:02X}")
            } else {
                format!("\\x{{{u:X}}}")
            });
        }
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(u) = self.peek() {
            let c = ch(u);
            self.pos += 1;
            if self.mode().verbose {
                if c.is_whitespace() {
                    continue;
                }
                if c == '#' {
                    while self.peek().is_some_and(|u| u != u32::from('\n')) {
                        self.pos += 1;
                    }
                    continue;
                }
            }
            let global = c == '(' && self.is_global_flags();
            let started = self.started;
            self.started |= !global;
            match c {
                '\\' => self.escape()?,
                '[' => self.class()?,
                '(' => self.group(started)?,
                ')' => {
                    if self.stack.len() == 1 {
                        return Err("unbalanced parenthesis".into());
                    }
                    self.stack.pop();
                    self.out.push(')');
                }
                '$' if !self.mode().multiline => self.out.push_str("(?:\\n?\\z)"),
                '{' => self.brace()?,
                '*' | '+' | '?' => {
                    self.out.push(c);
                    self.after_repeat()?;
                }
                '.' | '^' | '$' | '|' => self.out.push(c),
                _ => self.literal(u),
            }
        }
        Ok(())
    }

    /// After a repetition: a lazy `?` is kept, a possessive `+` refused.
    fn after_repeat(&mut self) -> Result<(), String> {
        if is(self.peek(), '?') {
            self.pos += 1;
            self.out.push('?');
        } else if is(self.peek(), '+') {
            return Err("possessive repetitions (*+, ++, ?+, {m,n}+) are not supported".into());
        }
        Ok(())
    }

    /// `{`: a repetition `{m}`, `{m,}`, `{,n}`, `{m,n}`, or a literal.
    fn brace(&mut self) -> Result<(), String> {
        let digits = |t: &Translator, from: usize| {
            t.units[from..]
                .iter()
                .take_while(|u| ch(**u).is_ascii_digit())
                .count()
        };
        let lo_len = digits(self, self.pos);
        let mut i = self.pos + lo_len;
        let comma = is(self.units.get(i).copied(), ',');
        let hi_len = if comma {
            i += 1;
            let n = digits(self, i);
            i += n;
            n
        } else {
            0
        };
        let closed = is(self.units.get(i).copied(), '}');
        if !closed || (lo_len == 0 && !comma) {
            self.literal(u32::from('{'));
            return Ok(());
        }
        let text = |from: usize, len: usize| -> String {
            self.units[from..from + len]
                .iter()
                .map(|u| ch(*u))
                .collect()
        };
        let lo = if lo_len == 0 {
            "0".to_owned()
        } else {
            text(self.pos, lo_len)
        };
        let rep = if comma {
            format!("{{{lo},{}}}", text(self.pos + lo_len + 1, hi_len))
        } else {
            format!("{{{lo}}}")
        };
        self.out.push_str(&rep);
        self.pos = i + 1;
        // `regex` checks the bounds and what they repeat.
        self.after_repeat()
    }

    /// Whether the `(` just read opens `(?flags)` (not `(?flags:...)`).
    fn is_global_flags(&self) -> bool {
        if !is(self.peek(), '?') {
            return false;
        }
        let flags = self.units[self.pos + 1..]
            .iter()
            .take_while(|u| "aiLmsux".contains(ch(**u)))
            .count();
        flags > 0 && is(self.units.get(self.pos + 1 + flags).copied(), ')')
    }

    /// `(`: a group, flags, a comment, or an extension `regex` lacks.
    fn group(&mut self, started: bool) -> Result<(), String> {
        let mode = self.mode();
        if !is(self.peek(), '?') {
            self.stack.push(mode);
            self.out.push('(');
            return Ok(());
        }
        self.pos += 1;
        let next = self.peek().map(ch);
        self.pos += 1;
        match next {
            Some(':') => {
                self.stack.push(mode);
                self.out.push_str("(?:");
                Ok(())
            }
            Some('P') if is(self.peek(), '<') => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|u| u != u32::from('>')) {
                    self.pos += 1;
                }
                let name: String = self.units[start..self.pos].iter().map(|u| ch(*u)).collect();
                if self.peek().is_none() || name.is_empty() {
                    return Err("missing >, unterminated name".into());
                }
                self.pos += 1;
                self.stack.push(mode);
                self.out.push_str(&format!("(?P<{name}>"));
                Ok(())
            }
            Some('P') if is(self.peek(), '=') => {
                Err("backreferences ((?P=name)) are not supported".into())
            }
            Some('#') => {
                while self.peek().is_some_and(|u| u != u32::from(')')) {
                    self.pos += 1;
                }
                if self.peek().is_none() {
                    return Err("missing ), unterminated comment".into());
                }
                self.pos += 1;
                Ok(())
            }
            Some('=' | '!') => Err("look-ahead ((?=...), (?!...)) is not supported".into()),
            Some('<') if matches!(self.peek().map(ch), Some('=' | '!')) => {
                Err("look-behind ((?<=...), (?<!...)) is not supported".into())
            }
            Some('(') => Err("conditional groups ((?(id)yes|no)) are not supported".into()),
            Some('>') => Err("atomic groups ((?>...)) are not supported".into()),
            Some(c) if "aiLmsux-".contains(c) => {
                self.pos -= 1;
                self.flags(started)
            }
            Some(c) => Err(format!("unknown extension ?{c}")),
            None => Err("unexpected end of pattern".into()),
        }
    }

    /// `(?imsx)` at the start, or `(?imsx-imsx:...)` anywhere.
    fn flags(&mut self, started: bool) -> Result<(), String> {
        let at_start = !started && self.stack.len() == 1;
        let (mut on, mut off) = (String::new(), String::new());
        let mut mode = self.mode();
        let mut negative = false;
        loop {
            let Some(c) = self.peek().map(ch) else {
                return Err("missing -, : or )".into());
            };
            self.pos += 1;
            match c {
                '-' if !negative => negative = true,
                'i' | 'm' | 's' | 'x' => {
                    match c {
                        'm' => mode.multiline = !negative,
                        'x' => mode.verbose = !negative,
                        _ => {}
                    }
                    if c != 'x' {
                        if negative { off.push(c) } else { on.push(c) }
                    }
                }
                // ASCII, locale and Unicode matching: regex's own.
                'a' | 'L' | 'u' if !negative => {}
                ')' if !negative => {
                    if !at_start {
                        return Err("global flags not at the start of the expression".into());
                    }
                    *self.stack.last_mut().expect("never empty") = mode;
                    if !on.is_empty() {
                        self.out.push_str(&format!("(?{on})"));
                    }
                    return Ok(());
                }
                ':' => {
                    self.stack.push(mode);
                    let off = if off.is_empty() {
                        String::new()
                    } else {
                        format!("-{off}")
                    };
                    self.out.push_str(&format!("(?{on}{off}:"));
                    return Ok(());
                }
                other => return Err(format!("unknown flag {other}")),
            }
        }
    }

    /// An escape outside a class.
    fn escape(&mut self) -> Result<(), String> {
        let Some(u) = self.peek() else {
            return Err("bad escape (end of pattern)".into());
        };
        self.pos += 1;
        let c = ch(u);
        match c {
            'A' | 'b' | 'B' | 'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                self.out.push('\\');
                self.out.push(c);
            }
            'Z' => self.out.push_str("\\z"),
            '1'..='9' => {
                let octal = matches!(c, '1'..='3')
                    && self.peek().is_some_and(|u| ch(u).is_digit(8))
                    && self.peek_at(1).is_some_and(|u| ch(u).is_digit(8));
                if !octal {
                    return Err(format!("backreferences (\\{c}) are not supported"));
                }
                let value = self.octal(u, 2);
                self.literal(value);
            }
            _ => {
                let value = self.simple_escape(u)?;
                self.literal(value);
            }
        }
        Ok(())
    }

    /// Octal digits after `first`, up to `more` of them.
    fn octal(&mut self, first: u32, more: usize) -> u32 {
        let mut value = ch(first).to_digit(8).unwrap_or(0);
        for _ in 0..more {
            match self.peek().and_then(|u| ch(u).to_digit(8)) {
                Some(d) => {
                    value = value * 8 + d;
                    self.pos += 1;
                }
                None => break,
            }
        }
        value
    }

    /// Escapes that stand for one character, in or out of a class.
    fn simple_escape(&mut self, u: u32) -> Result<u32, String> {
        let c = ch(u);
        let hex = |t: &mut Translator, n: usize, what: &str| -> Result<u32, String> {
            let digits: String = t.units[t.pos..]
                .iter()
                .take(n)
                .map(|u| ch(*u))
                .take_while(char::is_ascii_hexdigit)
                .collect();
            if digits.len() != n {
                return Err(format!("incomplete escape \\{what}{digits}"));
            }
            t.pos += n;
            u32::from_str_radix(&digits, 16).map_err(|e| e.to_string())
        };
        Ok(match c {
            'a' => 7,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            't' => 9,
            'v' => 11,
            '0' => self.octal(0, 2),
            'x' => hex(self, 2, "x")?,
            'u' if self.dialect == Dialect::Str => hex(self, 4, "u")?,
            'U' if self.dialect == Dialect::Str => {
                let v = hex(self, 8, "U")?;
                if char::from_u32(v).is_none() {
                    return Err(format!("bad escape \\U{v:08x}"));
                }
                v
            }
            'N' if self.dialect == Dialect::Str => {
                return Err("named characters (\\N{...}) are not supported".into());
            }
            c if c.is_ascii_alphanumeric() => return Err(format!("bad escape \\{c}")),
            _ => u,
        })
    }

    /// `[...]`, rewritten item by item.
    fn class(&mut self) -> Result<(), String> {
        self.out.push('[');
        if is(self.peek(), '^') {
            self.pos += 1;
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let Some(u) = self.peek() else {
                return Err("unterminated character set".into());
            };
            self.pos += 1;
            if ch(u) == ']' && !first {
                break;
            }
            first = false;
            let lo = match ch(u) {
                '\\' => match self.class_escape()? {
                    Item::Set(set) => {
                        self.out.push_str(&set);
                        if is(self.peek(), '-')
                            && !is(self.peek_at(1), ']')
                            && self.peek_at(1).is_some()
                        {
                            return Err("bad character range".into());
                        }
                        continue;
                    }
                    Item::Char(v) => v,
                },
                _ => u,
            };
            if is(self.peek(), '-') && self.peek_at(1).is_some() && !is(self.peek_at(1), ']') {
                self.pos += 1;
                let hu = self.peek().expect("checked");
                self.pos += 1;
                let hi = if ch(hu) == '\\' {
                    match self.class_escape()? {
                        Item::Char(v) => v,
                        Item::Set(_) => return Err("bad character range".into()),
                    }
                } else {
                    hu
                };
                if hi < lo {
                    return Err(format!("bad character range {}-{}", ch(lo), ch(hi)));
                }
                self.literal(lo);
                self.out.push('-');
                self.literal(hi);
            } else {
                self.literal(lo);
            }
        }
        self.out.push(']');
        Ok(())
    }

    fn class_escape(&mut self) -> Result<Item, String> {
        let Some(u) = self.peek() else {
            return Err("unterminated character set".into());
        };
        self.pos += 1;
        let c = ch(u);
        Ok(match c {
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => Item::Set(format!("\\{c}")),
            'b' => Item::Char(8),
            '1'..='7' => Item::Char(self.octal(u, 2)),
            _ => Item::Char(self.simple_escape(u)?),
        })
    }
}

enum Item {
    Char(u32),
    Set(String),
}

#[cfg(test)]
mod tests {
    use super::{Dialect, translate};

    #[test]
    fn python_meanings() {
        let str_ = |p: &str| translate(p.as_bytes(), Dialect::Str, false);
        let bytes = |p: &str| translate(p.as_bytes(), Dialect::Bytes, false);
        assert_eq!(str_("a$").unwrap(), "a(?:\\n?\\z)");
        assert_eq!(translate(b"a$", Dialect::Str, true).unwrap(), "a$");
        assert_eq!(str_("a{,3}").unwrap(), "a{0,3}");
        assert_eq!(str_("{x}").unwrap(), "\\x7Bx\\x7D");
        assert_eq!(str_("a.b*?").unwrap(), "a.b*?");
        assert_eq!(str_(r"\Z").unwrap(), "\\z");
        assert_eq!(str_(r"[\b]").unwrap(), "[\\x08]");
        assert_eq!(str_("[[a]").unwrap(), "[\\x5Ba]");
        assert_eq!(str_("[]a]").unwrap(), "[\\x5Da]");
        assert_eq!(str_("[a-z]").unwrap(), "[a-z]");
        assert_eq!(str_("[a-]").unwrap(), "[a\\x2D]");
        assert_eq!(str_(r"\101").unwrap(), "A");
        assert_eq!(str_("(?i)x").unwrap(), "(?i)x");
        assert_eq!(str_("a(?#note)b").unwrap(), "ab");
        assert_eq!(str_("(?x) a b # c").unwrap(), "ab");
        assert_eq!(bytes("я+").unwrap(), "\\xD1\\x8F+");
        assert_eq!(str_("я").unwrap(), "\\x{44F}");
        for bad in [
            r"\1", "(?=a)", "(?<!a)", "a*+", r"\q", "[a", "(a", "a)", "(?P=n)", "x(?i)",
        ] {
            assert!(str_(bad).is_err(), "{bad}");
        }
        assert!(bytes(r"\u0041").is_err());
    }
}
