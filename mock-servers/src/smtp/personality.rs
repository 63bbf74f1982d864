//! What real SMTP servers say: Postfix 3.7 as Debian ships it (seen from the package, and
//! from smtpd.c) and Gmail's smtp.gmail.com (from public wire logs). docs/provider-replies.md has
//! each text with its source (checked by `personality_docs`). `{host}`, `{ip}`, `{rcpt}` and `{id}` are filled in.

use serde::{Deserialize, Serialize};

use crate::config::TlsRefusal;

/// Which real server the mock imitates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpPersonality {
    /// Postfix 3.7 (Debian), submission with Cyrus SASL.
    #[default]
    Postfix,
    /// Gmail (smtp.gmail.com).
    Gmail,
}

impl SmtpPersonality {
    /// How its real server refuses a client it shares no TLS version with: a
    /// protocol-version alert (Postfix, as the real-server scenarios see it, and Gmail).
    pub fn tls_refusal(self) -> TlsRefusal {
        match self {
            SmtpPersonality::Postfix | SmtpPersonality::Gmail => TlsRefusal::Alert,
        }
    }
}

pub(crate) struct SmtpTexts {
    pub greeting: &'static str,
    /// First EHLO line.
    pub ehlo_hello: &'static str,
    /// EHLO keywords before STARTTLS/AUTH.
    pub ehlo_before: &'static [&'static str],
    pub ehlo_auth: &'static str,
    /// EHLO keywords after STARTTLS/AUTH.
    pub ehlo_after: &'static [&'static str],
    pub starttls_ok: &'static str,
    pub starttls_unavailable: &'static str,
    pub auth_ok: &'static str,
    pub wrong_credentials: &'static str,
    pub auth_not_enabled: &'static str,
    pub auth_bad_mechanism: &'static str,
    pub tls_required: &'static str,
    pub mail_ok: &'static str,
    pub rcpt_ok: &'static str,
    pub relay_denied: &'static str,
    pub data_go_ahead: &'static str,
    pub queued: &'static str,
    pub quit: &'static str,
    pub ok: &'static str,
    pub unknown_command: &'static str,
    /// VRFY of an address the client may send to, `{rcpt}` as given; none where the
    /// server does not offer VRFY (the unknown-command reply then).
    pub vrfy_ok: Option<&'static str>,
    /// ETRN, `{rcpt}` the domain; none where the server does not offer ETRN.
    pub etrn: Option<&'static str>,
    /// Every command but QUIT after a refusing greeting (RFC 5321 §3.1: the server then
    /// waits for QUIT and answers other commands with 503).
    pub access_denied: &'static str,
}

const POSTFIX: SmtpTexts = SmtpTexts {
    greeting: "220 {host} ESMTP Postfix (Debian/GNU)",
    ehlo_hello: "{host}",
    ehlo_before: &["PIPELINING", "SIZE 10240000", "VRFY", "ETRN"],
    ehlo_auth: "AUTH PLAIN LOGIN",
    // Postfix also offers CHUNKING (BDAT), which the mock does not implement.
    ehlo_after: &["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"],
    starttls_ok: "220 2.0.0 Ready to start TLS",
    starttls_unavailable: "502 5.5.1 Error: command not implemented",
    auth_ok: "235 2.7.0 Authentication successful",
    wrong_credentials: "535 5.7.8 Error: authentication failed: authentication failure",
    auth_not_enabled: "503 5.5.1 Error: authentication not enabled",
    auth_bad_mechanism: "535 5.7.8 Error: authentication failed: Invalid authentication mechanism",
    tls_required: "530 5.7.0 Must issue a STARTTLS command first",
    mail_ok: "250 2.1.0 Ok",
    rcpt_ok: "250 2.1.5 Ok",
    relay_denied: "554 5.7.1 <{rcpt}>: Relay access denied",
    data_go_ahead: "354 End data with <CR><LF>.<CR><LF>",
    queued: "250 2.0.0 Ok: queued as {id}",
    quit: "221 2.0.0 Bye",
    ok: "250 2.0.0 Ok",
    unknown_command: "500 5.5.2 Error: command not recognized",
    vrfy_ok: Some("252 2.0.0 {rcpt}"),
    etrn: Some("459 <{rcpt}>: service unavailable"),
    // smtpd.c, for a client refused at connect; the client is localhost on loopback.
    access_denied: "503 5.7.0 Error: access denied for unknown[{ip}]",
};

const GMAIL: SmtpTexts = SmtpTexts {
    greeting: "220 smtp.gmail.com ESMTP g19sm112160pjl.25 - gsmtp",
    ehlo_hello: "smtp.gmail.com at your service, [{ip}]",
    ehlo_before: &["SIZE 35882577", "8BITMIME"],
    ehlo_auth: "AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
    ehlo_after: &["ENHANCEDSTATUSCODES", "PIPELINING", "SMTPUTF8"],
    starttls_ok: "220 2.0.0 Ready to start TLS",
    starttls_unavailable: "502 5.5.1 Unrecognized command. g19sm112160pjl.25 - gsmtp",
    auth_ok: "235 2.7.0 Accepted",
    wrong_credentials: "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials af79cd13be357a.74 - gsmtp",
    auth_not_enabled: "502 5.5.1 Unrecognized command. g19sm112160pjl.25 - gsmtp",
    auth_bad_mechanism: "504 5.7.4 Unrecognized authentication type. g19sm112160pjl.25 - gsmtp",
    tls_required: "530 5.7.0 Must issue a STARTTLS command first. m129sm2162575qkc.2 - gsmtp",
    mail_ok: "250 2.1.0 OK g19sm112160pjl.25 - gsmtp",
    rcpt_ok: "250 2.1.5 OK g19sm112160pjl.25 - gsmtp",
    relay_denied: "530-5.7.0 Authentication Required. For more information, go to\n530 5.7.0  https://support.google.com/mail/?p=WantAuthError g19sm112160pjl.25 - gsmtp",
    data_go_ahead: "354  Go ahead g19sm112160pjl.25 - gsmtp",
    queued: "250 2.0.0 OK  {id} g19sm112160pjl.25 - gsmtp",
    quit: "221 2.0.0 closing connection g19sm112160pjl.25 - gsmtp",
    ok: "250 2.0.0 OK g19sm112160pjl.25 - gsmtp",
    unknown_command: "502 5.5.1 Unrecognized command. g19sm112160pjl.25 - gsmtp",
    vrfy_ok: None,
    etrn: None,
    // No capture of Gmail refusing at connect: Postfix's text.
    access_denied: "503 5.7.0 Error: access denied for unknown[{ip}]",
};

/// Gmail's reply when an account with 2-step verification uses its normal password.
pub(crate) const APP_PASSWORD_REQUIRED: &str = "534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp";

/// Office 365's reply when a sign-in policy (e.g. by source address) blocks SMTP AUTH.
pub(crate) const LOGIN_NOT_ALLOWED: &str = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.";

/// Postfix's `reject` in smtpd_client_restrictions, reported at RCPT, or in place of the
/// greeting with `smtpd_delay_reject = no` (containers/captures/postfix-client-rejected.txt).
pub(crate) const CLIENT_REJECTED: &str =
    "554 5.7.1 <unknown[{ip}]>: Client host rejected: Access denied";

/// The STARTTLS keyword as a Cisco ASA's ESMTP inspection rewrites it: stripped.
pub(crate) const STRIPPED_STARTTLS: &str = "XXXXXXXA";

impl SmtpPersonality {
    pub(crate) fn texts(self) -> &'static SmtpTexts {
        match self {
            SmtpPersonality::Postfix => &POSTFIX,
            SmtpPersonality::Gmail => &GMAIL,
        }
    }

    /// The host name the server calls itself.
    pub(crate) fn host(self) -> &'static str {
        match self {
            SmtpPersonality::Postfix => "localhost",
            SmtpPersonality::Gmail => "smtp.gmail.com",
        }
    }
}
