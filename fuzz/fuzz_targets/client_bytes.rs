//! Raw client bytes to a flow and back out, as far as Waylay's own code
//! goes: head, framing, body, flow dict, the request sent upstream.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::client_bytes(data);
});
