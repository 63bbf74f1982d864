//! Any server reply (an SMTP code from the first two bytes, the rest as text) maps to
//! exactly one of the nine classes, never `ok`, the same whatever the ASCII case; the
//! property of tests/cli/properties.rs, for long runs.
#![no_main]

use mailharness::classify;
use mailharness::outcome::ErrorClass;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (code, text) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => (0, data),
    };
    let text = String::from_utf8_lossy(text);
    let flipped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let imap = classify::imap::login_refusal(&text);
    assert!(ErrorClass::ALL.contains(&imap.0) && imap.0 != ErrorClass::Ok);
    assert_eq!(classify::imap::login_refusal(&flipped), imap);
    let smtp = classify::smtp::auth_refusal(code, &text);
    assert!(ErrorClass::ALL.contains(&smtp.0) && smtp.0 != ErrorClass::Ok);
    assert_eq!(classify::smtp::auth_refusal(code, &flipped), smtp);
});
