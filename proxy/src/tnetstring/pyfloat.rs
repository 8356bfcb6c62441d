//! Floats written the way Python's `repr` writes them, so that a float read
//! from a mitmproxy file is written back byte for byte.
//!
//! Python and `ryu` both give the shortest digits that round-trip, the
//! closest to the exact value (a tie to even); they differ only in layout.
//! Python uses positional notation for decimal exponents from -4 to 15
//! (`1795477162.8247561`, `5.0`, `0.0001`) and scientific notation
//! otherwise (`1e+16`, `1.5e-05`).

/// Appends the `repr` of `f`.
pub(super) fn write(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    let mut buf = ryu::Buffer::new();
    let shortest = buf.format_finite(f).as_bytes();
    if (1.0..1e16).contains(&f.abs()) {
        // ryu writes these as Python does: the digits, the point where it
        // falls (`.0` after a whole number), no exponent. Timestamps are.
        out.extend_from_slice(shortest);
        return;
    }
    let (negative, shortest) = match shortest.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, shortest),
    };
    // ryu writes `ddd.ddd` or `d.ddde[-]x`: take the digits, where the
    // point was, and the exponent.
    let (mantissa, exp10) = match shortest.iter().position(|&b| b == b'e') {
        Some(e) => (&shortest[..e], small_int(&shortest[e + 1..])),
        None => (shortest, 0),
    };
    let mut all = [0u8; 32];
    let mut n = 0;
    let mut before_point = None;
    for &b in mantissa {
        if b == b'.' {
            before_point = Some(n);
        } else if n < all.len() {
            all[n] = b;
            n += 1;
        }
    }
    let before_point = before_point.unwrap_or(n) as i32;
    let lead = all[..n].iter().take_while(|&&d| d == b'0').count();
    let digits = &all[lead..n];
    let trail = digits.iter().rev().take_while(|&&d| d == b'0').count();
    let digits = &digits[..digits.len() - trail];
    if negative {
        out.push(b'-');
    }
    if digits.is_empty() {
        out.extend_from_slice(b"0.0");
        return;
    }
    // The decimal exponent of the first significant digit.
    let exp = exp10 + before_point - 1 - lead as i32;
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-point) as usize));
            out.extend_from_slice(digits);
        } else if point as usize >= digits.len() {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', point as usize - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..point as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[point as usize..]);
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let abs = exp.unsigned_abs();
        if abs >= 100 {
            out.push(b'0' + (abs / 100) as u8);
        }
        out.push(b'0' + (abs / 10 % 10) as u8);
        out.push(b'0' + (abs % 10) as u8);
    }
}

/// The exponent ryu wrote (`-7`, `16`, `308`).
fn small_int(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .fold(0i32, |v, &d| v * 10 + i32::from(d.wrapping_sub(b'0')));
    if negative { -value } else { value }
}

#[cfg(test)]
mod tests {
    fn repr(f: f64) -> String {
        let mut out = Vec::new();
        super::write(f, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_python_repr() {
        // Expected values are what CPython 3.11 prints for repr(f).
        let cases: &[(f64, &str)] = &[
            (1795477162.8247561, "1795477162.8247561"),
            (1795477162.814858, "1795477162.814858"),
            (5.0, "5.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e20, "1.2345e+20"),
            (-2.5, "-2.5"),
            (123456789012345.6, "123456789012345.6"),
            (1e100, "1e+100"),
            // 1.45816802978515625 exactly: a tie at 17 digits, to even.
            (191_125.0 / 131_072.0, "1.4581680297851562"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for &(f, want) in cases {
            assert_eq!(repr(f), want, "repr({f:?})");
        }
    }

    /// Agrees with CPython on 4,007 doubles: random bit patterns,
    /// timestamps, short decimals and ties (`789047698662240.25` is
    /// `789047698662240.2`: the standard library's shortest mode, which
    /// this module used before, rounds that tie up).
    #[test]
    fn agrees_with_python_on_many_floats() {
        let cases = include_str!("pyfloat_cases.txt");
        let mut checked = 0;
        for line in cases.lines().filter(|l| !l.starts_with('#')) {
            let (bits, want) = line.split_once(' ').unwrap();
            let f = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
            assert_eq!(repr(f), want, "repr of the double with bits {bits}");
            checked += 1;
        }
        assert_eq!(checked, 4007);
    }
}
