//! Read, write, read again: the second reading equals the first, and a
//! flow whose stream messages were spilled to a file is written the same.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::round_trip(data);
});
