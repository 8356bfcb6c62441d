//! Rows to option values and back, separators, errors per row, and
//! breakpoints as one intercept filter.

use serde_json::json;

use super::*;
use crate::flowfile::FlowReader;
use crate::test_support::golden;

fn rule(kind: Kind, filter: &str, args: &[&str]) -> Rule {
    Rule {
        on: true,
        kind,
        filter: filter.into(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    }
}

#[test]
fn rows_become_the_values_set_would_give_and_read_back() {
    let table = Table {
        rules: vec![
            rule(Kind::MapRemote, "", &["example.com", "example.org"]),
            rule(Kind::MapRemote, "~u /api/", &["example.com", "x/y"]),
            rule(Kind::ModifyHeaders, "~q", &["x-rule", "on"]),
            rule(Kind::ModifyBody, "~s", &["foo", "bar"]),
            rule(Kind::BlockList, "~d ads.example", &["404"]),
            rule(Kind::BlockList, "", &["444"]),
            rule(Kind::MapLocal, "", &["example.com/static", "/tmp"]),
        ],
    };
    let applied = table.options();
    assert!(
        applied.errors.iter().all(Option::is_none),
        "{:?}",
        applied.errors
    );
    let o = &applied.options;
    assert_eq!(
        o.map_remote,
        ["/example.com/example.org", "|~u /api/|example.com|x/y"]
    );
    assert_eq!(o.modify_headers, ["/~q/x-rule/on"]);
    assert_eq!(o.modify_body, ["/~s/foo/bar"]);
    assert_eq!(o.block_list, ["/~d ads.example/404", "/~all/444"]);
    assert_eq!(o.map_local, ["|example.com/static|/tmp"]);
    assert!(applied.intercept.is_none());
    // Read back, the values give the same rows (a block rule without a
    // filter reads as ~all).
    let back = Table::from_options(o, None);
    let mut want = table.rules.clone();
    want.sort_by_key(|r| KINDS.iter().position(|k| *k == r.kind));
    want.iter_mut()
        .filter(|r| r.kind == Kind::BlockList && r.filter.is_empty())
        .for_each(|r| r.filter = "~all".into());
    assert_eq!(back.rules, want);
    // And through the page's JSON.
    let json = back.json(&back.options());
    assert_eq!(Table::from_json(&json).unwrap(), back);
}

#[test]
fn rows_that_are_off_or_wrong_do_not_apply_and_say_why() {
    let mut off = rule(Kind::ModifyHeaders, "", &["x-off", "1"]);
    off.on = false;
    let table = Table {
        rules: vec![
            off,
            rule(Kind::MapRemote, "", &["(unclosed", "x"]),
            rule(Kind::BlockList, "~d x", &["teapot"]),
            rule(Kind::ModifyHeaders, "~q ~", &["x", "1"]),
            rule(Kind::Intercept, "~d x", &["sometimes"]),
            rule(Kind::ModifyHeaders, "", &["x-on", "1"]),
        ],
    };
    let applied = table.options();
    assert_eq!(applied.options.modify_headers, ["/x-on/1"]);
    assert!(applied.options.map_remote.is_empty());
    assert!(applied.options.block_list.is_empty());
    let errors: Vec<String> = applied
        .errors
        .iter()
        .map(|e| e.clone().unwrap_or_default())
        .collect();
    assert_eq!(errors[0], "");
    assert!(
        errors[1].starts_with("map_remote \"/(unclosed/x\": "),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("\"teapot\" is not an HTTP status"),
        "{}",
        errors[2]
    );
    assert!(errors[3].contains("its filter part"), "{}", errors[3]);
    assert!(
        errors[4].contains("a breakpoint is on request, response or both"),
        "{}",
        errors[4]
    );
    assert_eq!(errors[5], "");
    assert!(errors.iter().all(|e| !e.contains('\n')));
}

#[test]
fn breakpoints_pause_where_they_say() {
    let flows: Vec<crate::Flow> = FlowReader::new(&golden("get.mitm")[..])
        .map(Result::unwrap)
        .collect();
    let answered = flows[0].clone();
    let mut asked = answered.clone();
    asked
        .dict_mut()
        .insert("response", crate::tnetstring::Value::Null);
    for (phase, at_request, at_response) in [
        ("request", true, false),
        ("response", false, true),
        ("both", true, true),
    ] {
        let table = Table {
            rules: vec![rule(Kind::Intercept, "~u hello", &[phase])],
        };
        let intercept = table.options().intercept.unwrap();
        assert_eq!(intercept.matches(&asked), at_request, "{phase}");
        assert_eq!(intercept.matches(&answered), at_response, "{phase}");
    }
    let table = Table {
        rules: vec![
            rule(Kind::Intercept, "~d nowhere", &["both"]),
            rule(Kind::Intercept, "", &["request"]),
        ],
    };
    let applied = table.options();
    assert_eq!(
        applied.intercept.as_ref().unwrap().expression(),
        "( ~d nowhere ) | ( ~q & ( ~all ) )"
    );
    assert_eq!(
        applied.values().last().unwrap(),
        &(
            "intercept",
            vec!["( ~d nowhere ) | ( ~q & ( ~all ) )".to_owned()]
        )
    );
}

#[test]
fn bad_tables_are_refused_naming_the_row() {
    for (body, says) in [
        (json!({}), "expected {\"rules\""),
        (
            json!({"rules": [{"kind": "map_nowhere", "args": []}]}),
            "rule 1: kind \"map_nowhere\": expected one of",
        ),
        (
            json!({"rules": [{"kind": "block_list", "args": ["1", "2"]}]}),
            "rule 1: args: block_list expects 1",
        ),
        (
            json!({"rules": [{"kind": "block_list", "args": "404"}]}),
            "rule 1: args: expected a list",
        ),
        (
            json!({"rules": [{"kind": "block_list", "filter": 3, "args": ["404"]}]}),
            "rule 1: filter: expected text",
        ),
    ] {
        let why = Table::from_json(&body).unwrap_err();
        assert!(
            matches!(why, Invalid::At { .. } | Invalid::Whole(_)),
            "{why:?}"
        );
        let why = why.to_string();
        assert!(why.contains(says), "{body}: {why}");
    }
}
