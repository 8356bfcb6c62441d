//! Body charsets as mitmproxy 11 picks and applies them:
//! `headers.infer_content_encoding` (the Content-Type's charset, else
//! UTF-8 for JSON, a `<meta ... charset=...>` for HTML, a leading
//! `@charset "..."` for CSS, else Latin-1) and Python's strict codecs for
//! the charsets Waylay knows: UTF-8, Latin-1, ASCII and cp1252, each under
//! every name Python's codec registry gives it. There is no charset crate
//! in the build: any other charset is [`Charset::Other`], which mitmproxy
//! would either use (Python has the codec) or fail on (it has not).

use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::http::form::parse_content_type;

/// A charset as Python's codec registry resolves its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charset {
    /// `utf_8`.
    Utf8,
    /// `latin_1`: every byte is the code point of its value.
    Latin1,
    /// `ascii`.
    Ascii,
    /// `cp1252`, Python's table: 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined.
    Cp1252,
    /// Any other name, as given.
    Other(String),
}

impl Charset {
    /// `codecs.lookup(name)` for the four codecs known here: the name
    /// lowercased and normalized as `encodings.normalize_encoding` does
    /// (runs of anything but letters, digits and `.` become one `_`, none
    /// at either end), then looked up in `encodings.aliases`.
    pub fn lookup(name: &str) -> Charset {
        let mut norm = String::new();
        let mut punct = false;
        for c in name.to_lowercase().chars() {
            if c.is_alphanumeric() || c == '.' {
                if punct && !norm.is_empty() {
                    norm.push('_');
                }
                if c.is_ascii() {
                    norm.push(c);
                }
                punct = false;
            } else {
                punct = true;
            }
        }
        let found = |n: &str| match n {
            "utf_8" | "u8" | "utf" | "utf8" | "utf8_ucs2" | "utf8_ucs4" | "cp65001" => {
                Some(Charset::Utf8)
            }
            "latin_1" | "8859" | "cp819" | "csisolatin1" | "ibm819" | "iso8859" | "iso8859_1"
            | "iso_8859_1" | "iso_8859_1_1987" | "iso_ir_100" | "l1" | "latin" | "latin1" => {
                Some(Charset::Latin1)
            }
            "ascii" | "646" | "ansi_x3.4_1968" | "ansi_x3_4_1968" | "ansi_x3.4_1986" | "cp367"
            | "csascii" | "ibm367" | "iso646_us" | "iso_646.irv_1991" | "iso_ir_6" | "us"
            | "us_ascii" => Some(Charset::Ascii),
            "cp1252" | "windows_1252" | "1252" => Some(Charset::Cp1252),
            _ => None,
        };
        found(&norm)
            .or_else(|| found(&norm.replace('.', "_")))
            .unwrap_or_else(|| Charset::Other(name.to_owned()))
    }

    /// `bytes.decode(charset)` (strict); `None` where Python raises.
    /// [`Charset::Other`] is `None` too: the caller tells the two apart.
    pub fn decode(&self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::Utf8 => String::from_utf8(bytes.to_vec()).ok(),
            Charset::Latin1 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
            Charset::Ascii => bytes
                .is_ascii()
                .then(|| bytes.iter().map(|&b| char::from(b)).collect()),
            Charset::Cp1252 => bytes.iter().map(|&b| cp1252_char(b)).collect(),
            Charset::Other(_) => None,
        }
    }

    /// `str.encode(charset)` (strict); `None` where Python raises (a
    /// character the charset lacks) and for [`Charset::Other`].
    pub fn encode(&self, text: &str) -> Option<Vec<u8>> {
        let below = |limit: u32| {
            text.chars()
                .map(|c| {
                    u8::try_from(u32::from(c))
                        .ok()
                        .filter(|&b| u32::from(b) < limit)
                })
                .collect()
        };
        match self {
            Charset::Utf8 => Some(text.as_bytes().to_vec()),
            Charset::Latin1 => below(0x100),
            Charset::Ascii => below(0x80),
            Charset::Cp1252 => text.chars().map(cp1252_byte).collect(),
            Charset::Other(_) => None,
        }
    }
}

/// cp1252's 0x80 to 0x9F; `None`: undefined in Python's table.
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

fn cp1252_char(b: u8) -> Option<char> {
    match b {
        0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
        _ => Some(char::from(b)),
    }
}

fn cp1252_byte(c: char) -> Option<u8> {
    match u32::from(c) {
        n @ (0..=0x7F | 0xA0..=0xFF) => u8::try_from(n).ok(),
        _ => (0x80..=0x9F_u8).find(|&b| CP1252_HIGH[usize::from(b - 0x80)] == Some(c)),
    }
}

static META_CHARSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i-u)<meta[^>]+charset=['"]?([^'">]+)"#).expect("valid pattern")
});

static CSS_CHARSET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i-u)\A@charset "([^"]+)";"#).expect("valid pattern"));

/// `infer_content_encoding(content_type, content)`: the charset name
/// mitmproxy decodes (and, with an empty `content`, encodes) a body with.
pub fn infer(content_type: &[u8], content: &[u8]) -> String {
    let has = |needle: &[u8]| content_type.windows(needle.len()).any(|w| w == needle);
    let ascii = |b: &[u8]| {
        b.iter()
            .filter(|b| b.is_ascii())
            .map(|&b| char::from(b))
            .collect()
    };
    let mut enc: String = parse_content_type(content_type)
        .and_then(|(_, _, params)| params.into_iter().find(|(n, _)| n == b"charset"))
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    if enc.is_empty() && has(b"json") {
        enc = "utf8".into();
    }
    if enc.is_empty()
        && has(b"html")
        && let Some(m) = META_CHARSET.captures(content)
    {
        enc = ascii(&m[1]);
    }
    if enc.is_empty()
        && has(b"text/css")
        && let Some(m) = CSS_CHARSET.captures(content)
    {
        enc = ascii(&m[1]);
    }
    if enc.is_empty() {
        enc = "latin-1".into();
    }
    if matches!(enc.to_lowercase().as_str(), "gb2312" | "gbk") {
        enc = "gb18030".into();
    }
    enc
}
