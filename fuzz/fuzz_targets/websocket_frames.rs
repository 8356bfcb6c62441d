//! WebSocket frames from either peer, with and without permessage-deflate:
//! decoding in pieces or at once agrees, and every event decoded survives
//! being written out and read again.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::websocket_frames(data);
});
