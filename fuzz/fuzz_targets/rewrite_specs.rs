//! The rewriting options' specs (map_remote, map_local, modify_headers,
//! modify_body, stickycookie, stickyauth; the first byte picks): refused
//! with one line naming the option, or run over every kind of flow.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::rewrite_specs(data);
});
