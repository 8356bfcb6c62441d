//! mitmproxy 11's `Response.refresh`, which server replay applies to the
//! responses it serves: Date, Expires and Last-Modified moved forward by
//! the time since the response was recorded, and each Set-Cookie's
//! Expires with them (`cookies.refresh_set_cookie_header`). Max-Age is
//! relative and stays.
//!
//! Dates without a zone are read as UTC, where Python's `mktime_tz` uses
//! local time: the same on the UTC machines proxies run on.

use super::cookies::{self, SetCookie};
use crate::tnetstring::{Dict, Value};

use super::{fields, set_header};

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Response.refresh(now)` on a response dict: a response without
/// `timestamp_start` is left alone.
pub fn refresh(resp: &mut Dict, now: f64) {
    let Some(start) = resp.get("timestamp_start").and_then(Value::as_float) else {
        return;
    };
    let delta = now - start;
    for name in ["date", "expires", "last-modified"] {
        let values: Vec<&[u8]> = fields(resp)
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
            .collect();
        if values.is_empty() {
            continue;
        }
        let joined = String::from_utf8_lossy(&values.join(&b", "[..])).into_owned();
        if let Some(new) = shift(&joined, delta) {
            set_header(resp, name.as_bytes(), new.as_bytes());
        }
    }
    let Some(list) = resp.get_mut("headers").and_then(Value::as_list_mut) else {
        return;
    };
    for field in list.iter_mut() {
        let Some(pair) = field.as_list_mut() else {
            continue;
        };
        let is_cookie = pair
            .first()
            .and_then(Value::as_bytes)
            .is_some_and(|n| n.eq_ignore_ascii_case(b"set-cookie"));
        let Some(value) = pair.get(1).and_then(Value::as_bytes).filter(|_| is_cookie) else {
            continue;
        };
        if let Some(new) = refresh_set_cookie(&String::from_utf8_lossy(value), delta) {
            pair[1] = Value::bytes(new.as_bytes());
        }
    }
}

/// A date moved by `delta` seconds, or `None` where mitmproxy keeps (or
/// fails on) the value: not a date, a year out of range.
fn shift(date: &str, delta: f64) -> Option<String> {
    let parsed = cookies::parsedate_tz(date)?;
    let t = cookies::timegm(&parsed).ok()? - parsed.tz as f64 + delta;
    formatdate(t)
}

/// `cookies.refresh_set_cookie_header`: every cookie of the field
/// formatted again, Expires moved (an unreadable one dropped). `None` (the
/// field stays as it was) when a cookie has no name or no value.
pub fn refresh_set_cookie(field: &str, delta: f64) -> Option<String> {
    let mut cookies = cookies::parse_set_cookie(field);
    for cookie in &mut cookies {
        if cookie.name.is_empty() || cookie.value.as_deref().is_none_or(str::is_empty) {
            return None;
        }
        let Some(expires) = cookie.attr("expires") else {
            continue;
        };
        match expires.and_then(|e| shift(e, delta)) {
            Some(new) => {
                let mut first = true;
                cookie.attrs.retain_mut(|(k, v)| {
                    if !k.eq_ignore_ascii_case("expires") {
                        return true;
                    }
                    let keep = first;
                    if first {
                        *v = Some(new.clone());
                        first = false;
                    }
                    keep
                });
            }
            None => cookie
                .attrs
                .retain(|(k, _)| !k.eq_ignore_ascii_case("expires")),
        }
    }
    Some(format_set_cookie(&cookies))
}

/// `format_set_cookie_header`: cookies joined by `, `, each `name=value`
/// and its attributes joined by `; `, values quoted when special except
/// for Expires and Path.
pub(crate) fn format_set_cookie(cookies: &[SetCookie]) -> String {
    cookies
        .iter()
        .map(|c| {
            std::iter::once((&c.name, &c.value))
                .chain(c.attrs.iter().map(|(k, v)| (k, v)))
                .map(|(k, v)| match v {
                    None => k.clone(),
                    Some(v)
                        if !matches!(k.to_lowercase().as_str(), "expires" | "path")
                            && cookies::has_special(v) =>
                    {
                        let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
                        format!("{k}=\"{escaped}\"")
                    }
                    Some(v) => format!("{k}={v}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `email.utils.formatdate(t, usegmt=True)`: `Sun, 06 Nov 1994 08:49:37
/// GMT`; `None` outside years 1 to 9999, where Python raises.
pub fn formatdate(t: f64) -> Option<String> {
    if !t.is_finite() {
        return None;
    }
    // `datetime.fromtimestamp` rounds to microseconds, half to even.
    let micros = (t * 1e6).round_ties_even();
    let secs = (micros / 1e6).floor() as i64;
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (year, month, day) = crate::dates::civil_from_days(days);
    if !(1..=9999).contains(&year) {
        return None;
    }
    // 1970-01-01 was a Thursday.
    let weekday = (days + 3).rem_euclid(7) as usize;
    Some(format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[weekday],
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_as_python() {
        assert_eq!(formatdate(0.0).unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            formatdate(784_111_777.9).unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            formatdate(951_782_400.0).unwrap(),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(formatdate(1e13), None);
    }

    #[test]
    fn shifts_dates() {
        assert_eq!(
            shift("Sun, 06 Nov 1994 08:49:37 GMT", 3600.0).unwrap(),
            "Sun, 06 Nov 1994 09:49:37 GMT"
        );
        assert_eq!(
            shift("Sun, 06 Nov 1994 08:49:37 +0100", 0.0).unwrap(),
            "Sun, 06 Nov 1994 07:49:37 GMT"
        );
        assert_eq!(shift("soon", 1.0), None);
    }

    #[test]
    fn refreshes_set_cookie_as_mitmproxy() {
        // Cases from mitmproxy's test_cookies.test_refresh_cookie.
        let c = "MOO=BAR; Expires=Tue, 08-Mar-2011 00:20:38 GMT; Path=foo.com; Secure";
        assert!(refresh_set_cookie(c, 60.0).unwrap().contains("00:21:38"));
        let c = "rfoo=bar; Domain=reddit.com; expires=Thu, 31 Dec 2133; Path=/";
        assert!(!refresh_set_cookie(c, 60.0).unwrap().contains("expires"));
        assert_eq!(refresh_set_cookie("", 60.0).unwrap(), "");
        assert_eq!(refresh_set_cookie(">=A", 60.0).unwrap(), ">=A");
        let c = "foo,bar";
        assert!(refresh_set_cookie(c, 60.0).is_none());
        let c = "foo/bar=bla";
        assert_eq!(refresh_set_cookie(c, 60.0).unwrap(), "foo/bar=bla");
        let c = "foo=bar; expires=Thu, 31 Dec 2037 23:59:59 GMT";
        assert_eq!(
            refresh_set_cookie(c, 60.0).unwrap(),
            "foo=bar; expires=Fri, 01 Jan 2038 00:00:59 GMT"
        );
        // An unreadable Expires goes; a quoted value is quoted again.
        assert_eq!(
            refresh_set_cookie("a=\"b c\"; Expires=never; Max-Age=5", 1.0).unwrap(),
            "a=\"b c\"; Max-Age=5"
        );
    }

    #[test]
    fn refreshes_a_response() {
        let mut resp = Dict::new();
        resp.push("timestamp_start", Value::Float(1000.0));
        resp.push(
            "headers",
            Value::list(vec![
                Value::list(vec![
                    Value::bytes(b"Date"),
                    Value::bytes(b"Thu, 01 Jan 1970 00:00:00 GMT"),
                ]),
                Value::list(vec![
                    Value::bytes(b"Set-Cookie"),
                    Value::bytes(b"a=b; Expires=Thu, 01 Jan 1970 00:00:10 GMT"),
                ]),
                Value::list(vec![Value::bytes(b"Set-Cookie"), Value::bytes(b"=x")]),
                Value::list(vec![Value::bytes(b"Last-Modified"), Value::bytes(b"junk")]),
            ]),
        );
        refresh(&mut resp, 1060.0);
        let got: Vec<(String, String)> = fields(&resp)
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        let want = [
            ("Date", "Thu, 01 Jan 1970 00:01:00 GMT"),
            ("Set-Cookie", "a=b; Expires=Thu, 01 Jan 1970 00:01:10 GMT"),
            ("Set-Cookie", "=x"),
            ("Last-Modified", "junk"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
