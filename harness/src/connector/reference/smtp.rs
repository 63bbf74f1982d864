//! The reference connector's `smtp-login` for an OAuth account: AUTH with the run's access
//! token (see `oauth`), XOAUTH2 or OAUTHBEARER as the server offers. The other SMTP steps
//! are the client layer's (`probe::smtp`) as they are.

use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::AsyncSmtpConnection;

use super::oauth::TokenCache;
use crate::connector::{OAuthSettings, Settings};
use crate::outcome::{Detail, ErrorClass, Outcome, Step};
use crate::probe::bearer::{self, BearerMechanism};
use crate::probe::smtp;

/// AUTH with the account's token, within the step timeout. A token held from before that
/// is refused is refreshed once; a fresh token that is refused as a wrong credential is
/// `unauthorized` with `insufficient-scope` or `token-rejected` (see `probe::bearer`); any
/// other refusal keeps the reading of a password's (`classify::smtp::auth_refusal`).
pub(super) async fn login_bearer(
    connection: &mut AsyncSmtpConnection,
    settings: &Settings,
    oauth: &OAuthSettings,
    tokens: &TokenCache,
) -> Result<(), Outcome> {
    smtp::bounded(
        settings.step_timeout,
        Step::SmtpLogin,
        ErrorClass::SmtpSettingsIncorrect,
        async {
            let offered = if connection
                .server_info()
                .supports_auth_mechanism(Mechanism::Xoauth2)
            {
                vec!["XOAUTH2".to_owned()]
            } else {
                smtp::offered_mechanisms(connection).await
            };
            let Some(mechanism) = BearerMechanism::choose(offered.iter().map(String::as_str))
            else {
                return Err(Outcome::failed(
                    ErrorClass::SmtpSettingsIncorrect,
                    Step::SmtpLogin,
                    Detail::AuthNotOffered,
                ));
            };
            let mut token = tokens.get(settings, oauth).await?;
            loop {
                let payload = mechanism.payload(
                    settings.login(),
                    token.token.expose(),
                    &settings.smtp.host,
                    settings.smtp.port,
                );
                match smtp::auth_bearer(connection, mechanism, &payload).await {
                    Ok(()) => return Ok(()),
                    Err((error, _)) if !token.fresh && error.status().is_some() => {
                        token = tokens.refresh(settings, oauth, &token).await?;
                    }
                    Err((error, challenge)) => {
                        let mut outcome = smtp::auth_error(&error);
                        if outcome.class == ErrorClass::Unauthorized
                            && outcome.detail == Detail::WrongCredentials
                        {
                            let detail = bearer::refusal_detail(
                                challenge.as_deref(),
                                token.scopes.as_deref(),
                            );
                            outcome.detail = Some(detail.into());
                        }
                        return Err(outcome);
                    }
                }
            }
        },
    )
    .await
}
