//! Cookies as mitmproxy 11's `net.http.cookies` reads them: the Cookie
//! header (`parse_cookie_header`), Set-Cookie (the comma-separated form
//! and the `expires` heuristic included), `format_cookie_header`, expiry
//! by `email.utils.parsedate_tz` or Max-Age, and `http.cookiejar`'s
//! `domain_match`. The request and response accessors, `refresh`, sticky
//! cookies and HAR export share them.

/// One cookie of a Set-Cookie field: name, value (`None` without `=`),
/// attributes in order (names as written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetCookie {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
    pub(crate) attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    /// `CookieAttrs[name]`: the last value of an attribute, any case.
    pub(crate) fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
}

pub(crate) fn read_until(s: &[char], start: usize, term: &[char]) -> (String, usize) {
    if start == s.len() {
        return (String::new(), start + 1);
    }
    for i in start..s.len() {
        if term.contains(&s[i]) {
            return (s[start..i].iter().collect(), i);
        }
    }
    (s[start..].iter().collect(), s.len())
}

fn read_quoted(s: &[char], start: usize) -> (String, usize) {
    let (mut out, mut escaping, mut i) = (String::new(), false, start);
    for (j, &c) in s.iter().enumerate().skip(start + 1) {
        i = j;
        if escaping {
            out.push(c);
            escaping = false;
        } else if c == '"' {
            break;
        } else if c == '\\' {
            escaping = true;
        } else {
            out.push(c);
        }
    }
    (out, i + 1)
}

pub(crate) fn read_value(s: &[char], start: usize, delims: &[char]) -> (String, usize) {
    if start >= s.len() {
        (String::new(), start)
    } else if s[start] == '"' {
        read_quoted(s, start)
    } else {
        read_until(s, start, delims)
    }
}

/// `cookies.parse_cookie_header`: `name=value` pairs split on `;`, names
/// left-trimmed, values possibly quoted (backslash escapes), pairs with
/// neither name nor value dropped.
pub(crate) fn parse_cookie_header(line: &str) -> Vec<(String, String)> {
    let s: Vec<char> = line.chars().collect();
    let mut pairs = Vec::new();
    let mut off = 0;
    loop {
        let (lhs, o) = read_until(&s, off, &[';', '=']);
        off = o;
        let lhs = lhs.trim_start().to_owned();
        let mut rhs = String::new();
        if off < s.len() && s[off] == '=' {
            (rhs, off) = read_value(&s, off + 1, &[';']);
        }
        if !rhs.is_empty() || !lhs.is_empty() {
            pairs.push((lhs, rhs));
        }
        off += 1;
        if off >= s.len() {
            return pairs;
        }
    }
}

/// `parse_set_cookie_header`: every cookie of one Set-Cookie value.
pub(crate) fn parse_set_cookie(line: &str) -> Vec<SetCookie> {
    let s: Vec<char> = line.chars().collect();
    let mut cookies: Vec<Vec<(String, Option<String>)>> = Vec::new();
    let mut pairs = Vec::new();
    let mut off = 0;
    loop {
        let (lhs, o) = read_until(&s, off, &[';', '=', ',']);
        off = o;
        let lhs = lhs.trim_start().to_owned();
        if off < s.len() && s[off] == '=' {
            let (mut rhs, o) = read_value(&s, off + 1, &[';', ',']);
            off = o;
            if lhs.eq_ignore_ascii_case("expires") && rhs.chars().count() <= 3 {
                let (trail, o) = read_value(&s, off + 1, &[';', ',']);
                off = o;
                rhs = format!("{rhs},{trail}");
            }
            pairs.push((lhs, Some(rhs)));
        } else if !lhs.is_empty() {
            pairs.push((lhs, None));
        }
        if off < s.len() && s[off] == ',' {
            cookies.push(std::mem::take(&mut pairs));
        }
        off += 1;
        if off >= s.len() {
            break;
        }
    }
    if !pairs.is_empty() || cookies.is_empty() {
        cookies.push(pairs);
    }
    cookies
        .into_iter()
        .filter_map(|mut pairs| {
            if pairs.is_empty() {
                return None;
            }
            let (name, value) = pairs.remove(0);
            Some(SetCookie {
                name,
                value,
                attrs: pairs,
            })
        })
        .collect()
}

/// `format_cookie_header`: `name=value; ...`, values quoted when they
/// hold anything special.
pub(crate) fn format_cookie_header(pairs: &[(String, Option<String>)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| match v {
            None => k.clone(),
            Some(v) if has_special(v) => {
                let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
                format!("{k}=\"{escaped}\"")
            }
            Some(v) => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn has_special(s: &str) -> bool {
    s.chars()
        .any(|c| "\",;\\".contains(c) || !(0x21..=0x7e).contains(&(c as u32)))
}

/// `cookies.is_expired`: `Ok(true)` when Expires (or, without it,
/// Max-Age) is in the past. `Err` where mitmproxy's own code raises (a
/// Max-Age without a value, a year out of range), which stops the addon's
/// hook.
pub(crate) fn is_expired(cookie: &SetCookie, now: f64) -> Result<bool, String> {
    let expiry = if let Some(expires) = cookie.attr("expires") {
        match expires.and_then(parsedate_tz) {
            Some(date) => Some(timegm(&date)? - date.tz as f64),
            None => None,
        }
    } else if let Some(max_age) = cookie.attr("max-age") {
        let max_age = max_age.ok_or("int() argument must be a string, not 'NoneType'")?;
        python_int(max_age).map(|age| now + age as f64)
    } else {
        None
    };
    Ok(expiry.is_some_and(|t| t <= now))
}

/// Python's `int(text)`: whitespace, a sign, digits with single
/// underscores between them.
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -value } else { value })
}

/// A date as `parsedate_tz` returns it.
pub(crate) struct Date {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    pub(crate) tz: i64,
}

const MONTHS: [&str; 24] = [
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `email.utils.parsedate_tz`, as lenient as Python's.
pub(crate) fn parsedate_tz(text: &str) -> Option<Date> {
    let mut data: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if data.is_empty() {
        return None;
    }
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if data[0].ends_with(',') || days.contains(&data[0].to_lowercase().as_str()) {
        data.remove(0);
    } else if let Some(i) = data[0].rfind(',') {
        data[0] = data[0][i + 1..].to_owned();
    }
    if data.len() == 3 {
        let stuff: Vec<String> = data[0].split('-').map(str::to_owned).collect();
        if stuff.len() == 3 {
            data = stuff.into_iter().chain(data[1..].iter().cloned()).collect();
        }
    }
    if data.len() == 4 {
        let s = data[3].clone();
        let i = s.find('+').or_else(|| s.find('-'));
        match i {
            Some(i) if i > 0 => {
                data.truncate(3);
                data.push(s[..i].to_owned());
                data.push(s[i..].to_owned());
            }
            _ => data.push(String::new()),
        }
    }
    if data.len() < 5 {
        return None;
    }
    let [mut dd, mut mm, mut yy, mut tm, mut tz] =
        <[String; 5]>::try_from(data[..5].to_vec()).ok()?;
    if dd.is_empty() || mm.is_empty() || yy.is_empty() {
        return None;
    }
    mm = mm.to_lowercase();
    if !MONTHS.contains(&mm.as_str()) {
        (dd, mm) = (mm, dd.to_lowercase());
        if !MONTHS.contains(&mm.as_str()) {
            return None;
        }
    }
    let mut month = MONTHS.iter().position(|m| *m == mm)? as i64 + 1;
    if month > 12 {
        month -= 12;
    }
    if dd.ends_with(',') {
        dd.pop();
    }
    if yy.find(':').is_some_and(|i| i > 0) {
        std::mem::swap(&mut yy, &mut tm);
    }
    if yy.ends_with(',') {
        yy.pop();
        if yy.is_empty() {
            return None;
        }
    }
    if !yy.chars().next()?.is_ascii_digit() {
        std::mem::swap(&mut yy, &mut tz);
    }
    if tm.ends_with(',') {
        tm.pop();
    }
    let parts: Vec<&str> = tm.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, "0"),
        [h, m, s] => (*h, *m, *s),
        [one] if one.contains('.') => match one.split('.').collect::<Vec<_>>().as_slice() {
            [h, m] => (*h, *m, "0"),
            [h, m, s] => (*h, *m, *s),
            _ => return None,
        },
        _ => return None,
    };
    let mut year = python_int(&yy)?;
    let day = python_int(&dd)?;
    let (hour, minute, second) = (python_int(h)?, python_int(m)?, python_int(s)?);
    if year < 100 {
        year += if year > 68 { 1900 } else { 2000 };
    }
    let tz = tz.to_uppercase();
    let offset = match tz.as_str() {
        "UT" | "UTC" | "GMT" | "Z" => Some(0),
        "AST" => Some(-400),
        "ADT" => Some(-300),
        "EST" => Some(-500),
        "EDT" => Some(-400),
        "CST" => Some(-600),
        "CDT" => Some(-500),
        "MST" => Some(-700),
        "MDT" => Some(-600),
        "PST" => Some(-800),
        "PDT" => Some(-700),
        _ => python_int(&tz),
    };
    let seconds = match offset {
        Some(o) if o != 0 => o.signum() * ((o.abs() / 100) * 3600 + (o.abs() % 100) * 60),
        _ => 0,
    };
    Some(Date {
        year,
        month,
        day,
        hour,
        minute,
        second,
        tz: seconds,
    })
}

/// `calendar.timegm`: days from the first of the month (any day count,
/// as Python's arithmetic allows), in seconds.
pub(crate) fn timegm(d: &Date) -> Result<f64, String> {
    if !(1..=9999).contains(&d.year) {
        return Err(format!("year {} is out of range", d.year));
    }
    let days = crate::dates::days_from_civil(d.year, d.month, d.day);
    Ok((((days * 24 + d.hour) * 60 + d.minute) * 60 + d.second) as f64)
}

/// `http.cookiejar.domain_match`, as loose as it is (the domain only has
/// to occur in the host past its start).
pub(crate) fn domain_match(host: &str, domain: &str) -> bool {
    let (a, b) = (host.to_lowercase(), domain.to_lowercase());
    if a == b {
        return true;
    }
    if !is_hdn(&a) {
        return false;
    }
    match a.rfind(&b) {
        None | Some(0) => false,
        Some(_) => b.starts_with('.') && is_hdn(&b[1..]),
    }
}

/// `cookiejar.is_HDN`: not an IPv4 address, not empty, no dot at either
/// end.
fn is_hdn(text: &str) -> bool {
    let ipv4 = text
        .rsplit_once('.')
        .is_some_and(|(_, last)| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()));
    !(ipv4 || text.is_empty() || text.starts_with('.') || text.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_fields() {
        let c = parse_set_cookie("sid=one; Path=/; HttpOnly");
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].name.as_str(), c[0].value.as_deref()),
            ("sid", Some("one"))
        );
        assert_eq!(c[0].attr("path"), Some(Some("/")));
        assert_eq!(c[0].attr("httponly"), Some(None));
        let two = parse_set_cookie("a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/, b=2");
        assert_eq!(two.len(), 2);
        assert_eq!(
            two[0].attr("expires"),
            Some(Some("Thu, 01 Jan 1970 00:00:00 GMT"))
        );
        assert!(is_expired(&two[0], 1e9).unwrap());
        assert!(!is_expired(&two[1], 1e9).unwrap());
        assert_eq!(
            parse_set_cookie("pref=\"a b\"")[0].value.as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn formats_and_matches() {
        let pairs = vec![("a".into(), Some("b c".into())), ("flag".into(), None)];
        assert_eq!(format_cookie_header(&pairs), "a=\"b c\"; flag");
        assert!(domain_match("www.shop.example", ".shop.example"));
        assert!(!domain_match("shop.example", ".shop.example"));
        assert!(domain_match("Shop.Example", "shop.example"));
        assert!(!domain_match("10.0.0.1", ".0.0.1"));
    }
}
