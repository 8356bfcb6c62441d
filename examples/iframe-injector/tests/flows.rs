//! iframe-injector over the sample flows, and over an HTML page made up
//! from one of them: injected for another host, not for the URL's own.

use iframe_injector::IframeInjector;
use waylay_proxy::flowfile::FlowWriter;
use waylay_proxy::http::Which;
use waylay_proxy::testing::{read_flows, run_file, run_file_with_args};
use waylay_proxy::tnetstring::Value;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/flows/filters.mitm"
);

#[test]
fn over_the_sample_flows() {
    let run = run_file::<IframeInjector>(SAMPLE);
    insta::assert_snapshot!(run.render());
}

/// The first sample flow (host `address`) answered with an HTML page,
/// written to a file named for the test (tests run in parallel: a shared
/// file could be read while another test rewrites it).
fn page(test: &str) -> String {
    let mut flow = read_flows(SAMPLE).remove(0);
    let html = b"<!doctype html>\n<html><head><title>t</title></head>\n<BODY class=\"main\">\n<p>hi</p>\n</BODY></html>\n";
    flow.message_mut(Which::Response)
        .unwrap()
        .insert("content", Value::bytes(html));
    let path = format!("{}/page-{test}.mitm", env!("CARGO_TARGET_TMPDIR"));
    let mut writer = FlowWriter::new(std::fs::File::create(&path).unwrap());
    writer.write_flow(&flow).unwrap();
    writer.flush().unwrap();
    path
}

#[test]
fn injects_into_another_hosts_page() {
    let run = run_file_with_args::<IframeInjector>(
        page("injects_into_another_hosts_page"),
        &["http://frames.example/?a=1&b=\"2\""],
    );
    insta::assert_snapshot!(run.render());
}

#[test]
fn leaves_the_urls_own_host_alone() {
    let run = run_file_with_args::<IframeInjector>(
        page("leaves_the_urls_own_host_alone"),
        &["http://address:22/frame"],
    );
    insta::assert_snapshot!(run.render());
}
