//! Filter expressions (mitmproxy's language): each compiles or gets one
//! error line with a position inside it; what compiles matches every kind
//! of flow.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::filter_expr(data);
});
