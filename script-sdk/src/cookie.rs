//! [`SetCookie`]: one cookie a response sets (mitmproxy's
//! `response.cookies`).

use crate::pairs::items;

/// One cookie of a `Set-Cookie` field: its name, its value (`None` when the
/// field has no `=`), and its attributes in order, each with its value if
/// it has one (`HttpOnly` has none).
///
/// ```
/// # fn f(flow: &waylay_sdk::Flow) {
/// for cookie in flow.response().map(|r| r.cookies()).unwrap_or_default() {
///     let secure = cookie.attr("secure").is_some();
///     println!("{} secure={secure}", cookie.name);
/// }
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie's name.
    pub name: String,
    /// Its value; `None` for a field with no `=`.
    pub value: Option<String>,
    /// `Path`, `Expires`, `HttpOnly`, ... in order, names as sent.
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    /// A cookie with a value and no attributes.
    ///
    /// ```
    /// let c = waylay_sdk::SetCookie::new("sid", "abc");
    /// assert_eq!(c.value.as_deref(), Some("abc"));
    /// ```
    pub fn new(name: &str, value: &str) -> SetCookie {
        SetCookie {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            attrs: Vec::new(),
        }
    }

    /// An attribute, by name in any case: `Some(None)` for one without a
    /// value (`HttpOnly`), `None` when absent.
    ///
    /// ```
    /// let mut c = waylay_sdk::SetCookie::new("sid", "abc");
    /// c.attrs.push(("HttpOnly".into(), None));
    /// assert_eq!(c.attr("httponly"), Some(None));
    /// assert_eq!(c.attr("path"), None);
    /// ```
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub(crate) fn encode_all(cookies: &[SetCookie]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut item = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        for c in cookies {
            item(c.name.as_bytes());
            item(&optional(c.value.as_deref()));
            let mut attrs = Vec::new();
            for (k, v) in &c.attrs {
                for bytes in [k.as_bytes().to_vec(), optional(v.as_deref())] {
                    attrs.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                    attrs.extend_from_slice(&bytes);
                }
            }
            item(&attrs);
        }
        out
    }

    pub(crate) fn decode_all(bytes: &[u8]) -> Vec<SetCookie> {
        let cookies = items(bytes);
        cookies
            .chunks_exact(3)
            .map(|c| SetCookie {
                name: String::from_utf8_lossy(&c[0]).into_owned(),
                value: from_optional(&c[1]),
                attrs: items(&c[2])
                    .chunks_exact(2)
                    .map(|a| {
                        (
                            String::from_utf8_lossy(&a[0]).into_owned(),
                            from_optional(&a[1]),
                        )
                    })
                    .collect(),
            })
            .collect()
    }
}

fn optional(value: Option<&str>) -> Vec<u8> {
    match value {
        Some(v) => [&[1u8][..], v.as_bytes()].concat(),
        None => vec![0],
    }
}

fn from_optional(item: &[u8]) -> Option<String> {
    match item.split_first() {
        Some((1, rest)) => Some(String::from_utf8_lossy(rest).into_owned()),
        _ => None,
    }
}
