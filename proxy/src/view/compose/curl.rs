//! A pasted curl command made into a [`Draft`]: the command split into
//! words as bash splits it, then curl's options read as curl reads them.
//!
//! The splitter is written here rather than taken from `shlex`, because
//! browsers' "Copy as cURL (bash)" quotes with `$'…'` (ANSI-C quoting)
//! whenever a value holds a quote or a control character, which `shlex`
//! does not read.

use std::fmt;

use base64::Engine as _;

use super::Draft;

/// Why a curl command could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CurlError {
    /// The first word is not `curl`.
    NotCurl(String),
    /// A quote opened and never closed.
    Unclosed(char),
    /// An option that needs a value ended the command.
    NoValue(String),
    /// An option curl has that Compose does not take, and why.
    Unsupported(String, &'static str),
    /// Not an option curl has.
    Unknown(String),
    /// No URL in the command.
    NoUrl,
}

impl fmt::Display for CurlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CurlError::NotCurl(first) if first.is_empty() => {
                write!(
                    f,
                    "nothing to read; paste a curl command (`curl https://…`)"
                )
            }
            CurlError::NotCurl(first) => write!(
                f,
                "expected a curl command (`curl …`), found {first:?} first"
            ),
            CurlError::Unclosed(q) => {
                write!(f, "a {q} quote is never closed; paste the whole command")
            }
            CurlError::NoValue(flag) => write!(f, "{} needs a value after it", flag.escape_debug()),
            CurlError::Unsupported(flag, why) => write!(f, "{}: {why}", flag.escape_debug()),
            CurlError::Unknown(flag) => write!(
                f,
                "{} is not a curl option Compose knows; take it out, or paste the request in the raw mode",
                flag.escape_debug()
            ),
            CurlError::NoUrl => write!(f, "the command has no URL; add one (`curl https://…`)"),
        }
    }
}

impl std::error::Error for CurlError {}

/// The words of a shell command line, as bash splits them: blanks
/// separate words; `'…'` is literal; `"…"` takes `\` before `"`, `\`,
/// `$`, `` ` `` and a line break; `$'…'` reads C escapes; a `\` outside
/// quotes escapes the next character, and `\` at a line's end joins it
/// to the next.
pub fn shell_words(line: &str) -> Result<Vec<String>, CurlError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(next) => word.get_or_insert_default().push(next),
                None => word.get_or_insert_default().push('\\'),
            },
            '\'' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => w.push(ch),
                        None => return Err(CurlError::Unclosed('\'')),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => w.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                w.push('\\');
                                w.push(ch);
                            }
                            None => return Err(CurlError::Unclosed('"')),
                        },
                        Some(ch) => w.push(ch),
                        None => return Err(CurlError::Unclosed('"')),
                    }
                }
            }
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                ansi_c(&mut chars, word.get_or_insert_default())?;
            }
            other => word.get_or_insert_default().push(other),
        }
    }
    if let Some(w) = word {
        words.push(w);
    }
    Ok(words)
}

/// The rest of a `$'…'` word, its escapes read as bash reads them.
fn ansi_c(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    w: &mut String,
) -> Result<(), CurlError> {
    // Bytes, since `\xHH` escapes may spell UTF-8 a byte at a time.
    let mut bytes = Vec::new();
    let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, max: usize| {
        let mut value = 0u32;
        let mut n = 0;
        while n < max {
            match chars.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    value = value * 16 + d;
                    chars.next();
                    n += 1;
                }
                None => break,
            }
        }
        (n > 0).then_some(value)
    };
    loop {
        let c = chars.next().ok_or(CurlError::Unclosed('\''))?;
        match c {
            '\'' => break,
            '\\' => {
                let e = chars.next().ok_or(CurlError::Unclosed('\''))?;
                match e {
                    'n' => bytes.push(b'\n'),
                    't' => bytes.push(b'\t'),
                    'r' => bytes.push(b'\r'),
                    'a' => bytes.push(7),
                    'b' => bytes.push(8),
                    'e' | 'E' => bytes.push(27),
                    'f' => bytes.push(12),
                    'v' => bytes.push(11),
                    'x' => match hex(chars, 2) {
                        Some(v) => bytes.push(v as u8),
                        None => bytes.extend_from_slice(b"\\x"),
                    },
                    'u' | 'U' => {
                        let max = if e == 'u' { 4 } else { 8 };
                        let mut code = hex(chars, max);
                        // A UTF-16 pair written as two `\u` escapes.
                        if let Some(high @ 0xD800..=0xDBFF) = code {
                            let mut ahead = chars.clone();
                            if ahead.next() == Some('\\')
                                && ahead.next() == Some('u')
                                && let Some(low @ 0xDC00..=0xDFFF) = hex(&mut ahead, 4)
                            {
                                code = Some(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
                                *chars = ahead;
                            }
                        }
                        match code.and_then(char::from_u32) {
                            Some(ch) => {
                                bytes.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes())
                            }
                            None => bytes.extend_from_slice(&[b'\\', e as u8]),
                        }
                    }
                    '0'..='7' => {
                        let mut value = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(d) => {
                                    value = value * 8 + d;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        bytes.push(value as u8);
                    }
                    other => {
                        // `\\`, `\'`, `\"`, `\?` are the character; any
                        // other escape stays as written.
                        if !matches!(other, '\\' | '\'' | '"' | '?') {
                            bytes.push(b'\\');
                        }
                        bytes.extend_from_slice(other.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
            }
            other => bytes.extend_from_slice(other.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    w.push_str(&String::from_utf8_lossy(&bytes));
    Ok(())
}

/// curl's options that take no value and change nothing Compose sends.
const IGNORED_FLAGS: &[&str] = &[
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-L",
    "--location",
    "-k",
    "--insecure",
    "-v",
    "--verbose",
    "-i",
    "--include",
    "-#",
    "--progress-bar",
    "-N",
    "--no-buffer",
    "-f",
    "--fail",
    "-g",
    "--globoff",
    "--path-as-is",
    "--http1.1",
    "--compressed-ssh",
    "-4",
    "-6",
    "--ipv4",
    "--ipv6",
    "--location-trusted",
    "--fail-with-body",
    "-Z",
    "--parallel",
    "--http3",
    "--http3-only",
    "--tlsv1.2",
    "--tlsv1.3",
    "--no-keepalive",
    "--tcp-nodelay",
];

/// curl's options that take a value and change nothing Compose sends.
const IGNORED_WITH_VALUE: &[&str] = &[
    "-o",
    "--output",
    "-m",
    "--max-time",
    "--connect-timeout",
    "--retry",
    "--cacert",
    "--capath",
    "--resolve",
    "-w",
    "--write-out",
    "--max-redirs",
    "--limit-rate",
    "-x",
    "--proxy",
    "-U",
    "--proxy-user",
    "--connect-to",
    "--interface",
    "--retry-delay",
    "--retry-max-time",
];

/// Options that take a value, short and long.
const WITH_VALUE: &[&str] = &[
    "-X",
    "--request",
    "-H",
    "--header",
    "-d",
    "--data",
    "--data-ascii",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "--json",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "-b",
    "--cookie",
    "-u",
    "--user",
    "--url",
    "-F",
    "--form",
    "--form-string",
    "-T",
    "--upload-file",
];

/// curl's `--data-urlencode` of one value: `name=content` keeps the
/// name, `=content` and `content` give the encoded content alone.
fn urlencode_data(value: &str) -> Result<String, CurlError> {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    if value.starts_with('@') || value.contains("@") && !value.contains('=') {
        return Err(CurlError::Unsupported(
            "--data-urlencode".into(),
            "reads a file (@…); paste the file's content instead",
        ));
    }
    Ok(match value.split_once('=') {
        Some(("", content)) => encode(content),
        Some((name, content)) => format!("{name}={}", encode(content)),
        None => encode(value),
    })
}

/// Reads a curl command.
pub fn read(command: &str) -> Result<Draft, CurlError> {
    let words = shell_words(command)?;
    let mut words = words.into_iter();
    match words.next() {
        Some(first) if first == "curl" || first.ends_with("/curl") => {}
        Some(first) => return Err(CurlError::NotCurl(first)),
        None => return Err(CurlError::NotCurl(String::new())),
    }
    let (mut method, mut url, mut version) = (None, None, "HTTP/1.1".to_owned());
    let mut custom: Vec<(String, Option<String>)> = Vec::new();
    let mut data: Vec<String> = Vec::new();
    let (mut get, mut head, mut compressed, mut json) = (false, false, false, false);
    let (mut agent, mut referer, mut cookie, mut user) = (None, None, None, None::<String>);
    let mut only_urls = false;
    while let Some(word) = words.next() {
        if only_urls || !word.starts_with('-') || word == "-" {
            url.get_or_insert(word);
            continue;
        }
        if word == "--" {
            only_urls = true;
            continue;
        }
        // `-XPOST`, `-H'a: b'`: a short option with its value attached;
        // `--opt=value` is not curl's syntax.
        let (flag, attached) =
            if !word.starts_with("--") && word.len() > 2 && word.is_char_boundary(2) {
                let (f, rest) = word.split_at(2);
                if WITH_VALUE.contains(&f) || IGNORED_WITH_VALUE.contains(&f) {
                    (f.to_owned(), Some(rest.to_owned()))
                } else if rest
                    .chars()
                    .all(|c| IGNORED_FLAGS.contains(&format!("-{c}").as_str()))
                {
                    // Combined switches: `-sSL`.
                    continue;
                } else {
                    (word.clone(), None)
                }
            } else {
                (word.clone(), None)
            };
        let flag = flag.as_str();
        if IGNORED_FLAGS.contains(&flag) {
            continue;
        }
        let mut value = || {
            attached
                .clone()
                .or_else(|| words.next())
                .ok_or_else(|| CurlError::NoValue(flag.to_owned()))
        };
        match flag {
            "-X" | "--request" => method = Some(value()?),
            "-H" | "--header" => {
                let h = value()?;
                match h.split_once(':') {
                    Some((name, v)) if !name.trim().is_empty() => {
                        // `Name:` with nothing after it takes curl's own
                        // header of that name out (kept as `None`).
                        let v = v.trim();
                        let value = (!v.is_empty()).then(|| v.to_owned());
                        custom.push((name.trim().to_owned(), value));
                    }
                    // `Name;` sends the header empty.
                    _ => match h.strip_suffix(';') {
                        Some(name) if !name.trim().is_empty() => {
                            custom.push((name.trim().to_owned(), Some(String::new())))
                        }
                        _ => {
                            return Err(CurlError::Unsupported(
                                flag.to_owned(),
                                "expected `Name: value`",
                            ));
                        }
                    },
                }
            }
            "-d" | "--data" | "--data-ascii" | "--data-binary" => {
                let d = value()?;
                if d.starts_with('@') {
                    return Err(CurlError::Unsupported(
                        flag.to_owned(),
                        "reads a file (@…); paste the file's content with --data-raw",
                    ));
                }
                data.push(d);
            }
            "--data-raw" => data.push(value()?),
            "--data-urlencode" => data.push(urlencode_data(&value()?)?),
            "--json" => {
                data.push(value()?);
                json = true;
            }
            "-A" | "--user-agent" => agent = Some(value()?),
            "-e" | "--referer" => referer = Some(value()?),
            "-b" | "--cookie" => {
                let c = value()?;
                if !c.contains('=') {
                    return Err(CurlError::Unsupported(
                        flag.to_owned(),
                        "reads cookies from a file; give them as `name=value; …`",
                    ));
                }
                cookie = Some(c);
            }
            "-u" | "--user" => user = Some(value()?),
            "--url" => url = Some(value()?),
            "-G" | "--get" => get = true,
            "-I" | "--head" => head = true,
            "--compressed" => compressed = true,
            "--http2" | "--http2-prior-knowledge" => version = "HTTP/2.0".into(),
            "--http1.0" | "-0" => version = "HTTP/1.0".into(),
            "-F" | "--form" | "--form-string" => {
                return Err(CurlError::Unsupported(
                    flag.to_owned(),
                    "multipart forms are not composed from curl; paste the request in the raw mode",
                ));
            }
            "-T" | "--upload-file" => {
                return Err(CurlError::Unsupported(
                    flag.to_owned(),
                    "uploads a file; paste its content with --data-raw",
                ));
            }
            f if IGNORED_WITH_VALUE.contains(&f) => {
                value()?;
            }
            _ => return Err(CurlError::Unknown(flag.to_owned())),
        }
    }
    let mut url = url.ok_or(CurlError::NoUrl)?;
    if !url.contains("://") {
        url = format!("http://{url}");
    }
    // `user:password@` in the URL is sent as Basic authorization, as -u.
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", &url));
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if let Some(at) = rest[..authority_len].rfind('@') {
        user.get_or_insert_with(|| rest[..at].to_owned());
        url = format!("{scheme}://{}", &rest[at + 1..]);
    }
    let joined = data.join(if json { "" } else { "&" });
    let mut body = Vec::new();
    let sends_data = !data.is_empty() && !get;
    if get && !data.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&joined);
    } else if sends_data {
        body = joined.into_bytes();
    }
    let method = method.unwrap_or_else(|| {
        if head {
            "HEAD"
        } else if sends_data {
            "POST"
        } else {
            "GET"
        }
        .into()
    });
    let authority = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest))
        .unwrap_or_default()
        .to_owned();
    // curl's own headers, in its order: those before the ones given with
    // -H, and those after them.
    let mut first: Vec<(String, String)> = vec![("Host".into(), authority)];
    let mut add = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            first.push((name.into(), v));
        }
    };
    add("User-Agent", agent);
    add(
        "Accept",
        Some(if json { "application/json" } else { "*/*" }.into()),
    );
    add("Referer", referer);
    add("Cookie", cookie);
    add(
        "Authorization",
        user.map(|u| {
            let token = base64::engine::general_purpose::STANDARD.encode(u.as_bytes());
            format!("Basic {token}")
        }),
    );
    add(
        "Accept-Encoding",
        compressed.then(|| "deflate, gzip".into()),
    );
    let mut last: Vec<(String, String)> = Vec::new();
    if sends_data {
        let content_type = if json {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        last.push(("Content-Length".into(), body.len().to_string()));
        last.push(("Content-Type".into(), content_type.into()));
    }
    // A header given with -H takes the place of curl's own of that name
    // (or, given empty, takes it out); given twice, it is sent twice.
    let mut given: Vec<(String, String)> = Vec::new();
    for (name, value) in custom {
        let own = |list: &mut Vec<(String, String)>| {
            list.iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|i| list.remove(i))
        };
        own(&mut first);
        own(&mut last);
        if let Some(v) = value {
            given.push((name, v));
        }
    }
    let mut headers = first;
    headers.extend(given);
    headers.extend(last);
    Ok(Draft {
        method,
        url,
        http_version: version,
        headers,
        body,
    })
}
