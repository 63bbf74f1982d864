//! What real SMTP servers say: Postfix 3.7 as Debian ships it (seen from the package, and
//! from smtpd.c), and Gmail, Office 365, Exchange, Yahoo, Zoho, Yandex, GMX and Exim from
//! public wire logs. A personality with no capture of a text borrows it (`..POSTFIX`,
//! `borrows_from`). docs/provider-replies.md has each text with its source (checked by
//! `personality_docs`). `{host}`, `{ip}`, `{helo}` (the client's EHLO name), `{rcpt}` and
//! `{id}` are filled in.

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
    /// Microsoft 365 / Office 365 and Outlook.com (smtp.office365.com): Exchange Online.
    Office365,
    /// Microsoft Exchange Server on premises.
    Exchange,
    /// Yahoo Mail (smtp.mail.yahoo.com).
    Yahoo,
    /// Zoho Mail (smtp.zoho.com).
    Zoho,
    /// Yandex Mail (smtp.yandex.com).
    Yandex,
    /// GMX and Web.de (mail.gmx.net, smtp.web.de), one platform.
    Gmx,
    /// Exim.
    Exim,
}

impl SmtpPersonality {
    /// The `AUTH` line of its server set up to take bearer tokens, where that is the
    /// administrator's configuration: Postfix asking Dovecot's auth service offers what
    /// Dovecot does (containers/captures/dovecot-postfix-bearer.txt). The mock offers it for
    /// an `[oauth]` scenario; the other personalities offer what their providers always do.
    pub fn bearer_ehlo_auth(self) -> Option<&'static str> {
        match self {
            SmtpPersonality::Postfix => Some("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER"),
            _ => None,
        }
    }

    /// Every personality, in the order the docs list them.
    pub const ALL: [SmtpPersonality; 9] = [
        SmtpPersonality::Postfix,
        SmtpPersonality::Gmail,
        SmtpPersonality::Office365,
        SmtpPersonality::Exchange,
        SmtpPersonality::Yahoo,
        SmtpPersonality::Zoho,
        SmtpPersonality::Yandex,
        SmtpPersonality::Gmx,
        SmtpPersonality::Exim,
    ];

    /// Its name in docs/provider-replies.md, whose section is `## SMTP: <name>`.
    pub fn doc_name(self) -> &'static str {
        use SmtpPersonality::*;
        match self {
            Postfix => "Postfix",
            Gmail => "Gmail",
            Office365 => "Office 365 and Outlook.com",
            Exchange => "Exchange on premises",
            Yahoo => "Yahoo",
            Zoho => "Zoho",
            Yandex => "Yandex",
            Gmx => "GMX and Web.de",
            Exim => "Exim",
        }
    }

    /// How its real server refuses a client it shares no TLS version with: a
    /// protocol-version alert (Postfix, as the real-server scenarios see it, and, assumed,
    /// the others).
    pub fn tls_refusal(self) -> TlsRefusal {
        TlsRefusal::Alert
    }

    /// The personality whose texts this one borrows where no capture of its own exists
    /// (see `ImapPersonality::borrows_from`).
    pub fn borrows_from(self) -> Option<SmtpPersonality> {
        use SmtpPersonality::*;
        match self {
            Postfix | Gmail => None,
            Office365 => Some(Exchange),
            Exchange | Yahoo | Zoho | Yandex | Gmx | Exim => Some(Postfix),
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
    /// The error challenge (base64, after `334 `) an AUTH XOAUTH2 with a refused bearer
    /// token gets before its refusal, when the server sends one. OAUTHBEARER always gets
    /// RFC 7628's `{"status":"invalid_token"}`, as Dovecot sends it.
    pub bearer_challenge: Option<&'static str>,
    /// The refusal of a bearer token (XOAUTH2, OAUTHBEARER); none: `wrong_credentials`.
    pub bearer_refused: Option<&'static str>,
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
    // Postfix relays Dovecot's challenge and refuses without a reason, whatever the token's
    // fault (containers/captures/dovecot-postfix-bearer.txt).
    bearer_challenge: Some("eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0="),
    bearer_refused: Some("535 5.7.8 Error: authentication failed: (reason unavailable)"),
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
    bearer_challenge: Some(
        "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
    ),
    bearer_refused: None,
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

/// Exchange Server on premises; what no capture shows is Postfix's.
const EXCHANGE: SmtpTexts = SmtpTexts {
    greeting: "220 SCSMX10P.Server Microsoft ESMTP MAIL Service ready at Thu, 9 Dec 2021 13:38:43 -0500",
    ehlo_hello: "SCSMX10P.Server Hello [{ip}]",
    // Exchange also lists X-ANONYMOUSTLS, X-EXPS GSSAPI NTLM, BINARYMIME, CHUNKING, XEXCH50,
    // XRDST and XSHADOW, which the mock does not implement.
    ehlo_before: &["SIZE 10485760", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES"],
    // Exchange offers `AUTH NTLM LOGIN`; the mock does not do NTLM.
    ehlo_auth: "AUTH LOGIN",
    ehlo_after: &["8BITMIME"],
    starttls_ok: "220 2.0.0 SMTP server ready",
    wrong_credentials: "535 5.7.3 Authentication unsuccessful",
    // Exchange refuses a token at once, without Postfix's (Dovecot's) challenge: see Office
    // 365's row in docs/provider-replies.md.
    bearer_challenge: None,
    auth_bad_mechanism: "504 5.7.4 Unrecognized authentication type",
    ..POSTFIX
};

/// Exchange Online: Exchange's texts with its own names and refusals.
const OFFICE365: SmtpTexts = SmtpTexts {
    greeting: "220 AM3PR05CA0094.outlook.office365.com Microsoft ESMTP MAIL Service ready at Wed, 9 Nov 2022 10:09:41 +0000",
    ehlo_hello: "AM3PR05CA0094.outlook.office365.com Hello [{ip}]",
    ehlo_before: &["SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES"],
    ehlo_auth: "AUTH LOGIN XOAUTH2",
    wrong_credentials: "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
    bearer_refused: Some(
        "535 5.7.3 Authentication unsuccessful [AM0PR06CA0126.eurprd06.prod.outlook.com 2024-02-14T14:50:26.590Z 08DC2D372B4C3DED]",
    ),
    ..EXCHANGE
};

/// Yahoo's smtp.mail.yahoo.com; what no capture shows is Postfix's.
const YAHOO: SmtpTexts = SmtpTexts {
    greeting: "220 smtp.mail.yahoo.com ESMTP ready",
    ehlo_hello: "smtp.mail.yahoo.com",
    // `8 BITMIME`, with the space, is what Yahoo sends.
    ehlo_before: &["PIPELINING", "SIZE 41697280", "8 BITMIME"],
    // Yahoo also offers XYMCOOKIE, which the mock does not do.
    ehlo_auth: "AUTH PLAIN LOGIN XOAUTH2",
    ehlo_after: &[],
    // Yahoo's one reply for a wrong password and for a missing app password.
    wrong_credentials: "535 5.7.0 (#AUTH005) Too many bad auth attempts.",
    ..POSTFIX
};

/// Zoho Mail; what no capture shows is Postfix's.
const ZOHO: SmtpTexts = SmtpTexts {
    greeting: "220 mx.zohomail.com SMTP Server ready April 18, 2024 6:40:27 AM PDT",
    ehlo_hello: "mx.zohomail.com Hello [{ip}] ({helo} ({ip}))",
    ehlo_before: &[],
    ehlo_auth: "AUTH LOGIN PLAIN",
    ehlo_after: &["SIZE 53477376"],
    starttls_ok: "220 Ready to start TLS.",
    auth_ok: "235 Authentication Successful",
    wrong_credentials: "535 Authentication Failed",
    ..POSTFIX
};

/// Yandex Mail; what no capture shows is Postfix's.
const YANDEX: SmtpTexts = SmtpTexts {
    greeting: "220 smtp4m.mail.yandex.net ESMTP (Want to use Yandex.Mail for your domain? Visit http://pdd.yandex.ru)",
    ehlo_hello: "smtp4m.mail.yandex.net",
    ehlo_before: &["8BITMIME", "PIPELINING", "SIZE 42991616"],
    ehlo_auth: "AUTH LOGIN PLAIN",
    ehlo_after: &["DSN", "ENHANCEDSTATUSCODES"],
    tls_required: "530 5.7.7 Email sending without SSL/TLS encryption is not allowed. Please see: http://help.yandex.ru/mail/mail-clients/ssl.xml",
    ..POSTFIX
};

/// GMX and Web.de (1&1's Nemesis); what no capture shows is Postfix's.
const GMX: SmtpTexts = SmtpTexts {
    greeting: "220 gmx.com (mrgmx001) Nemesis ESMTP Service ready",
    ehlo_hello: "gmx.com Hello {helo} [{ip}]",
    ehlo_before: &["SIZE 69920427"],
    ehlo_auth: "AUTH LOGIN PLAIN",
    ehlo_after: &[],
    starttls_ok: "220 OK",
    wrong_credentials: "535 Authentication credentials invalid",
    ..POSTFIX
};

/// Exim 4; what no capture shows is Postfix's.
const EXIM: SmtpTexts = SmtpTexts {
    greeting: "220 mail.smtp.com ESMTP Exim 4.94.2-S2G Mon, 01 Nov 2021 11:28:45 +0000",
    ehlo_hello: "mail.smtp.com Hello {helo} [{ip}]",
    // Exim also lists PRDR and HELP, which the mock does not implement.
    ehlo_before: &["SIZE 52428800", "8BITMIME", "PIPELINING"],
    ehlo_auth: "AUTH PLAIN LOGIN",
    ehlo_after: &[],
    wrong_credentials: "535 Incorrect authentication data",
    mail_ok: "250 OK",
    relay_denied: "550 relay not permitted",
    ..POSTFIX
};

/// Gmail's reply when an account with 2-step verification uses its normal password.
pub(crate) const APP_PASSWORD_REQUIRED: &str = "534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor o13sm2119833lfg.90 - gsmtp";

/// Office 365's reply when a sign-in policy (e.g. by source address) blocks SMTP AUTH.
pub(crate) const LOGIN_NOT_ALLOWED: &str = "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.";

/// Postfix's `reject` in smtpd_client_restrictions, reported at RCPT, or in place of the
/// greeting with `smtpd_delay_reject = no` (containers/captures/postfix-client-rejected.txt).
pub(crate) const CLIENT_REJECTED: &str =
    "554 5.7.1 <unknown[{ip}]>: Client host rejected: Access denied";

/// Postfix's refusal of a MAIL FROM whose `SIZE=` is over `message_size_limit`.
pub(crate) const SIZE_EXCEEDED: &str = "552 5.3.4 Message size exceeds fixed limit";

/// Postfix's refusal, after the final dot, of a message over `message_size_limit`
/// (`real/postfix/message-size-limit`).
pub(crate) const MESSAGE_TOO_BIG: &str = "552 5.3.4 Error: message file too big";

/// Postfix's reply when postgrey greylists a recipient (`greylisting = true`;
/// `real/postfix/greylisting`): `{rcpt}` is the recipient, `{domain}` its domain.
pub(crate) const GREYLISTED: &str = "450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{domain}.html";

/// The STARTTLS keyword as a Cisco ASA's ESMTP inspection rewrites it: stripped.
pub(crate) const STRIPPED_STARTTLS: &str = "XXXXXXXA";

impl SmtpPersonality {
    pub(crate) fn texts(self) -> &'static SmtpTexts {
        match self {
            SmtpPersonality::Postfix => &POSTFIX,
            SmtpPersonality::Gmail => &GMAIL,
            SmtpPersonality::Office365 => &OFFICE365,
            SmtpPersonality::Exchange => &EXCHANGE,
            SmtpPersonality::Yahoo => &YAHOO,
            SmtpPersonality::Zoho => &ZOHO,
            SmtpPersonality::Yandex => &YANDEX,
            SmtpPersonality::Gmx => &GMX,
            SmtpPersonality::Exim => &EXIM,
        }
    }

    /// The host name the server calls itself.
    pub(crate) fn host(self) -> &'static str {
        match self {
            SmtpPersonality::Postfix => "localhost",
            SmtpPersonality::Gmail => "smtp.gmail.com",
            SmtpPersonality::Office365 => "AM3PR05CA0094.outlook.office365.com",
            SmtpPersonality::Exchange => "SCSMX10P.Server",
            SmtpPersonality::Yahoo => "smtp.mail.yahoo.com",
            SmtpPersonality::Zoho => "mx.zohomail.com",
            SmtpPersonality::Yandex => "smtp4m.mail.yandex.net",
            SmtpPersonality::Gmx => "gmx.com",
            SmtpPersonality::Exim => "mail.smtp.com",
        }
    }
}
