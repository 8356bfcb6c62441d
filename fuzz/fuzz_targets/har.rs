//! HAR import, then export and import again: no panic, nothing lost.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::har(data);
});
