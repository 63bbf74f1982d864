//! The one assertion every output test makes: a password appears nowhere, not in clear,
//! not in base64 at any alignment, not as an AUTH PLAIN payload; and for an OAuth account,
//! neither its client secret, its refresh token nor any access token.

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

/// No OAuth secret of a run with `password` appears: the client secret and refresh token
/// (made from the password, `plan::oauth_secret`), in clear and in base64, and no access
/// token the mock authorization server issued (they all start `mh-at-`), in clear or inside
/// an XOAUTH2 or OAUTHBEARER payload (`auth=Bearer mh-at-` in base64 at any alignment).
#[track_caller]
pub fn assert_no_oauth_secret(haystack: &str, password: &str) {
    for what in ["client-secret", "refresh-token"] {
        let secret = mailharness::plan::oauth_secret(password, what);
        assert!(!haystack.contains(&secret), "the {what} appears in clear");
        for form in base64_forms(&secret) {
            assert!(!haystack.contains(&form), "the {what} appears in base64");
        }
    }
    assert!(
        !haystack.contains("mh-at-"),
        "an access token appears in clear"
    );
    for form in base64_forms("auth=Bearer mh-at-") {
        assert!(
            !haystack.contains(&form),
            "an access token appears inside a SASL payload ({form})"
        );
    }
}
