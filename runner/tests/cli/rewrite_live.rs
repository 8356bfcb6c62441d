//! The rewriting options live: the same requests through Waylay and
//! through mitmdump, each given the same `--set`, make the same flows
//! (requests as the server got them, responses as the client got them).

use std::process::Command;

use crate::filters::compare;
use crate::mitmdump::Mitmdump;
use crate::origin::Origin;
use crate::support::{Proxy, path_in, scratch};

/// The requests, in order: each one what some option acts on.
fn requests(origin: &Origin) -> Vec<Vec<String>> {
    let url = |p: &str| origin.url(p);
    vec![
        vec![url("/moved")],
        vec![url("/static/app.js")],
        vec![url("/static/")],
        vec![url("/static/missing.css")],
        vec![
            "-H".into(),
            "If-None-Match: \"v1\"".into(),
            "-H".into(),
            "Accept-Encoding: gzip".into(),
            url("/nocontent"),
        ],
        vec!["--data-binary".into(), "ping".into(), url("/echo")],
        vec![url("/hello")],
    ]
}

fn curl_through(proxy: &str, args: &[String]) -> String {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", "-x", proxy])
        .args(args)
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_same_flows_as_mitmdump_live() {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let origin = Origin::start();
    let dir = scratch();
    let local = dir.path().join("static");
    std::fs::create_dir(&local).unwrap();
    std::fs::write(local.join("app.js"), "console.log('local');\n").unwrap();
    std::fs::write(local.join("index.html"), "<p>local index</p>\n").unwrap();
    let sets = [
        "map_remote=|~u /moved|/moved$|/hello".to_owned(),
        format!("map_local=|~u /static/|/static/|{}", local.display()),
        "modify_headers=|~q|X-Added|yes".into(),
        "modify_headers=|~q|User-Agent|".into(),
        "modify_headers=|~s|X-Origin-Case|".into(),
        "modify_body=|~q|ping|pong".into(),
        "modify_body=|~s & ~u /hello|origin|proxy".into(),
        "anticache=true".into(),
        "anticomp=true".into(),
    ];
    let mut args: Vec<String> = Vec::new();
    for set in &sets {
        args.extend(["--set".into(), set.clone()]);
    }
    let ours = path_in(&dir, "ours.mitm");
    let theirs = path_in(&dir, "theirs.mitm");

    let mut waylay_args: Vec<&str> = args.iter().map(String::as_str).collect();
    waylay_args.extend(["-w", &ours]);
    let proxy = Proxy::start(&waylay_args);
    let bodies: Vec<String> = requests(&origin)
        .iter()
        .map(|r| curl_through(&proxy.url(), r))
        .collect();
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    assert_eq!(
        bodies[0], "hello from proxy\n",
        "mapped to /hello, body rewritten"
    );
    assert_eq!(bodies[1], "console.log('local');\n");
    assert_eq!(bodies[2], "<p>local index</p>\n");
    assert_eq!(bodies[5], "pong");

    let confdir = dir.path().join("mitmproxy-conf");
    let mut peer_args = args.clone();
    peer_args.extend(["-w".into(), theirs.clone()]);
    let peer = Mitmdump::start(&python, &confdir, &peer_args);
    let peer_bodies: Vec<String> = requests(&origin)
        .iter()
        .map(|r| curl_through(&peer.url, r))
        .collect();
    peer.stop();
    assert_eq!(bodies, peer_bodies, "clients got the same bodies");
    assert_eq!(
        compare(&python, &["live", &ours, &theirs]).trim(),
        "ok: 7 flows"
    );
}

/// `stickycookie` and `stickyauth` live: a cookie set by one response and
/// the credentials of one request are added to later requests that lack
/// them, the same as mitmdump does.
#[test]
fn sticky_cookies_and_auth_live_as_mitmdump() {
    let Some(python) = crate::interop::peer() else {
        return;
    };
    let origin = Origin::start();
    let dir = scratch();
    let args: Vec<String> = [
        "--set",
        "stickycookie=~all",
        "--set",
        "stickyauth=~u /headers",
    ]
    .map(String::from)
    .into();
    // Without curl's obsolete `Proxy-Connection`, which mitmproxy forwards
    // and Waylay drops as the hop-by-hop field it is: the origin echoes
    // what it got, and the two should match.
    let quiet = || ["-H".to_owned(), "Proxy-Connection:".to_owned()];
    let requests = [
        [&quiet()[..], &[origin.url("/login")]].concat(),
        [
            &quiet()[..],
            &["-u".into(), "ann:secret".into(), origin.url("/headers")],
        ]
        .concat(),
        [&quiet()[..], &[origin.url("/headers")]].concat(),
    ];
    let ours = path_in(&dir, "ours.mitm");
    let theirs = path_in(&dir, "theirs.mitm");

    let mut waylay_args: Vec<&str> = args.iter().map(String::as_str).collect();
    waylay_args.extend(["-w", &ours]);
    let proxy = Proxy::start(&waylay_args);
    let heads: Vec<String> = requests
        .iter()
        .map(|r| curl_through(&proxy.url(), r))
        .collect();
    let stopped = proxy.stop();
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    let last = heads[2].to_ascii_lowercase();
    assert!(
        last.contains("cookie: session=abc=1; theme=dark"),
        "{}",
        heads[2]
    );
    assert!(
        last.contains("authorization: basic yw5uonnly3jlda=="),
        "{}",
        heads[2]
    );

    let confdir = dir.path().join("mitmproxy-conf");
    let mut peer_args = args.clone();
    peer_args.extend(["-w".into(), theirs.clone()]);
    let peer = Mitmdump::start(&python, &confdir, &peer_args);
    let peer_heads: Vec<String> = requests
        .iter()
        .map(|r| curl_through(&peer.url, r))
        .collect();
    peer.stop();
    assert_eq!(heads, peer_heads, "the origin got the same requests");
    assert_eq!(
        compare(&python, &["live", &ours, &theirs]).trim(),
        "ok: 3 flows"
    );
}
