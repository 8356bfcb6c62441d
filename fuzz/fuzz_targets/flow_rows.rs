//! The web view's index: a flow's row read from its bytes by length
//! prefixes, checked against the row of the flow as built.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::flow_rows(data);
});
