//! The mock IMAP session fed any bytes, cut into chunks: no panic, answers within the
//! bound of mock-servers/src/properties.rs (which decodes the input).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailharness_mock_servers::properties::fuzz_imap(data);
});
