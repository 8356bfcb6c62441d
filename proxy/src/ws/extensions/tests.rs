//! `agreed_deflate`: the fields a 101 response may carry, and the
//! malformed ones it refuses.

use super::*;

#[test]
fn agreed_deflate_reads_the_response_fields() {
    let d = Deflate::default;
    let cases: Vec<(&[&str], Option<Deflate>)> = vec![
        (&[], None),
        (&["x-webkit-deflate-frame"], None),
        (&["permessage-deflate"], Some(d())),
        (&["PerMessage-Deflate"], Some(d())),
        (
            &["permessage-deflate; client_max_window_bits=10; server_no_context_takeover"],
            Some(Deflate {
                client_max_window_bits: 10,
                server_no_context_takeover: true,
                ..d()
            }),
        ),
        (
            &[
                "foo; bar=\"a,b;c\", permessage-deflate;server_max_window_bits=\"9\" ;client_no_context_takeover",
            ],
            Some(Deflate {
                server_max_window_bits: 9,
                client_no_context_takeover: true,
                ..d()
            }),
        ),
        (
            &[
                "foo",
                "",
                " , permessage-deflate ; client_max_window_bits = 15",
                "bar",
            ],
            Some(d()),
        ),
        (
            &["permessage-deflate; server_max_window_bits=8; client_max_window_bits=\"1\\5\""],
            Some(Deflate {
                server_max_window_bits: 8,
                ..d()
            }),
        ),
    ];
    for (values, expected) in cases {
        assert_eq!(
            agreed_deflate(values.iter().map(|v| v.as_bytes())).unwrap(),
            expected,
            "{values:?}"
        );
    }
}

#[test]
fn agreed_deflate_refuses_malformed_parameters() {
    let cases: Vec<(&[&str], &str)> = vec![
        (
            &["permessage-deflate, permessage-deflate"],
            "more than once",
        ),
        (
            &["permessage-deflate", "permessage-deflate"],
            "more than once",
        ),
        (
            &["permessage-deflate; server_max_window_bits=16"],
            "8 to 15",
        ),
        (&["permessage-deflate; server_max_window_bits=7"], "8 to 15"),
        (
            &["permessage-deflate; server_max_window_bits=010"],
            "8 to 15",
        ),
        (
            &["permessage-deflate; server_max_window_bits=\"\""],
            "8 to 15",
        ),
        (
            &["permessage-deflate; server_max_window_bits=\"10"],
            "not closed",
        ),
        (
            &["permessage-deflate; client_max_window_bits"],
            "has no value",
        ),
        (
            &["permessage-deflate; server_no_context_takeover=1"],
            "takes no value",
        ),
        (
            &["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            "given twice",
        ),
        (
            &["permessage-deflate; mystery"],
            "unknown parameter \"mystery\"",
        ),
        (&["permessage-deflate;"], "stray"),
    ];
    for (values, words) in cases {
        let e = agreed_deflate(values.iter().map(|v| v.as_bytes())).unwrap_err();
        assert!(
            e.to_string().contains(words) && e.close_code() == 1002,
            "{values:?}: {e}"
        );
    }
}
