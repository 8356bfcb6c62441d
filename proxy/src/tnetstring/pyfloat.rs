//! Floats written the way Python's `repr` writes them, so that a float read
//! from a mitmproxy file is written back byte for byte.
//!
//! Rust and Python both print the shortest digits that round-trip; they
//! differ only in layout. Python uses positional notation for decimal
//! exponents from -4 to 15 (`1795477162.8247561`, `5.0`, `0.0001`) and
//! scientific notation otherwise (`1e+16`, `1.5e-05`).

use std::io::Write as _;

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
    // `{:e}` gives the shortest round-trip digits as `d.ddde[-]x`.
    let mut sci = [0u8; 40];
    let mut cursor = std::io::Cursor::new(&mut sci[..]);
    let _ = write!(cursor, "{f:e}");
    let mut n = cursor.position() as usize;
    // When 17 digits are needed, two candidates can tie: Rust's shortest
    // mode rounds the tie up, Python's repr to even, as Rust's exact mode
    // does (1.45816802978515625 is `1.4581680297851562`).
    let mantissa = cursor.get_ref()[..n].iter().take_while(|&&b| b != b'e');
    if mantissa.filter(|b| b.is_ascii_digit()).count() == 17 {
        cursor.set_position(0);
        let _ = write!(cursor, "{f:.16e}");
        n = cursor.position() as usize;
    }
    let sci = &sci[..n];
    let (negative, sci) = match sci.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, sci),
    };
    let e = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let exp: i32 = std::str::from_utf8(&sci[e + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut nd = 0;
    for &b in &sci[..e] {
        if b.is_ascii_digit() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let digits = &digits[..nd];
    if negative {
        out.push(b'-');
    }
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
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
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
}
