//! Every small parser Waylay owns: header edits, option values, CONNECT
//! and request targets, HTTP/1 heads, chunked bodies, a request's query as
//! scripts read it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::parsers(data);
});
