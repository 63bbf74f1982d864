//! The one assertion every output test makes: a password appears nowhere, not in clear,
//! not in base64 at any alignment, not as an AUTH PLAIN payload.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Every base64 rendering in which `secret` could hide inside a longer encoded payload:
/// for each of the three alignments, the part of the encoding that depends on the secret's
/// bytes alone.
fn base64_forms(secret: &str) -> Vec<String> {
    (0..3)
        .map(|skip| {
            let bytes = &secret.as_bytes()[skip..];
            let whole = bytes.len() / 3 * 3;
            STANDARD.encode(&bytes[..whole])
        })
        .collect()
}

#[track_caller]
pub fn assert_no_secret(haystack: &str, secret: &str, logins: &[&str]) {
    assert!(!haystack.contains(secret), "the password appears in clear");
    for form in base64_forms(secret) {
        assert!(
            !haystack.contains(&form),
            "the password appears in base64 ({form})"
        );
    }
    for login in logins {
        let plain = STANDARD.encode(format!("\0{login}\0{secret}"));
        assert!(!haystack.contains(&plain), "an AUTH PLAIN payload appears");
    }
}
