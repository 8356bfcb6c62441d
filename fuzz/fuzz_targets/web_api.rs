//! The web view's API input: JSON edits and query text, applied to flows
//! and exported.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::web_api(data);
});
