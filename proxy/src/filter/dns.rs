//! A DNS message's `content` as mitmproxy 11 shows it (what `~b` matches
//! in DNS flows): its questions' names and its records' data as text, one
//! per line (`\r\n`).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::tnetstring::{Dict, Value};

const A: i64 = 1;
const NS: i64 = 2;
const CNAME: i64 = 5;
const PTR: i64 = 12;
const TXT: i64 = 16;
const AAAA: i64 = 28;

/// `Message.content`: `str(message).encode()`.
pub(super) fn content(message: &Dict) -> Vec<u8> {
    let mut lines: Vec<String> = Vec::new();
    for section in ["questions", "answers", "authorities", "additionals"] {
        let items = message.get(section).and_then(Value::as_list).unwrap_or(&[]);
        for item in items.iter().filter_map(Value::as_dict) {
            lines.push(if section == "questions" {
                name(item)
            } else {
                record(item)
            });
        }
    }
    lines.join("\r\n").into_bytes()
}

/// The first question's name (what `~u` matches), if any.
pub(super) fn first_question(message: &Dict) -> Option<String> {
    let first = message.get("questions")?.as_list()?.first()?.as_dict()?;
    Some(name(first))
}

fn name(item: &Dict) -> String {
    item.get("name")
        .and_then(Value::as_bytes)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// `str(ResourceRecord)`.
fn record(rr: &Dict) -> String {
    let kind = rr.get("type").and_then(Value::as_int).unwrap_or(0);
    let data = rr.get("data").and_then(Value::as_bytes).unwrap_or_default();
    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
    let text = match kind {
        A => <[u8; 4]>::try_from(data)
            .ok()
            .map(|a| Ipv4Addr::from(a).to_string()),
        AAAA => <[u8; 16]>::try_from(data)
            .ok()
            .map(|a| Ipv6Addr::from(a).to_string()),
        NS | CNAME | PTR => domain_name(data),
        TXT => std::str::from_utf8(data).ok().map(str::to_owned),
        _ => return format!("0x{hex}"),
    };
    text.unwrap_or_else(|| format!("0x{hex} (invalid {} data)", type_name(kind)))
}

fn type_name(kind: i64) -> &'static str {
    match kind {
        A => "A",
        NS => "NS",
        CNAME => "CNAME",
        PTR => "PTR",
        TXT => "TXT",
        _ => "AAAA",
    }
}

/// `domain_names.unpack`: labels without compression, filling the data.
fn domain_name(data: &[u8]) -> Option<String> {
    let mut labels = Vec::new();
    let mut i = 0;
    loop {
        let size = usize::from(*data.get(i)?);
        if size >= 64 {
            return None;
        }
        i += 1;
        if size == 0 {
            break;
        }
        let label = data.get(i..i + size)?;
        labels.push(std::str::from_utf8(label).ok().filter(|l| l.is_ascii())?);
        i += size;
    }
    (i == data.len()).then(|| labels.join("."))
}
