//! Script accessors through the real boundary (issue 13): `cargo bench -p
//! waylay-proxy --bench accessors` (run by `cargo xtask bench accessors`).
//!
//! Builds `proxy/benches/accessors-script` as the runner would and loads
//! it once per accessor, with the accessor's name as argv, so that each
//! `request` or `response` hook makes exactly one call: `query()` on a
//! 20-parameter URL, `set_url()` (on two URLs in turn, so every call
//! changes the flow), `text()` on a 100 KB UTF-8 body. Each is timed as
//! `Scripts::flow_event` on the same flow and event with the script loaded
//! without argv (the hook overridden but empty); the difference is the
//! accessor's own cost. The bare crossing (an event the script does not
//! override) is printed too, for scale.
//!
//! Lines starting `net ` are what the xtask reads.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use waylay_proxy::Flow;
use waylay_proxy::http::{Which, set_header};
use waylay_proxy::script::build::{BuildOptions, build};
use waylay_proxy::script::{Event, Level, LogSink, Script, Scripts};
use waylay_proxy::testing::read_flows;
use waylay_proxy::tnetstring::Value;

mod best_of;

/// Keeps quiet but counts errors (a hook that panicked, say), so that a
/// case that did not run as meant fails the bench instead of timing it.
struct Quiet;

static ERRORS: AtomicUsize = AtomicUsize::new(0);

impl LogSink for Quiet {
    fn log(&self, script: &str, level: Level, message: &str) {
        if matches!(level, Level::Error) && ERRORS.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!("{script}: {message}");
        }
    }
}

/// About 100 KB (102,400 bytes) of UTF-8 text, one line in four with
/// non-ASCII characters.
fn body() -> Vec<u8> {
    const SIZE: usize = 100 * 1024;
    let lines = [
        "The quick brown fox jumps over the lazy dog, again and again.\n",
        "Grüße aus Köln: café, naïve, façade, smörgåsbord — 日本語のテキスト ✓\n",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.\n",
        "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n",
    ];
    let mut text = String::with_capacity(SIZE + 128);
    for line in lines.iter().cycle() {
        if text.len() + line.len() > SIZE {
            break;
        }
        text.push_str(line);
    }
    while text.len() < SIZE {
        text.push('.');
    }
    text.into_bytes()
}

fn scripts(library: &Path, argv: &[&str]) -> Scripts {
    let mut scripts = Scripts::new(Arc::new(Quiet));
    let argv = argv.iter().map(|a| (*a).to_owned()).collect();
    scripts.push(Script::load(library, "accessors", argv, &Quiet).expect("loads"));
    scripts.start();
    scripts
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let options = BuildOptions {
        // Inside the workspace: its `[patch]` pins the SDK.
        sdk_dir: None,
        proxy_dir: None,
        quiet: true,
        lines: None,
    };
    let library = build(&root.join("proxy/benches/accessors-script"), &options)
        .expect("proxy/benches/accessors-script builds");

    let template = read_flows(root.join("testdata/flows/get.mitm")).remove(0);
    let mut flow: Flow = template.clone();
    let query: Vec<String> = (0..20).map(|i| format!("p{i}=v{i}")).collect();
    let path = format!("/search?{}", query.join("&"));
    let request = flow.message_mut(Which::Request).expect("a request");
    request.insert("path", Value::bytes(path.as_bytes()));
    let response = flow.message_mut(Which::Response).expect("a response");
    let body = body();
    response.insert("content", Value::bytes(&body));
    set_header(response, b"content-type", b"text/plain; charset=utf-8");
    set_header(
        response,
        b"content-length",
        body.len().to_string().as_bytes(),
    );
    let template = flow;
    println!(
        "request path: {path} ({} parameters); response body: {} bytes of UTF-8",
        query.len(),
        body.len()
    );

    let empty = scripts(&library, &[]);
    let mut flow = template.clone();
    best_of::time(
        "bare crossing: an event the script does not override (request_headers)",
        "event",
        2_000_000,
        || {
            black_box(empty.flow_event(Event::RequestHeaders, black_box(&mut flow), false));
        },
    );

    let cases: [(&str, &str, Event, u32); 3] = [
        (
            "query",
            "query() on the 20-parameter URL",
            Event::Request,
            200_000,
        ),
        (
            "set_url",
            "set_url() (two URLs in turn)",
            Event::Request,
            200_000,
        ),
        (
            "text",
            "text() on the 100 KB UTF-8 body",
            Event::Response,
            2_000,
        ),
    ];
    for (arg, what, event, iterations) in cases {
        let with = scripts(&library, &[arg]);
        let mut flow = template.clone();
        let base = best_of::time(
            &format!("{event:?} hook, overridden but empty"),
            "event",
            iterations,
            || {
                black_box(empty.flow_event(event, black_box(&mut flow), false));
            },
        );
        let mut flow = template.clone();
        let hook = best_of::time(
            &format!("{event:?} hook calling {what}"),
            "event",
            iterations,
            || {
                black_box(with.flow_event(event, black_box(&mut flow), false));
            },
        );
        assert_eq!(
            ERRORS.load(Ordering::Relaxed),
            0,
            "{what}: the script logged errors"
        );
        if arg == "set_url" {
            let host = flow.message(Which::Request).and_then(|r| r.get("host"));
            assert_eq!(
                host.and_then(Value::as_bytes),
                Some(&b"example.org"[..]),
                "set_url() changed the flow"
            );
        }
        println!("net {arg}: {:.1} ns", hook - base);
    }
}
