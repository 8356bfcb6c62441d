//! The flow-file reader over arbitrary bytes: every flow it returns or an
//! error with an offset, never a panic or a hang.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::read_flows(data);
});
