//! The reference connector: what a modern connector (rustls, TLS 1.2 and 1.3) does, step by
//! step, exactly as the specification's flow and error classes say. It is the connector the
//! catalogue's `[expect]` tables are written for.
//!
//! The exchanges themselves are the client layer's (`crate::probe`), shared with
//! `mailharness check`; this module sequences them into the five steps.
//!
//! - `imap`: imap-connect and imap-login, with the step timeouts and the sync sessions.
//! - `oauth`: access tokens from the token endpoint, for an account that signs in with OAuth.
//! - `smtp`: smtp-login with the access token.

pub(crate) mod imap;
pub(crate) mod oauth;
mod smtp;

use crate::connector::{BoxFuture, Connector, ConnectorError, Settings};
use crate::detail::Detail;
use crate::outcome::{ErrorClass, Outcome, Step};
use crate::probe::{self, tls};

/// The built-in reference connector.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReferenceConnector;

impl ReferenceConnector {
    async fn run_steps(&self, settings: &Settings) -> Outcome {
        let tls = match tls::client_config(settings) {
            Ok(tls) => tls,
            Err(error) => {
                return Outcome::failed(
                    ErrorClass::ImapSettingsIncorrect,
                    Step::ImapConnect,
                    Detail::TlsSetupFailed,
                )
                .with_response(None, error);
            }
        };
        tracing::debug!(
            "imap-connect to {}:{}",
            settings.imap.host,
            settings.imap.port
        );
        let client = match imap::connect(settings, &tls).await {
            Ok(client) => client,
            Err(outcome) => return outcome,
        };
        tracing::debug!("imap-login as {}", settings.login());
        // An OAuth account's token, got at imap-login (before the login itself, each with
        // its step timeout) and kept for the whole run.
        let tokens = settings.oauth.as_ref().map(oauth::TokenCache::new);
        if let (Some(oauth), Some(tokens)) = (&settings.oauth, &tokens)
            && let Err(outcome) = tokens.get(settings, oauth).await
        {
            return outcome;
        }
        let sessions = match imap::login_and_open(client, settings, &tls, tokens.as_ref()).await {
            Ok(sessions) => sessions,
            Err(outcome) => return outcome,
        };
        // The IMAP sessions stay open while the SMTP steps run, as they would in use.
        let result = async {
            tracing::debug!(
                "smtp-connect to {}:{}",
                settings.smtp.host,
                settings.smtp.port
            );
            let mut connection = probe::smtp::connect(settings).await?;
            tracing::debug!("smtp-login as {}", settings.login());
            match (&settings.oauth, &tokens) {
                (Some(oauth), Some(tokens)) => {
                    smtp::login_bearer(&mut connection, settings, oauth, tokens).await?;
                }
                _ => probe::smtp::login(&mut connection, settings).await?,
            }
            tracing::debug!("test-send to {}", settings.bcc);
            probe::smtp::send(&mut connection, settings).await
        }
        .await;
        tracing::debug!("closing {} IMAP sessions", sessions.len());
        imap::logout_all(sessions).await;
        tracing::debug!("done");
        match result {
            Ok(()) => Outcome::ok(),
            Err(outcome) => outcome,
        }
    }
}

impl Connector for ReferenceConnector {
    fn name(&self) -> &str {
        "reference"
    }

    fn run<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Outcome, ConnectorError>> {
        Box::pin(async move { Ok(self.run_steps(settings).await) })
    }

    fn in_process(&self) -> bool {
        true
    }

    fn signs_in_with_oauth(&self) -> bool {
        true
    }
}
