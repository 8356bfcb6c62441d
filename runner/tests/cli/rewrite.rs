//! The rewriting options offline: each against mitmdump given the same
//! `--set` over the same flows (the same flows out), in mitmproxy's order
//! around a script, and the one line each malformed spec gets.

use std::process::Command;

use crate::filters::compare;
use crate::offline_run::Offline;
use crate::support::{golden, path_in, run, scratch, write_crate};

fn file(name: &str) -> String {
    golden(name).to_string_lossy().into_owned()
}

/// What a script does in `request`, in Rust and in Python: the header
/// values it sets are what the addons around it would change.
const ORDER_SCRIPT: &str = r#"
use waylay_sdk::{Context, Flow, Script};

#[derive(Default)]
pub struct Order;

impl Script for Order {
    fn request(&mut self, _ctx: &Context, flow: &mut Flow) {
        let headers = flow.request_mut().headers_mut();
        headers.set("accept-encoding", "br");
        headers.set("cookie", "from=script");
    }
}

waylay_sdk::export_script!(Order);
"#;

const ORDER_PY: &str = "def request(flow):\n    flow.request.headers[\"accept-encoding\"] = \"br\"\n    flow.request.headers[\"cookie\"] = \"from=script\"\n";

/// Each option, alone and together, over the browsing session and the
/// filter flows: mitmdump and Waylay write the same flows.
#[test]
fn the_same_flows_as_mitmdump() {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let mitmdump = python.with_file_name("mitmdump");
    let dir = scratch();
    let local = dir.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let local_spec = format!("map_local=|~q|/path|{}", local.display());
    let cases: Vec<Vec<String>> = vec![
        vec!["anticache=true".into()],
        vec!["anticomp=true".into()],
        vec!["stickycookie=~d shop.example".into()],
        vec!["stickycookie=~all".into()],
        vec!["stickyauth=~d shop".into()],
        vec![
            "anticache=true".into(),
            "anticomp=true".into(),
            "stickycookie=~q".into(),
            "stickyauth=~all".into(),
        ],
        // Not live: mitmproxy leaves flows read from a file alone.
        vec![
            "map_remote=|example|elsewhere".into(),
            local_spec,
            "modify_headers=|~q|X-A|b".into(),
            "modify_body=|~s|message|changed".into(),
        ],
    ];
    for (i, sets) in cases.iter().enumerate() {
        for input in ["sticky.mitm", "filters.mitm"] {
            let ours = path_in(&dir, &format!("ours-{i}-{input}"));
            let theirs = path_in(&dir, &format!("theirs-{i}-{input}"));
            let input = file(input);
            let mut args = vec![
                "-n".to_owned(),
                "-q".into(),
                "-r".into(),
                input.clone(),
                "-w".into(),
                ours.clone(),
            ];
            let mut peer_args = vec![
                "-q".to_owned(),
                "-n".into(),
                "-r".into(),
                input,
                "-w".into(),
                theirs.clone(),
            ];
            for set in sets {
                args.extend(["--set".into(), set.clone()]);
                peer_args.extend(["--set".into(), set.clone()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let result = run(&args);
            assert_eq!(result.code, 0, "{sets:?}: {}", result.stderr);
            let status = Command::new(&mitmdump).args(&peer_args).status().unwrap();
            assert!(status.success(), "mitmdump {peer_args:?}");
            let said = compare(&python, &["same-set", &ours, &theirs]);
            assert!(said.starts_with("ok: "), "{said}");
        }
    }
}

/// `anticomp` runs before scripts and `stickycookie` after them, as in
/// mitmproxy: the script's Accept-Encoding stays, its Cookie is replaced.
#[test]
fn addons_run_around_scripts_as_in_mitmproxy() {
    let dir = scratch();
    write_crate(
        dir.path(),
        &[
            (
                "Cargo.toml",
                &crate::support::manifest("order_probe", "\"cdylib\"", true),
            ),
            ("src/lib.rs", ORDER_SCRIPT),
        ],
    );
    let krate = dir.path().to_string_lossy().into_owned();
    let sets = [
        "--set",
        "anticomp=true",
        "--set",
        "stickycookie=~d shop.example",
    ];
    let input = file("sticky.mitm");
    let ran = Offline::read(&input)
        .args(&["-q"])
        .script(&krate)
        .write()
        .args(&sets)
        .run()
        .ok();
    let flows = ran.written();
    let header = |i: usize, name: &str| {
        let req = flows[i].request().unwrap();
        waylay_proxy::http::header(req, name).map(|v| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(header(1, "accept-encoding").as_deref(), Some("br"));
    assert_eq!(
        header(1, "cookie").as_deref(),
        Some("sid=one; pref=\"a b\"")
    );
    assert_eq!(header(2, "cookie").as_deref(), Some("from=script"));
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let script = dir.path().join("order.py");
    std::fs::write(&script, ORDER_PY).unwrap();
    let theirs = path_in(&dir, "theirs.mitm");
    let status = Command::new(python.with_file_name("mitmdump"))
        .args(["-q", "-n", "-r", &input, "-s"])
        .arg(&script)
        .args(["-w", &theirs])
        .args(sets)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        compare(&python, &["same-set", ran.out(), &theirs]).trim(),
        "ok: 10 flows"
    );
}

/// mitmdump's own flags set the same options.
#[test]
fn mitmdump_flags_set_the_options() {
    let flows = Offline::golden("sticky.mitm")
        .args(&["-q"])
        .write()
        .args(&["--anticomp", "--stickyauth", "~all"])
        .run()
        .ok()
        .written();
    let req = flows[5].request().unwrap();
    assert_eq!(
        waylay_proxy::http::header(req, "accept-encoding"),
        Some(&b"identity"[..])
    );
    assert_eq!(
        waylay_proxy::http::header(req, "authorization"),
        Some(&b"Basic dXNlcjpwYXNz"[..])
    );
}

/// A malformed spec stops start-up with one line naming the option and
/// the broken part.
#[test]
fn malformed_specs_get_one_line_each() {
    for (args, want) in [
        (
            vec!["--set", "map_remote=|only-one"],
            r#"runner: error: map_remote "|only-one": 1 part(s) where 2 or 3 are expected; the form is [/filter]/url-regex/replacement, split on its first character"#,
        ),
        (
            vec!["-M", "|~q ~x|a|b"],
            r#"runner: error: map_remote "|~q ~x|a|b": its filter part: filter "~q ~x": unknown filter ~x at position 3 ("~x"); the filters are ~a ~all ~b ~bq ~bs ~c ~comment ~d ~dns ~dst ~e ~h ~hq ~hs ~http ~m ~marked ~marker ~meta ~q ~replay ~replayq ~replays ~s ~src ~t ~tcp ~tq ~ts ~u ~udp ~websocket"#,
        ),
        (
            vec!["--set", "map_remote=|(x|y"],
            r#"runner: error: map_remote "|(x|y": the URL regex "(x" does not compile: missing ), unterminated subpattern"#,
        ),
        (
            vec!["--set", r"map_remote=|(x)|\2"],
            r#"runner: error: map_remote "|(x)|\\2": the replacement "\\2" is not a valid re.sub template: invalid group reference 2"#,
        ),
        (
            vec!["--map-local", "|x|/no/such/place"],
            r#"runner: error: map_local "|x|/no/such/place": the path "/no/such/place" cannot be used: No such file or directory (os error 2); give an existing file or directory"#,
        ),
        (
            vec!["-H", "|x|@/no/such/file"],
            r#"runner: error: modify_headers "|x|@/no/such/file": cannot read the value file /no/such/file: No such file or directory (os error 2)"#,
        ),
        (
            vec!["--set", r"modify_headers=|X-A|\x"],
            r#"runner: error: modify_headers "|X-A|\\x": the value "\\x" is not a valid escaped string: invalid \x escape at position 0"#,
        ),
        (
            vec!["-B", "|*|x"],
            r#"runner: error: modify_body "|*|x": the regex "*" does not compile: repetition operator missing expression"#,
        ),
        (
            vec!["--set", r"modify_body=|a|\q"],
            r#"runner: error: modify_body "|a|\\q": the replacement "\\q" is not a valid re.sub template: bad escape \q"#,
        ),
        (
            vec!["--set", "stickycookie=~c"],
            r#"runner: error: stickycookie "~c": not a valid filter: ~c needs a status code (digits) at position 2 (the end); write ~c 404"#,
        ),
        (
            vec!["--stickyauth", "(~q"],
            r#"runner: error: stickyauth "(~q": not a valid filter: expected ")" at position 3 (the end) to close the "(" at position 0; add it (inside parentheses, join terms with & or |)"#,
        ),
        (
            vec!["--set", "anticache=yes"],
            "runner: error: --set anticache=yes: expected true or false (or no value, for true)",
        ),
    ] {
        let ran = Offline::new().args(&args).run().fails(want);
        assert_eq!(ran.runner_lines().len(), 1, "one line: {}", ran.stderr);
    }
}
