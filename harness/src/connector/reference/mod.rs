//! The reference connector: what a modern connector (rustls, TLS 1.2 and 1.3) does, step by
//! step, exactly as the specification's flow and error classes say. It is the connector the
//! catalogue's `[expect]` tables are written for.
//!
//! The exchanges themselves are the client layer's (`crate::probe`), shared with
//! `mailharness check`; this module sequences them into the five steps.
//!
//! - `imap`: imap-connect and imap-login, with the step timeouts and the sync sessions.

pub(crate) mod imap;

use crate::connector::{BoxFuture, Connector, ConnectorError, Settings};
use crate::detail::Detail;
use crate::outcome::{ErrorClass, Outcome, Step};
use crate::probe::{smtp, tls};

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
        let sessions = match imap::login_and_open(client, settings, &tls).await {
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
            let mut connection = smtp::connect(settings).await?;
            tracing::debug!("smtp-login as {}", settings.login());
            smtp::login(&mut connection, settings).await?;
            tracing::debug!("test-send to {}", settings.bcc);
            smtp::send(&mut connection, settings).await
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
}
