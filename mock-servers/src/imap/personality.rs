//! What real IMAP servers say, byte for byte: greetings, capability lists and reply texts
//! of twelve servers. Dovecot's and Courier's are as Debian's packages print them (the
//! real-server scenarios run those packages), Cyrus's from its source and wire logs, the
//! providers' from public wire logs. A personality with no capture of a text borrows it from
//! another (`..DOVECOT`, `borrows_from`). docs/provider-replies.md has each text with its
//! source, checked by `personality_docs`.

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
    /// Microsoft Exchange Server on premises.
    Exchange,
    /// Microsoft 365 / Office 365 and Outlook.com (outlook.office365.com): Exchange Online.
    Office365,
    /// Yahoo Mail (imap.mail.yahoo.com).
    Yahoo,
    /// iCloud Mail (imap.mail.me.com).
    Icloud,
    /// Zoho Mail (imap.zoho.com).
    Zoho,
    /// Yandex Mail (imap.yandex.com).
    Yandex,
    /// Fastmail (imap.fastmail.com), a Cyrus server with Fastmail's own texts.
    Fastmail,
    /// GMX and Web.de (imap.gmx.net, imap.web.de), one platform.
    Gmx,
    /// Cyrus IMAP.
    Cyrus,
}

impl ImapPersonality {
    /// Every personality, in the order the docs list them.
    pub const ALL: [ImapPersonality; 12] = [
        ImapPersonality::Dovecot,
        ImapPersonality::Courier,
        ImapPersonality::Gmail,
        ImapPersonality::Exchange,
        ImapPersonality::Office365,
        ImapPersonality::Yahoo,
        ImapPersonality::Icloud,
        ImapPersonality::Zoho,
        ImapPersonality::Yandex,
        ImapPersonality::Fastmail,
        ImapPersonality::Gmx,
        ImapPersonality::Cyrus,
    ];

    /// Its name in docs/provider-replies.md, whose section is `## IMAP: <name>`.
    pub fn doc_name(self) -> &'static str {
        use ImapPersonality::*;
        match self {
            Dovecot => "Dovecot",
            Courier => "Courier-IMAP",
            Gmail => "Gmail",
            Exchange => "Exchange on premises",
            Office365 => "Office 365 and Outlook.com",
            Yahoo => "Yahoo",
            Icloud => "iCloud",
            Zoho => "Zoho",
            Yandex => "Yandex",
            Fastmail => "Fastmail",
            Gmx => "GMX and Web.de",
            Cyrus => "Cyrus",
        }
    }

    /// How its real server refuses a client it shares no TLS version with, as the
    /// real-server scenarios `real/dovecot/tls10-only` and `real/courier/tls10-only` show:
    /// Dovecot closes the connection, Courier-IMAP (GnuTLS) answers with a ServerHello at
    /// its own version, the providers send an alert (and Cyrus, with OpenSSL's default,
    /// is assumed to).
    pub fn tls_refusal(self) -> TlsRefusal {
        match self {
            ImapPersonality::Dovecot => TlsRefusal::Close,
            ImapPersonality::Courier => TlsRefusal::LegacyHello,
            _ => TlsRefusal::Alert,
        }
    }

    /// The `AUTH=` list of its server set up to take bearer tokens, where that is the
    /// administrator's configuration and not the provider's fixed list: Dovecot with its
    /// `oauth2` passdb adds XOAUTH2 and OAUTHBEARER to PLAIN and LOGIN
    /// (containers/captures/dovecot-postfix-bearer.txt). The mock lists it for an `[oauth]`
    /// scenario; the other personalities list what their providers always do.
    pub fn bearer_capabilities(self) -> Option<&'static str> {
        match self {
            ImapPersonality::Dovecot => Some("AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER"),
            _ => None,
        }
    }

    /// The personality whose texts this one borrows where no capture of its own exists:
    /// its texts are written `..BASE` from that one's (docs/provider-replies.md lists only
    /// the texts that differ, and says whose the others are).
    pub fn borrows_from(self) -> Option<ImapPersonality> {
        use ImapPersonality::*;
        match self {
            Dovecot | Courier | Gmail | Exchange | Cyrus => None,
            Office365 => Some(Exchange),
            Fastmail => Some(Cyrus),
            Yahoo | Icloud | Zoho | Yandex | Gmx => Some(Dovecot),
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
    /// Tagged OK of a successful LOGIN / AUTHENTICATE; `{caps}` is the post-login list,
    /// `{user}` the login name, `{name}` the command (`LOGIN` or `AUTHENTICATE`).
    pub login_ok: &'static str,
    /// Tagged NO for a wrong password; `{name}` is the command, as in `login_ok`.
    pub wrong_credentials: &'static str,
    /// The error challenge (base64) an AUTHENTICATE XOAUTH2 with a refused bearer token gets
    /// before its refusal, when the server sends one. OAUTHBEARER always gets RFC 7628's
    /// `{"status":"invalid_token"}`, as Dovecot sends it.
    pub bearer_challenge: Option<&'static str>,
    /// Tagged NO for a refused bearer token (XOAUTH2, OAUTHBEARER); none: `wrong_credentials`.
    pub bearer_refused: Option<&'static str>,
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
    pub bye: &'static str,
    /// Tagged reply to an unknown command, or one the server does not offer, after login;
    /// `{name}` is the command.
    pub unknown_command: &'static str,
    /// Tagged reply to any command but CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN and
    /// AUTHENTICATE before login.
    pub refused_before_login: &'static str,
    /// Tagged OK of a command after login; `{name}` is its name as the server writes it
    /// (`name_case`), without `UID`. A response code goes after `OK `.
    pub completed: &'static str,
    pub name_case: NameCase,
    /// Tagged OKs that do not follow `completed`, by command.
    pub completed_exceptions: &'static [(&'static str, &'static str)],
    /// The untagged lines of SELECT, in order: `{exists}`, `{recent}`, `{unseen}` (the first
    /// unseen message; the line is left out when there is none), `{uidvalidity}`,
    /// `{uidnext}`.
    pub select_lines: &'static [&'static str],
    /// The PERMANENTFLAGS line of EXAMINE, in place of SELECT's.
    pub examine_permanent_flags: &'static str,
    pub select_ok: &'static str,
    pub examine_ok: &'static str,
    /// Untagged line of a SELECT or EXAMINE that closes the folder selected before.
    pub select_closed: Option<&'static str>,
    /// The untagged NAMESPACE answer.
    pub namespace: &'static str,
    /// Where the user's own folders live: CREATE and RENAME outside it are refused with
    /// `invalid_name`.
    pub personal_prefix: &'static str,
    pub invalid_name: &'static str,
    /// The continuation that starts IDLE.
    pub idle_continuation: &'static str,
    /// SELECT, EXAMINE or STATUS of a folder that does not exist; `{mailbox}` is its name.
    pub no_such_mailbox: &'static str,
    /// DELETE or RENAME of a folder that does not exist.
    pub delete_missing: &'static str,
    /// COPY, MOVE or APPEND to a folder that does not exist.
    pub trycreate: &'static str,
    pub already_exists: &'static str,
    /// A command of the selected state with no folder selected; `{name}` is the command.
    pub not_selected: &'static str,
    /// Arguments imap-codec cannot parse; `{name}` is the command.
    pub invalid_arguments: &'static str,
    /// A message sequence number past the last message: a tagged reply, or an untagged
    /// `* NO` (then the command completes); `{name}` is the command, `{n}` the number.
    pub invalid_messageset: &'static str,
    /// STORE in a folder opened with EXAMINE, when the server says so.
    pub read_only_store: Option<&'static str>,
    /// The quota root of every folder (QUOTA).
    pub quota_root: &'static str,
    /// The untagged QUOTA answer; `{root}` is the root asked for, `{used}` the storage used
    /// in KiB.
    pub quota_line: &'static str,
    /// The refusal of SETQUOTA: users cannot set their own quota.
    pub setquota_refused: &'static str,
    /// The untagged HIGHESTMODSEQ line of SELECT with CONDSTORE on; `{modseq}` is the value.
    pub highest_modseq: &'static str,
}

/// How a personality writes a command's name in its tagged OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameCase {
    /// `Fetch`, as Dovecot.
    Capitalized,
    /// `FETCH`.
    Upper,
}

impl ImapTexts {
    /// The tagged OK of `command` (upper case, without `UID`), with an optional response
    /// code after `OK `.
    pub(crate) fn completed(&self, command: &str, code: Option<&str>) -> String {
        let text = match self
            .completed_exceptions
            .iter()
            .find(|(name, _)| *name == command)
        {
            Some((_, text)) => (*text).to_owned(),
            None => {
                let name = match self.name_case {
                    NameCase::Upper => command.to_owned(),
                    NameCase::Capitalized => {
                        let lower = command.to_ascii_lowercase();
                        let mut chars = lower.chars();
                        chars
                            .next()
                            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                            .unwrap_or_default()
                    }
                };
                self.completed.replace("{name}", &name)
            }
        };
        match code {
            Some(code) => match text.strip_prefix("OK ") {
                Some(rest) => format!("OK [{code}] {rest}"),
                None => text,
            },
            None => text,
        }
    }
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
    // {"status":"401","schemes":"bearer","scope":"mail"}, whatever the token's fault
    // (containers/captures/dovecot-postfix-bearer.txt).
    bearer_challenge: Some("eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0="),
    bearer_refused: None,
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
    bye: "* BYE Logging out",
    unknown_command: "BAD Error in IMAP command {name}: Unknown command (0.001 + 0.000 secs).",
    refused_before_login: "BAD Error in IMAP command received by server.",
    completed: "OK {name} completed (0.001 + 0.000 secs).",
    name_case: NameCase::Capitalized,
    completed_exceptions: &[
        ("NOOP", "OK NOOP completed (0.001 + 0.000 secs)."),
        ("ID", "OK ID completed (0.001 + 0.000 secs)."),
        ("ENABLE", "OK Enabled (0.001 + 0.000 secs)."),
        ("NOTIFY", "OK NOTIFY completed (0.001 + 0.000 secs)."),
    ],
    select_lines: &[
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
        "* {exists} EXISTS",
        "* {recent} RECENT",
        "* OK [UNSEEN {unseen}] First unseen.",
        "* OK [UIDVALIDITY {uidvalidity}] UIDs valid",
        "* OK [UIDNEXT {uidnext}] Predicted next UID",
    ],
    examine_permanent_flags: "* OK [PERMANENTFLAGS ()] Read-only mailbox.",
    select_ok: "OK [READ-WRITE] Select completed (0.001 + 0.000 secs).",
    examine_ok: "OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).",
    select_closed: Some("* OK [CLOSED] Previous mailbox closed."),
    namespace: "* NAMESPACE ((\"\" \".\")) NIL NIL",
    personal_prefix: "",
    invalid_name: "NO Invalid mailbox name (0.001 + 0.000 secs).",
    idle_continuation: "+ idling",
    no_such_mailbox: "NO Mailbox doesn't exist: {mailbox} (0.001 + 0.000 secs).",
    delete_missing: "NO [NONEXISTENT] Mailbox doesn't exist: {mailbox} (0.001 + 0.000 secs).",
    trycreate: "NO [TRYCREATE] Mailbox doesn't exist: {mailbox} (0.001 + 0.000 secs).",
    already_exists: "NO [ALREADYEXISTS] Mailbox already exists (0.001 + 0.000 secs).",
    not_selected: "BAD No mailbox selected (0.001 + 0.000 secs).",
    invalid_arguments: "BAD Error in IMAP command {name}: Invalid arguments (0.001 + 0.000 secs).",
    invalid_messageset: "BAD Error in IMAP command {name}: Invalid messageset (0.001 + 0.000 secs).",
    read_only_store: Some("OK Store ignored with read-only mailbox (0.001 + 0.000 secs)."),
    quota_root: "User quota",
    quota_line: "* QUOTA \"{root}\" (STORAGE {used} 1048576)",
    setquota_refused: "NO [NOPERM] Permission denied (0.001 + 0.000 secs).",
    highest_modseq: "* OK [HIGHESTMODSEQ {modseq}] Highest",
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
    bearer_challenge: None,
    bearer_refused: None,
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
    bye: "* BYE Courier-IMAP server shutting down",
    unknown_command: "NO Error in IMAP command received by server.",
    refused_before_login: "NO Error in IMAP command received by server.",
    completed: "OK {name} completed",
    name_case: NameCase::Upper,
    completed_exceptions: &[
        ("NAMESPACE", "OK NAMESPACE completed."),
        ("APPEND", "OK APPEND Ok."),
        ("STATUS", "OK STATUS Completed."),
        ("FETCH", "OK FETCH completed."),
        ("SEARCH", "OK SEARCH done."),
        ("STORE", "OK STORE completed."),
        ("ENABLE", "OK Options enabled"),
        ("CLOSE", "OK mailbox closed."),
        ("SORT", "OK SORT done."),
        ("THREAD", "OK THREAD done."),
        ("GETQUOTAROOT", "OK GETQUOTAROOT Ok."),
        ("GETQUOTA", "OK GETQUOTA Ok."),
        ("MYRIGHTS", "OK MYRIGHTS completed."),
        ("GETACL", "OK GETACL completed."),
        ("LISTRIGHTS", "OK LISTRIGHTS completed."),
    ],
    select_lines: &[
        "* FLAGS (\\Draft \\Answered \\Flagged \\Deleted \\Seen \\Recent)",
        "* OK [PERMANENTFLAGS (\\* \\Draft \\Answered \\Flagged \\Deleted \\Seen)] Limited",
        "* {exists} EXISTS",
        "* {recent} RECENT",
        "* OK [UIDVALIDITY {uidvalidity}] Ok",
        "* OK [MYRIGHTS \"acdilrsw\"] ACL",
    ],
    examine_permanent_flags: "* OK [PERMANENTFLAGS ()] No permanent flags permitted",
    select_ok: "OK [READ-WRITE] Ok",
    examine_ok: "OK [READ-ONLY] Ok",
    select_closed: None,
    namespace: "* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\")(\"shared.\" \".\"))",
    personal_prefix: "INBOX.",
    invalid_name: "NO Invalid mailbox name.",
    idle_continuation: "+ entering idle mode",
    no_such_mailbox: "NO Mailbox does not exist, or must be subscribed to.",
    delete_missing: "NO Mailbox does not exist, or must be subscribed to.",
    trycreate: "NO [TRYCREATE] Mailbox does not exist.",
    // Not captured: Dovecot's words without its timing.
    already_exists: "NO [ALREADYEXISTS] Mailbox already exists.",
    not_selected: "NO Error in IMAP command received by server.",
    invalid_arguments: "NO Error in IMAP command received by server.",
    invalid_messageset: "* NO Invalid message sequence number: {n}",
    read_only_store: None,
    quota_root: "ROOT",
    quota_line: "* QUOTA \"{root}\"",
    setquota_refused: "NO SETQUOTA No permission.",
    highest_modseq: "* OK [HIGHESTMODSEQ {modseq}] Highest",
};

const GMAIL: ImapTexts = ImapTexts {
    greeting: "* OK Gimap ready for requests from {ip} m62mb244108374wme",
    base_capabilities: "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR",
    auth_capabilities: "AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER AUTH=XOAUTH",
    post_login_capabilities: "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584",
    capability_ok: "OK Thats all she wrote! m62mb244108374wme",
    login_ok: "OK {user} authenticated (Success)",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    bearer_challenge: Some(
        "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
    ),
    bearer_refused: Some("NO Invalid SASL argument. qk7if1705226pac.117"),
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
    bye: "* BYE LOGOUT Requested",
    unknown_command: "BAD Unknown command m62mb244108374wme",
    refused_before_login: "BAD Unknown command m62mb244108374wme",
    completed: "OK Success",
    name_case: NameCase::Upper,
    completed_exceptions: &[
        ("CAPABILITY", "OK Thats all she wrote! m62mb244108374wme"),
        ("LOGOUT", "OK 73 good day (Success)"),
        ("SEARCH", "OK SEARCH completed (Success)"),
        ("IDLE", "OK IDLE terminated (Success)"),
        ("APPEND", "OK (Success)"),
        ("COPY", "OK (Success)"),
        ("UNSELECT", "OK Returned to authenticated state. (Success)"),
        ("CLOSE", "OK Returned to authenticated state. (Success)"),
    ],
    select_lines: &[
        "* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing \\*)] Flags permitted.",
        "* OK [UIDVALIDITY {uidvalidity}] UIDs valid.",
        "* {exists} EXISTS",
        "* {recent} RECENT",
        "* OK [UIDNEXT {uidnext}] Predicted next UID.",
    ],
    examine_permanent_flags: "* OK [PERMANENTFLAGS ()] Flags permitted.",
    select_ok: "OK [READ-WRITE] {mailbox} selected. (Success)",
    examine_ok: "OK [READ-ONLY] {mailbox} selected. (Success)",
    select_closed: None,
    namespace: "* NAMESPACE ((\"\" \"/\")) NIL NIL",
    personal_prefix: "",
    invalid_name: "NO [CANNOT] Invalid folder name (Failure)",
    idle_continuation: "+ idling",
    no_such_mailbox: "NO [NONEXISTENT] Unknown Mailbox: {mailbox} (now in authenticated state) (Failure)",
    delete_missing: "NO [NONEXISTENT] Unknown Mailbox: {mailbox} (Failure)",
    trycreate: "NO [TRYCREATE] No folder {mailbox} (Failure)",
    already_exists: "NO [ALREADYEXISTS] Duplicate folder name {mailbox} (Failure)",
    not_selected: "BAD {name} not allowed now.",
    invalid_arguments: "BAD Could not parse command",
    invalid_messageset: "BAD Could not parse command",
    read_only_store: None,
    quota_root: "",
    quota_line: "* QUOTA \"{root}\" (STORAGE {used} 15728640)",
    setquota_refused: "NO [NOPERM] Permission denied. (Failure)",
    highest_modseq: "* OK [HIGHESTMODSEQ {modseq}]",
};

const EXCHANGE: ImapTexts = ImapTexts {
    greeting: "* OK The Microsoft Exchange IMAP4 service is ready.",
    base_capabilities: "IMAP4 IMAP4rev1{tls}{auth} UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+",
    // Exchange also lists AUTH=NTLM AUTH=GSSAPI, which the mock's AUTHENTICATE does not do.
    auth_capabilities: "AUTH=PLAIN",
    post_login_capabilities: "IMAP4 IMAP4rev1 UIDPLUS MOVE ID CHILDREN IDLE NAMESPACE LITERAL+",
    capability_ok: "OK CAPABILITY completed.",
    login_ok: "OK {name} completed.",
    wrong_credentials: "NO {name} failed.",
    bearer_challenge: None,
    bearer_refused: None,
    too_many_connections: "NO Server Unavailable. 15",
    privacy_alert: None,
    privacy_required: "BAD Command received in Invalid state.",
    starttls_ok: "OK Begin TLS negotiation now.",
    starttls_unavailable: "BAD Command Argument Error. 11",
    id_response: Some(r#"* ID ("name" "Microsoft.Exchange.Imap4.Imap4Server" "version" "15.20")"#),
    id_refused: "BAD Error in IMAP command ID: Unknown command.",
    sent_folder: "Sent Items",
    delimiter: '/',
    bye: "* BYE Microsoft Exchange Server IMAP4 server signing off.",
    unknown_command: "BAD Command Error. 10",
    refused_before_login: "BAD Command received in Invalid state.",
    completed: "OK {name} completed.",
    name_case: NameCase::Upper,
    completed_exceptions: &[],
    select_lines: &[
        "* {exists} EXISTS",
        "* {recent} RECENT",
        "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)",
        "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags",
        "* OK [UNSEEN {unseen}] Is the first unseen message",
        "* OK [UIDVALIDITY {uidvalidity}] UIDVALIDITY value",
        "* OK [UIDNEXT {uidnext}] The next unique identifier value",
    ],
    examine_permanent_flags: "* OK [PERMANENTFLAGS ()] Permanent flags",
    select_ok: "OK [READ-WRITE] SELECT completed.",
    examine_ok: "OK [READ-ONLY] EXAMINE completed.",
    select_closed: None,
    namespace: "* NAMESPACE ((\"\" \"/\")) NIL NIL",
    personal_prefix: "",
    invalid_name: "NO Command Argument Error. 11",
    idle_continuation: "+ IDLE accepted, awaiting DONE command.",
    no_such_mailbox: "NO {mailbox} doesn't exist.",
    delete_missing: "NO {mailbox} doesn't exist.",
    trycreate: "NO [TRYCREATE] {mailbox} doesn't exist.",
    already_exists: "NO Mailbox already exists.",
    not_selected: "BAD Command received in Invalid state.",
    invalid_arguments: "BAD Command Argument Error. 11",
    invalid_messageset: "BAD The specified message set is invalid.",
    read_only_store: None,
    quota_root: "",
    quota_line: "* QUOTA \"{root}\" (STORAGE {used} 52428800)",
    setquota_refused: "NO Command Argument Error. 11",
    highest_modseq: "* OK [HIGHESTMODSEQ {modseq}] Highest",
};

/// Exchange Online: Exchange's texts with its own greeting (the server's name in base64
/// UTF-16), capabilities and BYE.
const OFFICE365: ImapTexts = ImapTexts {
    greeting: "* OK The Microsoft Exchange IMAP4 service is ready. [UwBOADEAUABSADAAMgBDAEEAMAAwADEANQAuAG4AYQBtAHAAcgBkADAAMgAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]",
    base_capabilities: "IMAP4 IMAP4rev1{auth} SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
    auth_capabilities: "AUTH=PLAIN AUTH=XOAUTH2",
    post_login_capabilities: "IMAP4 IMAP4rev1 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
    bye: "* BYE Microsoft Exchange Server 2016 IMAP4 server signing off.",
    ..EXCHANGE
};

/// Yahoo's imapgate; what no capture shows is Dovecot's.
const YAHOO: ImapTexts = ImapTexts {
    greeting: "* OK Welcome! IMAP Server up and ready to accept your request",
    base_capabilities: "IMAP4rev1 ID MOVE NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ CHILDREN XAPPLEPUSHSERVICE XYMHIGHESTMODSEQ{auth}",
    // Yahoo also lists AUTH=XYMCOOKIE AUTH=XYMECOOKIE AUTH=XYMCOOKIEB64 AUTH=XYMPKI, which
    // the mock's AUTHENTICATE does not do.
    auth_capabilities: "AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2",
    // Yahoo's X-ID-ACLID, XAPPLEPUSHSERVICE and XYMHIGHESTMODSEQ are not modelled.
    post_login_capabilities: "IMAP4rev1 ID MOVE NAMESPACE UIDPLUS LITERAL+",
    capability_ok: "OK CAPABILITY completed",
    login_ok: "OK {name} completed",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] {name} Invalid credentials",
    bye: "* BYE IMAP4rev1 Server logging out",
    completed: "OK {name} completed",
    name_case: NameCase::Upper,
    completed_exceptions: &[],
    examine_permanent_flags: "* OK [PERMANENTFLAGS ()] No permanent flags permitted",
    select_ok: "OK [READ-WRITE] SELECT completed; now in selected state",
    examine_ok: "OK [READ-ONLY] EXAMINE completed; now in selected state",
    ..DOVECOT
};

/// iCloud's iSCREAM; what no capture shows is Dovecot's.
const ICLOUD: ImapTexts = ImapTexts {
    greeting: "* OK [CAPABILITY {caps}] iSCREAM ready to rumble (15E201-d02dd996912b:14338) mr11p00im-iscream023 [28:1275:08:32:19:74]",
    base_capabilities: "mr11p00im-iscream023 15E201 XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR{auth}",
    // iCloud lists AUTH=ATOKEN before AUTH=PLAIN; the mock's AUTHENTICATE does not do it.
    auth_capabilities: "AUTH=PLAIN",
    // iCloud's XAPPLEPUSHSERVICE, RIGHTS=tekx, URLAUTH, LANGUAGE, CONTEXT=SORT, METADATA,
    // XSENDER, X-SUN-SORT, ANNOTATE-EXPERIMENT-1, X-UNAUTHENTICATE, X-SUN-IMAP and XUM1
    // are not modelled.
    post_login_capabilities: "IMAP4 IMAP4rev1 ACL QUOTA LITERAL+ NAMESPACE UIDPLUS CHILDREN BINARY UNSELECT SORT CATENATE ESEARCH ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONDSTORE ENABLE QRESYNC CONTEXT=SEARCH WITHIN SASL-IR SEARCHRES ID IDLE",
    capability_ok: "OK !!",
    login_ok: "OK [CAPABILITY {caps}] User {user} logged in",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] Authentication failed",
    completed: "OK Completed",
    completed_exceptions: &[],
    ..DOVECOT
};

/// Zoho Mail; what no capture shows is Dovecot's.
const ZOHO: ImapTexts = ImapTexts {
    greeting: "* OK svwall.zoho.com IMAP4 Server (Zoho Mail IMAP4rev1 Server version 1.0)",
    base_capabilities: "IMAP4rev1 UNSELECT CHILDREN XLIST NAMESPACE IDLE MOVE ID{auth} SASL-IR UIDPLUS ESEARCH LIST-EXTENDED LIST-STATUS WITHIN LITERAL- ACL CONDSTORE",
    auth_capabilities: "AUTH=PLAIN",
    post_login_capabilities: "IMAP4rev1 UNSELECT CHILDREN XLIST NAMESPACE IDLE MOVE ID AUTH=PLAIN SASL-IR UIDPLUS ESEARCH LIST-EXTENDED LIST-STATUS WITHIN LITERAL- ACL CONDSTORE",
    capability_ok: "OK CAPABILITY completed",
    login_ok: "OK Success",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] Invalid credentials(Failure)",
    ..DOVECOT
};

/// Yandex Mail; what no capture shows is Dovecot's.
const YANDEX: ImapTexts = ImapTexts {
    greeting: "* OK Yandex IMAP4rev1 at imap53p.mail.yandex.net:993 ready to talk with ::ffff:{ip}:39078, 2018-May-29 10:37:40, ebI8JB0ug4Y1",
    base_capabilities: "IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST BINARY UIDPLUS ENABLE ID{auth} IDLE MOVE",
    auth_capabilities: "AUTH=PLAIN AUTH=XOAUTH2",
    post_login_capabilities: "IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST BINARY UIDPLUS ENABLE ID IDLE MOVE",
    capability_ok: "OK CAPABILITY Completed.",
    wrong_credentials: "NO [AUTHENTICATIONFAILED] {name} Invalid credentials or IMAP is disabled sc=ebI8JB0ug4Y1_290737_53p",
    ..DOVECOT
};

/// Fastmail runs Cyrus: Cyrus's texts with Fastmail's greeting and refusals.
const FASTMAIL: ImapTexts = ImapTexts {
    greeting: "* OK IMAP4 ready",
    capability_ok: "OK completed",
    wrong_credentials: "NO Incorrect username or password.",
    ..CYRUS
};

/// GMX and Web.de (1&1's platform); what no capture shows is Dovecot's.
const GMX: ImapTexts = ImapTexts {
    greeting: "* OK [CAPABILITY {caps}] IMAP server ready H miweb111 2651323638 IMAP-0MTLMM-1bTdBH3nBH-00SFx2",
    base_capabilities: "IMAP4rev1 CHILDREN ENABLE ID IDLE LIST-EXTENDED LIST-STATUS LITERAL- MOVE NAMESPACE QUOTA SASL-IR SORT SPECIAL-USE THREAD=ORDEREDSUBJECT UIDPLUS UNSELECT WITHIN{tls}{auth}",
    auth_capabilities: "AUTH=LOGIN AUTH=PLAIN",
    post_login_capabilities: "IMAP4rev1 CHILDREN ENABLE ID IDLE LIST-EXTENDED LIST-STATUS LITERAL- MOVE NAMESPACE QUOTA SASL-IR SORT SPECIAL-USE THREAD=ORDEREDSUBJECT UIDPLUS UNSELECT WITHIN",
    wrong_credentials: "NO authentication failed",
    ..DOVECOT
};

/// Cyrus IMAP 3, from its source (imap/imapd.c, imap/index.c, imap/imap_err.et of
/// cyrusimap/cyrus-imapd) and the wire logs docs/provider-replies.md names.
const CYRUS: ImapTexts = ImapTexts {
    greeting: "* OK [CAPABILITY {caps}] mailhost.example.com Cyrus IMAP 3.12.0 server ready",
    // Cyrus 3.10 to 3.12 advertise SASL-IR as SASL_IR (a bug, seen on the wire), and
    // IMAP4rev2, which the mock does not model after login.
    base_capabilities: "IMAP4rev1 IMAP4rev2 ENABLE ID LITERAL+{tls} SASL_IR{auth}",
    auth_capabilities: "AUTH=PLAIN AUTH=LOGIN",
    post_login_capabilities: "IMAP4rev1 LITERAL+ ID ENABLE ACL QUOTA NAMESPACE UIDPLUS IDLE UNSELECT CHILDREN SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONDSTORE ESEARCH WITHIN MOVE SPECIAL-USE LIST-EXTENDED LIST-STATUS BINARY MULTIAPPEND SASL-IR",
    capability_ok: "OK Completed",
    login_ok: "OK [CAPABILITY {caps}] User logged in SESSIONID=<mailhost.example.com-1234-1700000000-1-1234567890123456789>",
    wrong_credentials: "NO Login failed: authentication failure",
    bearer_challenge: None,
    bearer_refused: None,
    too_many_connections: "NO Too many open connections ({limit} of {limit} for {user})",
    privacy_alert: None,
    privacy_required: "NO Login only available under a layer",
    starttls_ok: "OK Begin TLS negotiation now",
    starttls_unavailable: "BAD Unrecognized command",
    id_response: Some(
        r#"* ID ("name" "Cyrus IMAPD" "version" "3.12.0" "vendor" "Project Cyrus" "support-url" "https://www.cyrusimap.org")"#,
    ),
    id_refused: "BAD Unrecognized command",
    sent_folder: "Sent",
    delimiter: '/',
    bye: "* BYE LOGOUT received",
    unknown_command: "BAD Unrecognized command",
    refused_before_login: "BAD Please login first",
    completed: "OK Completed",
    name_case: NameCase::Capitalized,
    completed_exceptions: &[],
    select_lines: &[
        "* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen \\*)] Ok",
        "* {exists} EXISTS",
        "* {recent} RECENT",
        "* OK [UNSEEN {unseen}] Ok",
        "* OK [UIDVALIDITY {uidvalidity}] Ok",
        "* OK [UIDNEXT {uidnext}] Ok",
    ],
    examine_permanent_flags: "* OK [PERMANENTFLAGS ()] Ok",
    select_ok: "OK [READ-WRITE] Completed",
    examine_ok: "OK [READ-ONLY] Completed",
    select_closed: None,
    namespace: "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared Folders/\" \"/\"))",
    personal_prefix: "",
    invalid_name: "NO Invalid mailbox name",
    idle_continuation: "+ idling",
    no_such_mailbox: "NO Mailbox does not exist",
    delete_missing: "NO Mailbox does not exist",
    trycreate: "NO [TRYCREATE] Mailbox does not exist",
    already_exists: "NO Mailbox already exists",
    not_selected: "BAD Please select a mailbox first",
    invalid_arguments: "BAD Missing required argument to {name}",
    invalid_messageset: "BAD Invalid sequence in {name}",
    read_only_store: None,
    quota_root: "INBOX",
    quota_line: "* QUOTA \"{root}\" (STORAGE {used} 1048576)",
    setquota_refused: "NO Permission denied",
    highest_modseq: "* OK [HIGHESTMODSEQ {modseq}] Ok",
};

/// Gmail's reply when an account with 2-step verification logs in with its normal password.
pub(crate) const APP_PASSWORD_REQUIRED: &str = "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)";

/// Dovecot's reply when its authentication service is down.
pub(crate) const UNAVAILABLE: &str = "NO [UNAVAILABLE] Temporary authentication failure.";

/// Dovecot's reply to a login of a user whose passdb entry says `nologin` with a `reason`
/// (`real/dovecot/nologin`).
pub(crate) const NOLOGIN: &str = "NO [CONTACTADMIN] {reason}";

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
            ImapPersonality::Office365 => &OFFICE365,
            ImapPersonality::Yahoo => &YAHOO,
            ImapPersonality::Icloud => &ICLOUD,
            ImapPersonality::Zoho => &ZOHO,
            ImapPersonality::Yandex => &YANDEX,
            ImapPersonality::Fastmail => &FASTMAIL,
            ImapPersonality::Gmx => &GMX,
            ImapPersonality::Cyrus => &CYRUS,
        }
    }
}
