//! What real IMAP servers say, byte for byte: greetings, capability lists and reply texts
//! of Dovecot, Courier-IMAP, Gmail and Exchange: Dovecot's and Courier's as Debian's
//! packages print them (the real-server scenarios run those packages), Gmail's and
//! Exchange's from public wire logs (docs/provider-replies.md has each text with its source,
//! checked by `personality_docs`). Where no capture of a
//! reply exists, the text comes from the server's source, or, marked below, is Dovecot's.

use serde::{Deserialize, Serialize};

use crate::config::TlsRefusal;

/// Which real server the mock imitates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImapPersonality {
    /// Dovecot 2.3 as Debian ships it.
    #[default]
    Dovecot,
    /// Courier-IMAP 5.0 as Debian ships it: the server connectors must reject.
    Courier,
    /// Gmail (imap.gmail.com).
    Gmail,
    /// Microsoft Exchange / Office 365.
    Exchange,
}

impl ImapPersonality {
    /// How its real server refuses a client it shares no TLS version with, as the
    /// real-server scenarios `real/dovecot/tls10-only` and `real/courier/tls10-only` show:
    /// Dovecot closes the connection, Courier-IMAP (GnuTLS) answers with a ServerHello at
    /// its own version, the providers send an alert.
    pub fn tls_refusal(self) -> TlsRefusal {
        match self {
            ImapPersonality::Dovecot => TlsRefusal::Close,
            ImapPersonality::Courier => TlsRefusal::LegacyHello,
            ImapPersonality::Gmail | ImapPersonality::Exchange => TlsRefusal::Alert,
        }
    }
}

/// The texts of one personality. `{caps}` stands for a capability list, `{ip}` for the
/// client's address, `{limit}` for the connection limit.
pub(crate) struct ImapTexts {
    /// Greeting; `{caps}` is the pre-login capability list.
    pub greeting: &'static str,
    /// Capabilities before login that do not depend on TLS. `{auth}` and `{tls}` mark where
    /// the `AUTH=` list and `STARTTLS`/`LOGINDISABLED` go (each with its leading space);
    /// without the markers they go at the end.
    pub base_capabilities: &'static str,
    /// The `AUTH=` part of the pre-login list, when login is allowed.
    pub auth_capabilities: &'static str,
    /// Capabilities after login.
    pub post_login_capabilities: &'static str,
    pub capability_ok: &'static str,
    /// Tagged OK of a successful LOGIN / AUTHENTICATE; `{caps}` is the post-login list.
    pub login_ok: &'static str,
    pub wrong_credentials: &'static str,
    /// Tagged NO for the session over the per-user limit.
    pub too_many_connections: &'static str,
    /// Untagged line sent before `privacy_required`, if the server sends one.
    pub privacy_alert: Option<&'static str>,
    /// Tagged NO for a login attempt in the clear when TLS is required.
    pub privacy_required: &'static str,
    pub starttls_ok: &'static str,
    pub starttls_unavailable: &'static str,
    /// The untagged ID answer; `None` for a server without ID.
    pub id_response: Option<&'static str>,
    /// The tagged refusal of ID by a server without it.
    pub id_refused: &'static str,
    pub sent_folder: &'static str,
    pub delimiter: char,
    pub list_ok: &'static str,
    pub bye: &'static str,
    pub logout_ok: &'static str,
    /// Tagged BAD for an unknown command; `{name}` is the command.
    pub unknown_command: &'static str,
}

const DOVECOT: ImapTexts = ImapTexts {
    greeting: "* OK [CAPABILITY {caps}] Dovecot (Debian) ready.",
    base_capabilities: "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+{tls}{auth}",
    auth_capabilities: "AUTH=PLAIN AUTH=LOGIN",
    post_login_capabilities: "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE",
    capability_ok: "OK Pre-login capabilities listed, post-login capabilities have more.",
    login_ok: "OK [CAPABILITY {caps}] Logged in",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] Authentication failed.",
    // Dovecot 2.3.19 as Debian ships it (seen); older versions said [UNAVAILABLE].
    too_many_connections: "NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections={limit})",
    privacy_alert: Some(
        "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.",
    ),
    privacy_required: "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
    starttls_ok: "OK Begin TLS negotiation now.",
    starttls_unavailable: "BAD TLS support isn't enabled.",
    id_response: Some(r#"* ID ("name" "Dovecot")"#),
    id_refused: "BAD Error in IMAP command ID: Unknown command.",
    sent_folder: "Sent",
    delimiter: '.',
    list_ok: "OK List completed (0.001 + 0.000 secs).",
    bye: "* BYE Logging out",
    logout_ok: "OK Logout completed (0.001 + 0.000 secs).",
    unknown_command: "BAD Error in IMAP command {name}: Unknown command.",
};

const COURIER: ImapTexts = ImapTexts {
    // As seen from Debian's courier-imap 5.0.13 (two spaces after "Inc.").
    greeting: "* OK [CAPABILITY {caps}] Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc.  See COPYING for distribution information.",
    base_capabilities: "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE{auth} ACL ACL2=UNION{tls} ENABLE UTF8=ACCEPT",
    auth_capabilities: "AUTH=PLAIN",
    post_login_capabilities: "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN ACL ACL2=UNION ENABLE UTF8=ACCEPT",
    capability_ok: "OK CAPABILITY completed",
    login_ok: "OK LOGIN Ok.",
    // Courier waits several seconds before this reply (7 s seen); the mock answers at once.
    wrong_credentials: "NO Login failed.",
    // Not captured from Courier: Dovecot's text.
    too_many_connections: "NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections={limit})",
    privacy_alert: None,
    privacy_required: "NO STARTTLS required",
    starttls_ok: "OK Begin SSL/TLS negotiation now.",
    starttls_unavailable: "NO Error in IMAP command received by server.",
    // Debian's 5.0.13 does not implement ID (seen); newer Courier answers
    // ("name" "Courier-IMAP" "vendor" "S. Varshavchik.").
    id_response: None,
    id_refused: "NO Error in IMAP command received by server.",
    sent_folder: "INBOX.Sent",
    delimiter: '.',
    list_ok: "OK LIST completed",
    bye: "* BYE Courier-IMAP server shutting down",
    logout_ok: "OK LOGOUT completed",
    unknown_command: "BAD Error in IMAP command received by server.",
};

const GMAIL: ImapTexts = ImapTexts {
    greeting: "* OK Gimap ready for requests from {ip} m62mb244108374wme",
    base_capabilities: "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR",
    auth_capabilities: "AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER AUTH=XOAUTH",
    post_login_capabilities: "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584",
    capability_ok: "OK Thats all she wrote! m62mb244108374wme",
    login_ok: "OK {user} authenticated (Success)",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    too_many_connections: "NO [ALERT] Too many simultaneous connections. (Failure)",
    privacy_alert: None,
    // Gmail offers no STARTTLS on IMAP; Dovecot's text stands in.
    privacy_required: "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
    starttls_ok: "OK Begin TLS negotiation now.",
    starttls_unavailable: "BAD Unknown command m62mb244108374wme",
    id_response: Some(
        r#"* ID ("name" "GImap" "vendor" "Google, Inc." "support-url" "https://support.google.com/mail")"#,
    ),
    id_refused: "BAD Error in IMAP command ID: Unknown command.",
    sent_folder: "[Gmail]/Sent Mail",
    delimiter: '/',
    list_ok: "OK Success",
    bye: "* BYE LOGOUT Requested",
    logout_ok: "OK 73 good day (Success)",
    unknown_command: "BAD Unknown command m62mb244108374wme",
};

const EXCHANGE: ImapTexts = ImapTexts {
    greeting: "* OK The Microsoft Exchange IMAP4 service is ready.",
    base_capabilities: "IMAP4 IMAP4rev1 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
    auth_capabilities: "AUTH=PLAIN AUTH=XOAUTH2",
    post_login_capabilities: "IMAP4 IMAP4rev1 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
    capability_ok: "OK CAPABILITY completed.",
    login_ok: "OK LOGIN completed.",
    wrong_credentials: "NO LOGIN failed.",
    too_many_connections: "NO Server Unavailable. 15",
    privacy_alert: None,
    privacy_required: "BAD Command received in Invalid state.",
    starttls_ok: "OK Begin TLS negotiation now.",
    starttls_unavailable: "BAD Command Argument Error. 11",
    id_response: Some(r#"* ID ("name" "Microsoft.Exchange.Imap4.Imap4Server" "version" "15.20")"#),
    id_refused: "BAD Error in IMAP command ID: Unknown command.",
    sent_folder: "Sent Items",
    delimiter: '/',
    list_ok: "OK LIST completed.",
    bye: "* BYE Microsoft Exchange Server IMAP4 server signing off.",
    logout_ok: "OK LOGOUT completed.",
    unknown_command: "BAD Command Error. 10",
};

/// Gmail's reply when an account with 2-step verification logs in with its normal password.
pub(crate) const APP_PASSWORD_REQUIRED: &str = "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)";

/// Dovecot's reply when its authentication service is down.
pub(crate) const UNAVAILABLE: &str = "NO [UNAVAILABLE] Temporary authentication failure.";

/// The mock's reply to a login from a source outside the allowlist. No real server's text
/// was found for this case (Dovecot answers as for a wrong password); scenarios can set
/// their own with `refusal-text`.
pub(crate) const ADDRESS_NOT_ALLOWED: &str =
    "NO [CONTACTADMIN] Login from this address is not allowed.";

impl ImapPersonality {
    pub(crate) fn texts(self) -> &'static ImapTexts {
        match self {
            ImapPersonality::Dovecot => &DOVECOT,
            ImapPersonality::Courier => &COURIER,
            ImapPersonality::Gmail => &GMAIL,
            ImapPersonality::Exchange => &EXCHANGE,
        }
    }
}
