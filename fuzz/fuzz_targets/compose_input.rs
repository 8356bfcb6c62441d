//! The web view's Compose: a pasted curl command, raw request text or a
//! draft's JSON, made into a request to send.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::compose_input(data);
});
