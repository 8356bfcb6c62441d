//! Old flow files (0.11 to format 20) migrated to format 21: never a
//! panic, and what the migration makes survives a round trip.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::old_flows(data);
});
