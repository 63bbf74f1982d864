//! The reference connector's OAuth 2.0 client: access tokens from the token endpoint
//! (RFC 6749: the `refresh_token` grant, or `client_credentials` when there is no refresh
//! token; the client authenticated by `client_id` and `client_secret` in the form), over
//! rustls with the run's trust, by hyper; and what a failure there means.
//!
//! The token is needed to log in, so everything here happens at `imap-login`, within its
//! step timeout:
//! - the endpoint refuses the grant, the client or the scope (`invalid_grant`,
//!   `invalid_client`, `invalid_scope`): the credentials do not work, `unauthorized`;
//! - its certificate is not trusted: `unauthorized_untrusted_certificate`, with the
//!   certificate's detail (the step, `imap-login`, says it was the token endpoint's). "Allow
//!   insecure certificate" is the user's choice for their mail servers and never applies
//!   here: a refresh token must not go to a server nobody checked;
//! - it cannot be reached, does not answer in time, or answers without a token: the login
//!   failed for another reason, `imap_authentication_error`.
//!
//! The tokens live in a [`TokenCache`] for the whole run: the one the connector holds from
//! before is tried first, and one refresh is allowed when a mail server refuses it.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::sync::Mutex;
use tokio::time::timeout;

use crate::connector::{OAuthSettings, Secret, Settings};
use crate::outcome::{Detail, ErrorClass, Outcome, Step};
use crate::probe::net::{tcp_connect, tls_failure};
use crate::probe::tls;

/// The most of a token endpoint's answer that is read (a token answer is a few KiB).
const MAX_ANSWER: usize = 64 * 1024;

/// An access token, and what the connector knows of it.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub(crate) token: Secret,
    /// The scopes the endpoint says it granted (none for a token held from before).
    pub(crate) scopes: Option<Vec<String>>,
    /// Just issued: refreshing it would not help.
    pub(crate) fresh: bool,
}

/// The run's access token: the one held from before, or fetched once and kept.
pub(crate) struct TokenCache {
    current: Mutex<Option<AccessToken>>,
}

impl TokenCache {
    /// The cache of `oauth`: its stored token, if it has one.
    pub(crate) fn new(oauth: &OAuthSettings) -> TokenCache {
        TokenCache {
            current: Mutex::new(oauth.access_token.clone().map(|token| AccessToken {
                token,
                scopes: None,
                fresh: false,
            })),
        }
    }

    /// The current token, fetched when there is none.
    pub(crate) async fn get(
        &self,
        settings: &Settings,
        oauth: &OAuthSettings,
    ) -> Result<AccessToken, Outcome> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref() {
            return Ok(token.clone());
        }
        let token = fetch(settings, oauth).await?;
        *current = Some(token.clone());
        Ok(token)
    }

    /// A new token in place of `refused`, unless another session refreshed it meanwhile.
    pub(crate) async fn refresh(
        &self,
        settings: &Settings,
        oauth: &OAuthSettings,
        refused: &AccessToken,
    ) -> Result<AccessToken, Outcome> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref()
            && token.token != refused.token
        {
            return Ok(token.clone());
        }
        let token = fetch(settings, oauth).await?;
        *current = Some(token.clone());
        Ok(token)
    }
}

fn failed(class: ErrorClass, detail: Detail) -> Outcome {
    Outcome::failed(class, Step::ImapLogin, detail)
}

/// The host, port and path of an `https://host:port/path` URL.
fn parse_url(url: &str) -> Option<(String, u16, String)> {
    let uri: hyper::Uri = url.parse().ok()?;
    if uri.scheme_str() != Some("https") {
        return None;
    }
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    Some((
        host.to_owned(),
        uri.port_u16().unwrap_or(443),
        uri.path().to_owned(),
    ))
}

/// A new access token from the token endpoint, within the step timeout.
async fn fetch(settings: &Settings, oauth: &OAuthSettings) -> Result<AccessToken, Outcome> {
    match timeout(settings.step_timeout, exchange(settings, oauth)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(failed(
            ErrorClass::ImapAuthenticationError,
            Detail::TokenEndpointTimeout,
        )),
    }
}

async fn exchange(settings: &Settings, oauth: &OAuthSettings) -> Result<AccessToken, Outcome> {
    let unreachable = || {
        failed(
            ErrorClass::ImapAuthenticationError,
            Detail::TokenEndpointUnreachable,
        )
    };
    let Some((host, port, path)) = parse_url(&oauth.token_url) else {
        return Err(
            unreachable().with_response(None, format!("not an https URL: {}", oauth.token_url))
        );
    };
    let tcp = tcp_connect(&host, port, settings.source_address)
        .await
        .map_err(|_| unreachable())?;
    // The user's "allow insecure certificate" is for their mail servers, not this one.
    let strict = Settings {
        allow_insecure_certificate: false,
        ..settings.clone()
    };
    let config = tls::client_config(&strict).map_err(|error| {
        failed(ErrorClass::ImapAuthenticationError, Detail::TlsSetupFailed)
            .with_response(None, error)
    })?;
    let name = ServerName::try_from(host.clone()).map_err(|_| unreachable())?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|error| {
            let outcome = tls_failure(
                &error,
                ErrorClass::ImapAuthenticationError,
                ErrorClass::ImapAuthenticationError,
                Step::ImapLogin,
            );
            if outcome.class == ErrorClass::UnauthorizedUntrustedCertificate {
                outcome
            } else {
                unreachable()
            }
        })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| unreachable())?;
    tokio::spawn(connection);
    let body = form(oauth);
    let request = Request::post(path)
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .header(
            hyper::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(hyper::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|_| unreachable())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|_| unreachable())?;
    let status = response.status().as_u16();
    let answer = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|_| unreachable())?;
    read_answer(status, &answer)
}

/// The token request's form: the refresh-token grant when there is a refresh token, else
/// client credentials.
fn form(oauth: &OAuthSettings) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    match &oauth.refresh_token {
        Some(refresh) => {
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", refresh.expose());
        }
        None => {
            form.append_pair("grant_type", "client_credentials");
        }
    }
    form.append_pair("client_id", &oauth.client_id);
    form.append_pair("client_secret", oauth.client_secret.expose());
    form.append_pair("scope", &oauth.scope);
    form.finish()
}

/// What the token endpoint's answer means (RFC 6749 §5.1 and §5.2).
fn read_answer(status: u16, body: &[u8]) -> Result<AccessToken, Outcome> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|json| json.get(name))
            .and_then(|value| value.as_str())
    };
    if (200..300).contains(&status)
        && let Some(token) = field("access_token")
        && field("token_type").is_some_and(|kind| kind.eq_ignore_ascii_case("bearer"))
    {
        return Ok(AccessToken {
            token: Secret::new(token),
            scopes: field("scope")
                .map(|scope| scope.split_whitespace().map(str::to_owned).collect()),
            fresh: true,
        });
    }
    let error = field("error");
    let (class, detail) = match error {
        Some("invalid_grant") => (ErrorClass::Unauthorized, Detail::InvalidGrant),
        Some("invalid_client" | "unauthorized_client") => {
            (ErrorClass::Unauthorized, Detail::InvalidClient)
        }
        Some("invalid_scope") => (ErrorClass::Unauthorized, Detail::InvalidScope),
        _ => (
            ErrorClass::ImapAuthenticationError,
            Detail::TokenEndpointError,
        ),
    };
    // The error and its description, never anything else of the answer (a token could be
    // in it).
    let text = match (error, field("error_description")) {
        (Some(error), Some(description)) => format!("{error}: {description}"),
        (Some(error), None) => error.to_owned(),
        (None, _) => format!("HTTP {status} without a token"),
    };
    Err(failed(class, detail).with_response(Some(status.to_string()), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_their_rfc_6749_codes() {
        let ok = read_answer(
            200,
            br#"{"access_token":"at","token_type":"Bearer","expires_in":60,"scope":"a b"}"#,
        )
        .unwrap();
        assert_eq!(ok.token.expose(), "at");
        assert_eq!(ok.scopes, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert!(ok.fresh);
        for (status, body, class, detail) in [
            (
                400,
                r#"{"error":"invalid_grant"}"#,
                ErrorClass::Unauthorized,
                Detail::InvalidGrant,
            ),
            (
                401,
                r#"{"error":"invalid_client"}"#,
                ErrorClass::Unauthorized,
                Detail::InvalidClient,
            ),
            (
                400,
                r#"{"error":"invalid_scope"}"#,
                ErrorClass::Unauthorized,
                Detail::InvalidScope,
            ),
            (
                503,
                r#"{"error":"temporarily_unavailable"}"#,
                ErrorClass::ImapAuthenticationError,
                Detail::TokenEndpointError,
            ),
            (
                200,
                "<html>",
                ErrorClass::ImapAuthenticationError,
                Detail::TokenEndpointError,
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"mac"}"#,
                ErrorClass::ImapAuthenticationError,
                Detail::TokenEndpointError,
            ),
        ] {
            let outcome = read_answer(status, body.as_bytes()).unwrap_err();
            assert_eq!(
                (outcome.class, outcome.detail),
                (class, Some(detail.into())),
                "{body}"
            );
            assert_eq!(outcome.step, Some(Step::ImapLogin));
        }
    }

    #[test]
    fn the_form_names_the_grant_and_the_url_must_be_https() {
        let mut oauth = OAuthSettings {
            token_url: "https://localhost:4443/token".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s&s"),
            refresh_token: Some(Secret::new("r")),
            access_token: None,
            scope: "https://mail.google.com/".into(),
        };
        assert_eq!(
            form(&oauth),
            "grant_type=refresh_token&refresh_token=r&client_id=c&client_secret=s%26s&scope=https%3A%2F%2Fmail.google.com%2F"
        );
        oauth.refresh_token = None;
        assert!(form(&oauth).starts_with("grant_type=client_credentials&client_id=c"));
        assert_eq!(
            parse_url("https://localhost:4443/token"),
            Some(("localhost".into(), 4443, "/token".into()))
        );
        assert_eq!(parse_url("http://localhost/token"), None);
    }
}
