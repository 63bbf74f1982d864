//! The authorization server's answer to one HTTP request, without a socket.
//!
//! `POST /token` (RFC 6749): the `refresh_token` grant (§6) and the `client_credentials`
//! grant (§4.4), the client authenticated by `client_id` and `client_secret` in the form or
//! by HTTP Basic (§2.3.1). A success is `{"access_token", "token_type": "Bearer",
//! "expires_in", "scope"}`; a refusal is `{"error", "error_description"}` with the RFC's
//! codes and statuses (§5.2): `invalid_client` 401, `invalid_grant`, `invalid_scope`,
//! `invalid_request` and `unsupported_grant_type` 400. The descriptions are the mock's own
//! words; providers word theirs differently, and a connector must read the code.
//!
//! `POST /introspect` (RFC 7662): `{"active": true, "username", "scope", "exp"}` for a
//! token this server issued and that is still valid, `{"active": false}` otherwise.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AuthorizationConfig, Tokens};

/// A fault of the token endpoint, as a scenario asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointFault {
    /// It answers, but only after this long (longer than a step: the client gives up).
    Slow { after_ms: u64 },
    /// `503` with `{"error": "temporarily_unavailable"}`.
    Unavailable,
}

/// What to send back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Wait this long before sending it.
    pub delay: Option<Duration>,
}

impl Answer {
    fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            delay: None,
        }
    }

    fn error(status: u16, error: &str, description: &str) -> Answer {
        Answer::json(
            status,
            json!({ "error": error, "error_description": description }),
        )
    }
}

/// The answer to `method path` with `body` (`application/x-www-form-urlencoded`). Without
/// a `config` the server only introspects (the run's endpoint a real server asks, see
/// [`super::AuthorizationServer::introspection`]): `/token` is not there.
pub fn answer(
    config: Option<&AuthorizationConfig>,
    tokens: &Tokens,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut answer = match (method, path, config) {
        ("POST", "/token", Some(config)) => token(config, tokens, authorization, body),
        ("POST", "/introspect", _) => introspect(tokens, body),
        (_, "/token", Some(_)) | (_, "/introspect", _) => {
            Answer::error(405, "invalid_request", "The endpoint takes POST.")
        }
        _ => Answer::error(404, "not_found", "No such endpoint."),
    };
    match config.and_then(|config| config.fault) {
        Some(EndpointFault::Slow { after_ms }) => {
            answer.delay = Some(Duration::from_millis(after_ms));
        }
        Some(EndpointFault::Unavailable) => {
            answer = Answer::error(
                503,
                "temporarily_unavailable",
                "The authorization server is temporarily unavailable.",
            );
        }
        None => {}
    }
    answer
}

/// The form's value of `name`, once.
fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// The client's id and secret, from HTTP Basic or the form.
fn client(authorization: Option<&str>, form: &[(String, String)]) -> Option<(String, String)> {
    if let Some(basic) = authorization.and_then(|value| value.strip_prefix("Basic ")) {
        let decoded = STANDARD.decode(basic.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        // RFC 6749 §2.3.1: both are form-encoded inside the header.
        let decode = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((decode(id)?, decode(secret)?));
    }
    Some((field(form, "client_id")?, field(form, "client_secret")?))
}

fn token(
    config: &AuthorizationConfig,
    tokens: &Tokens,
    authorization: Option<&str>,
    body: &[u8],
) -> Answer {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let Some(grant) = field(&form, "grant_type") else {
        return Answer::error(400, "invalid_request", "grant_type is missing.");
    };
    match client(authorization, &form) {
        Some((id, secret)) if id == config.client_id && secret == config.client_secret => {}
        _ => return Answer::error(401, "invalid_client", "Client authentication failed."),
    }
    match grant.as_str() {
        "refresh_token" => {
            let presented = field(&form, "refresh_token");
            if presented.as_deref() != Some(config.refresh_token.as_str())
                || config.refresh_token_revoked
            {
                return Answer::error(
                    400,
                    "invalid_grant",
                    "The refresh token is invalid, expired or revoked.",
                );
            }
        }
        "client_credentials" => {}
        _ => {
            return Answer::error(
                400,
                "unsupported_grant_type",
                "Only refresh_token and client_credentials are supported.",
            );
        }
    }
    let scopes: Vec<String> = match field(&form, "scope") {
        Some(asked) => asked.split_whitespace().map(str::to_owned).collect(),
        None => config.client_scopes.clone(),
    };
    if let Some(unknown) = scopes.iter().find(|s| !config.client_scopes.contains(s)) {
        return Answer::error(
            400,
            "invalid_scope",
            &format!("The client may not ask for the scope {unknown}."),
        );
    }
    let access = tokens.issue(&config.user, &scopes, config.lifetime);
    Answer::json(
        200,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": config.lifetime.as_secs(),
            "scope": scopes.join(" "),
        }),
    )
}

fn introspect(tokens: &Tokens, body: &[u8]) -> Answer {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let active = field(&form, "token").and_then(|token| tokens.introspect(&token));
    match active {
        Some((user, scopes, exp)) => Answer::json(
            200,
            json!({ "active": true, "username": user, "scope": scopes.join(" "), "exp": exp }),
        ),
        None => Answer::json(200, json!({ "active": false })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailharness_certs::CertKind;

    const MAIL: &str = "https://mail.google.com/";

    fn config() -> AuthorizationConfig {
        AuthorizationConfig {
            certificate: CertKind::Valid,
            client_id: "client-1".into(),
            client_secret: "s3cret".into(),
            refresh_token: "rt-1".into(),
            refresh_token_revoked: false,
            user: "alice@example.com".into(),
            client_scopes: vec![MAIL.into(), "openid".into()],
            lifetime: Duration::from_secs(3600),
            fault: None,
        }
    }

    fn post(config: &AuthorizationConfig, tokens: &Tokens, body: &str) -> (u16, serde_json::Value) {
        let answer = answer(
            Some(config),
            tokens,
            "POST",
            "/token",
            None,
            body.as_bytes(),
        );
        (answer.status, serde_json::from_str(&answer.body).unwrap())
    }

    #[test]
    fn a_refresh_token_gets_an_access_token_with_the_scope_asked_for() {
        let tokens = Tokens::default();
        let (status, body) = post(
            &config(),
            &tokens,
            "grant_type=refresh_token&refresh_token=rt-1&client_id=client-1&client_secret=s3cret&scope=https%3A%2F%2Fmail.google.com%2F",
        );
        assert_eq!(status, 200);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], MAIL);
        let access = body["access_token"].as_str().unwrap();
        assert!(
            tokens
                .check(access, Some("alice@example.com"), MAIL)
                .is_ok()
        );
        let introspected = answer(
            Some(&config()),
            &tokens,
            "POST",
            "/introspect",
            None,
            format!("token={access}").as_bytes(),
        );
        let introspected: serde_json::Value = serde_json::from_str(&introspected.body).unwrap();
        assert_eq!(introspected["active"], true);
        assert_eq!(introspected["username"], "alice@example.com");
    }

    #[test]
    fn client_credentials_by_http_basic_get_every_scope_of_the_client() {
        let tokens = Tokens::default();
        let basic = format!("Basic {}", STANDARD.encode("client-1:s3cret"));
        let answer = answer(
            Some(&config()),
            &tokens,
            "POST",
            "/token",
            Some(&basic),
            b"grant_type=client_credentials",
        );
        assert_eq!(answer.status, 200);
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["scope"], format!("{MAIL} openid"));
    }

    #[test]
    fn refusals_carry_the_rfc_6749_codes() {
        let tokens = Tokens::default();
        let good = "client_id=client-1&client_secret=s3cret";
        let cases = [
            (
                config(),
                format!("grant_type=refresh_token&refresh_token=rt-2&{good}"),
                400,
                "invalid_grant",
            ),
            (
                AuthorizationConfig {
                    refresh_token_revoked: true,
                    ..config()
                },
                format!("grant_type=refresh_token&refresh_token=rt-1&{good}"),
                400,
                "invalid_grant",
            ),
            (
                config(),
                "grant_type=refresh_token&refresh_token=rt-1&client_id=client-1&client_secret=no"
                    .to_owned(),
                401,
                "invalid_client",
            ),
            (
                config(),
                format!("grant_type=client_credentials&scope=https://other/&{good}"),
                400,
                "invalid_scope",
            ),
            (
                config(),
                format!("grant_type=password&{good}"),
                400,
                "unsupported_grant_type",
            ),
            (config(), good.to_owned(), 400, "invalid_request"),
            (
                AuthorizationConfig {
                    fault: Some(EndpointFault::Unavailable),
                    ..config()
                },
                format!("grant_type=client_credentials&{good}"),
                503,
                "temporarily_unavailable",
            ),
        ];
        for (config, body, status, error) in cases {
            let (got_status, got) = post(&config, &tokens, &body);
            assert_eq!(
                (got_status, got["error"].as_str()),
                (status, Some(error)),
                "{body}"
            );
        }
        assert!(
            tokens.introspect("anything").is_none(),
            "no refusal issued a token"
        );
    }

    #[test]
    fn a_slow_endpoint_answers_late_and_other_paths_are_refused() {
        let slow = AuthorizationConfig {
            fault: Some(EndpointFault::Slow { after_ms: 5000 }),
            ..config()
        };
        let answer_slow = answer(Some(&slow), &Tokens::default(), "POST", "/token", None, b"");
        assert_eq!(answer_slow.delay, Some(Duration::from_secs(5)));
        let tokens = Tokens::default();
        assert_eq!(
            answer(Some(&config()), &tokens, "GET", "/token", None, b"").status,
            405
        );
        assert_eq!(
            answer(Some(&config()), &tokens, "POST", "/", None, b"").status,
            404
        );
    }

    #[test]
    fn without_a_config_only_introspection_answers() {
        let tokens = Tokens::default();
        let token = tokens.issue("alice@example.com", &[MAIL.into()], Duration::from_secs(60));
        let introspected = answer(
            None,
            &tokens,
            "POST",
            "/introspect",
            None,
            format!("token={token}").as_bytes(),
        );
        let body: serde_json::Value = serde_json::from_str(&introspected.body).unwrap();
        assert_eq!(
            (body["active"].as_bool(), body["scope"].as_str()),
            (Some(true), Some(MAIL))
        );
        let refresh = b"grant_type=refresh_token&refresh_token=rt-1&client_id=client-1";
        assert_eq!(
            answer(None, &tokens, "POST", "/token", None, refresh).status,
            404
        );
        assert_eq!(
            answer(None, &tokens, "GET", "/introspect", None, b"").status,
            405
        );
    }
}
