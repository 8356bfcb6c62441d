//! Rules in the page: the rule options as rows, in effect for the next
//! request through the proxy and gone when switched off; block_list as
//! mitmdump answers it; breakpoints pausing where they say; rows that are
//! wrong refused inline; the table saved to an options file that
//! `runner --options FILE` reads, and so does mitmdump; mitmproxy's
//! config.yaml read from the confdir; the same in Chromium.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cdp::{Browser, chromium};
use crate::interop::peer;
use crate::mitmdump::Mitmdump;
use crate::offline_run::Offline;
use crate::origin::Origin;
use crate::support::{Proxy, curl, curl_via, path_in, scratch};
use crate::web::View;

fn rule(kind: &str, filter: &str, args: &[&str]) -> Value {
    json!({"on": true, "kind": kind, "filter": filter, "args": args})
}

fn put(view: &View, rules: Value) -> Value {
    let (status, body) = view.put("/api/rules", json!({ "rules": rules }));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// curl through `proxy_url`: the status code and the body.
fn fetch(proxy_url: &str, url: &str) -> (String, String) {
    let out = curl_via(proxy_url, &["-w", "\n%{http_code}", url]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.to_owned(), body.to_owned())
}

#[test]
fn rules_set_in_the_page_act_on_the_next_request_and_stop_when_off() {
    let origin = Origin::start();
    let proxy = Proxy::start(&[
        "--web",
        "--set",
        "web_port=0",
        "--set",
        "modify_headers=/~q/x-from-set/1",
    ]);
    let view = View::of(&proxy);
    let table = view.json("/api/rules");
    assert_eq!(
        table["rules"],
        json!([{"on": true, "kind": "modify_headers", "filter": "~q", "args": ["x-from-set", "1"], "error": null}])
    );
    assert_eq!(table["live"], true);
    let headers = origin.url("/headers");
    assert!(curl(&proxy, &[&headers]).contains("x-from-set: 1"));

    let mut off = rule("modify_headers", "~q", &["x-from-set", "1"]);
    off["on"] = json!(false);
    let answer = put(
        &view,
        json!([
            off,
            rule("modify_headers", "~q", &["x-rule", "on"]),
            rule("block_list", "~u /blocked", &["404"]),
            rule("block_list", "~u /closed", &["444"]),
            rule("map_remote", "", &["(unclosed", "x"]),
        ]),
    );
    let errors: Vec<&Value> = answer["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["error"])
        .collect();
    assert!(errors[..4].iter().all(|e| e.is_null()), "{answer}");
    assert!(
        errors[4]
            .as_str()
            .unwrap()
            .starts_with("map_remote \"/(unclosed/x\": "),
        "{answer}"
    );
    // The options panel lists every option with its value now.
    let options = view.json("/api/options");
    let option = |name: &str| {
        options["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {options}"))
    };
    assert_eq!(option("web_port")["now"], json!(["0"]));
    assert_eq!(option("web_port")["default"], "8081");
    assert_eq!(option("modify_headers")["now"], json!(["/~q/x-rule/on"]));
    assert_eq!(
        option("block_list")["now"],
        json!(["|~u /blocked|404", "|~u /closed|444"])
    );
    assert_eq!(option("anticache")["now"], json!([]));
    let seen = curl(&proxy, &[&headers]);
    assert!(seen.contains("x-rule: on"), "{seen}");
    assert!(!seen.contains("x-from-set"), "{seen}");
    let before = origin.connections();
    let (code, body) = fetch(&proxy.url(), &origin.url("/blocked"));
    assert_eq!((code.as_str(), body.as_str()), ("404", ""));
    let out = curl_via(&proxy.url(), &[&origin.url("/closed")]);
    assert_eq!(
        out.status.code(),
        Some(52),
        "curl: empty reply from the server"
    );
    assert_eq!(
        origin.connections(),
        before,
        "blocked requests never reach the origin"
    );

    // Switched off, the rule stops.
    put(&view, json!([]));
    let seen = curl(&proxy, &[&headers]);
    assert!(!seen.contains("x-rule"), "{seen}");
    assert_eq!(fetch(&proxy.url(), &origin.url("/blocked")).0, "404"); // the origin's own 404
    assert!(origin.connections() > before);
}

#[test]
fn breakpoints_pause_requests_only() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    let answer = put(&view, json!([rule("intercept", "~u /hello", &["request"])]));
    assert!(answer["rules"][0]["error"].is_null(), "{answer}");
    assert_eq!(
        view.json("/api/intercept")["filter"],
        "( ~q & ( ~u /hello ) )"
    );
    let url = origin.url("/hello");
    let proxy_url = proxy.url();
    let client = std::thread::spawn(move || fetch(&proxy_url, &url));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = view.json("/api/intercepted");
        if let Some(flow) = waiting["flows"].as_array().and_then(|f| f.first()) {
            assert_eq!(flow["event"], "request");
            break;
        }
        assert!(Instant::now() < deadline, "the request did not pause");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = view.post("/api/intercepted/resume-all", None);
    assert!((200..300).contains(&status), "{status} {body}");
    // Its response does not pause: the client gets it.
    assert_eq!(client.join().unwrap().0, "200");
    // The Intercept box replaces the breakpoints with its filter.
    assert_eq!(
        view.post("/api/intercept", Some(json!({"filter": "~d nowhere"})))
            .0,
        204
    );
    let table = view.json("/api/rules");
    assert_eq!(
        table["rules"],
        json!([{"on": true, "kind": "intercept", "filter": "~d nowhere", "args": ["both"], "error": null}])
    );
}

#[test]
fn saved_rules_are_read_by_options_file_and_by_mitmdump() {
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    put(
        &view,
        json!([
            rule("modify_headers", "~q", &["x-saved", "yes"]),
            rule("block_list", "~u /blocked", &["418"]),
        ]),
    );
    let dir = scratch();
    let file = path_in(&dir, "rules/config.yaml");
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::write(&file, "anticache: true\n").unwrap();
    let (status, body) = view.post("/api/rules/save", Some(json!({"path": file})));
    assert_eq!(status, 200, "{body}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("anticache: true"), "{text}");
    assert!(text.contains("modify_headers:"), "{text}");
    assert!(text.contains("block_list:"), "{text}");
    drop(view);
    drop(proxy);

    // runner --options FILE.
    let again = Proxy::start(&["--options", &file]);
    assert!(curl(&again, &[&origin.url("/headers")]).contains("x-saved: yes"));
    assert_eq!(fetch(&again.url(), &origin.url("/blocked")).0, "418");

    // mitmdump reads the same file as its config.yaml, and answers the
    // block rule as Waylay does (an empty body).
    let Some(python) = peer() else { return };
    let confdir = scratch();
    std::fs::copy(&file, confdir.path().join("config.yaml")).unwrap();
    let mitmdump = Mitmdump::start(&python, confdir.path(), &[]);
    assert!(
        String::from_utf8_lossy(&curl_via(&mitmdump.url, &[&origin.url("/headers")]).stdout)
            .contains("x-saved: yes")
    );
    assert_eq!(
        fetch(&mitmdump.url, &origin.url("/blocked")),
        fetch(&again.url(), &origin.url("/blocked"))
    );
    mitmdump.stop();
}

#[test]
fn mitmproxys_config_yaml_is_read_and_the_command_line_wins() {
    let origin = Origin::start();
    let confdir = scratch();
    std::fs::write(
        confdir.path().join("config.yaml"),
        "block_list:\n  - /~u nope/403\n  - /~u other/410\nmodify_headers: [\"/~q/x-file/1\"]\n",
    )
    .unwrap();
    let conf = confdir.path().to_str().unwrap();
    let proxy = Proxy::start(&["--confdir", conf, "--set", "block_list=/~u other/451"]);
    assert_eq!(fetch(&proxy.url(), &origin.url("/other")).0, "451");
    // The file's block_list is replaced, not added to.
    assert_eq!(fetch(&proxy.url(), &origin.url("/nope")).0, "404");
    assert!(curl(&proxy, &[&origin.url("/headers")]).contains("x-file: 1"));

    // A file that is not options: one line, naming it.
    let bad = path_in(&confdir, "bad.yaml");
    std::fs::write(&bad, "- just\n- a list\n").unwrap();
    let missing = path_in(&confdir, "missing.yaml");
    let not_a_mapping = format!(
        "runner: error: {bad}: expected a mapping of option names to values (`anticache: true`), as mitmproxy's config.yaml"
    );
    let unreadable = format!("runner: error: --options {missing}: cannot read the options file");
    // (arguments, the error line, how the line must hold it: whole, at
    // its start (the OS's words follow), or after the prefix)
    type Holds = fn(&str, &str) -> bool;
    let whole: Holds = |said, line| said == line;
    let starts: Holds = |said, line| said.starts_with(line);
    let after_prefix: Holds =
        |said, line| said.starts_with("runner: error: ") && said.contains(line);
    for (args, line, holds) in [
        (["--options", bad.as_str()], not_a_mapping.as_str(), whole),
        (["--options", missing.as_str()], unreadable.as_str(), starts),
        (
            ["--set", "block_list=/~all/teapot"],
            "block_list \"/~all/teapot\": \"teapot\" is not an HTTP status",
            after_prefix,
        ),
    ] {
        let result = Offline::new().args(&args).run();
        assert_eq!(result.code, 1, "{args:?}: {}", result.stderr);
        let said = result.error_line();
        assert!(holds(said, line), "{args:?}: {said}");
    }
}

#[test]
fn a_rule_added_in_the_page_changes_the_next_request_until_switched_off() {
    let Some(chromium) = chromium() else { return };
    let origin = Origin::start();
    let proxy = Proxy::start(&["--web", "--set", "web_port=0"]);
    let view = View::of(&proxy);
    let mut browser = Browser::start(chromium, "a_rule_added_in_the_page");
    browser.goto(&view.url());
    browser.wait_for(
        "document.querySelector('#counts')?.textContent.includes('flows')",
        "the page is up",
    );
    browser.eval("document.querySelector('#rules-open').click()");
    browser.wait_for(
        "document.querySelector('#rules-add')",
        "the rules pane opens",
    );
    browser.eval("document.querySelector('#rules-add').click()");
    browser.wait_for(
        "document.querySelector('#rules-rows tr.rule .rule-kind')?.value === 'modify_headers'",
        "a modify_headers row is added",
    );
    browser.eval(
        "(() => { const tr = document.querySelector('#rules-rows tr.rule'); \
         tr.querySelector('.rule-filter').value = '~q'; \
         const [name, value] = tr.querySelectorAll('.rule-arg'); name.value = 'x-page'; value.value = 'on'; \
         value.dispatchEvent(new Event('change')); })()",
    );
    let rules_are = |want: Value| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let rules = view.json("/api/rules")["rules"].clone();
            if rules == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the rules are {rules}, not {want}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut row = json!({"on": true, "kind": "modify_headers", "filter": "~q", "args": ["x-page", "on"], "error": null});
    rules_are(json!([row.clone()]));
    let headers = origin.url("/headers");
    assert!(curl(&proxy, &[&headers]).contains("x-page: on"));
    browser.eval("document.querySelector('#rules-rows tr.rule .rule-on').click()");
    row["on"] = json!(false);
    rules_are(json!([row]));
    assert!(!curl(&proxy, &[&headers]).contains("x-page"));
}

#[test]
fn a_rule_change_fires_configure_with_the_options_that_changed() {
    let proxy = Proxy::start(&[
        "--web",
        "--set",
        "web_port=0",
        "-s",
        "runner/tests/fixtures/events",
    ]);
    let view = View::of(&proxy);
    // The fixture logs `configure` when every option is named (at start),
    // and `configure (options missing)` for a change that names some.
    let configures = || {
        proxy
            .lines()
            .into_iter()
            .filter(|l| l.contains("EVENT configure"))
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while configures().is_empty() {
        assert!(Instant::now() < deadline, "no configure at start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rules = json!([rule("modify_headers", "~q", &["x-rule", "on"])]);
    put(&view, rules.clone());
    while configures().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "no configure after the change: {:?}",
            configures()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = configures();
    assert!(seen[0].ends_with("EVENT configure"), "{seen:?}");
    assert!(
        seen[1].ends_with("EVENT configure (options missing)"),
        "{seen:?}"
    );
    // The same table again changes nothing: no configure.
    put(&view, rules);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(configures().len(), 2, "{:?}", configures());
}
