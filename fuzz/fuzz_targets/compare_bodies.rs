//! The web view's Compare: two untrusted bodies diffed as JSON, text
//! or binary.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::compare_bodies(data);
});
