//! SOCKS5 clients' bytes: greeting, credentials and requests.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    waylay_proxy::fuzzing::socks5(data);
});
