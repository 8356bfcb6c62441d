//! Read, write, read again: the second reading equals the first.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::round_trip(data);
});
