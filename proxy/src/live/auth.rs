//! `--proxyauth user:pass`: Basic credentials in Proxy-Authorization,
//! compared in constant time.

/// The Proxy-Authorization value a client must send for `user_pass`.
pub fn expected(user_pass: &str) -> String {
    format!("Basic {}", base64(user_pass.as_bytes()))
}

/// Whether `given` matches `expected`, without an early exit that would
/// leak how much of it matched.
pub fn matches(expected: &str, given: Option<&[u8]>) -> bool {
    let given = given.unwrap_or_default();
    let expected = expected.as_bytes();
    let mut diff = u8::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_is_compared() {
        let want = expected("user:pass");
        assert!(matches(&want, Some(want.as_bytes())));
        for given in [
            &b""[..],
            b"Basic dXNlcjpwYXNz ",
            b"Basic dXNlcjpwYXN",
            b"Xasic dXNlcjpwYXNz",
            b"Basic dXNlcjpwYXNa",
        ] {
            assert!(!matches(&want, Some(given)), "{given:?}");
        }
        assert!(!matches(&want, None));
    }

    #[test]
    fn basic_credentials() {
        assert_eq!(expected("user:pass"), "Basic dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert!(matches("Basic dXNlcjpwYXNz", Some(b"Basic dXNlcjpwYXNz")));
        assert!(!matches("Basic dXNlcjpwYXNz", Some(b"Basic dXNlcjpwYXN")));
        assert!(!matches("Basic dXNlcjpwYXNz", None));
    }
}
