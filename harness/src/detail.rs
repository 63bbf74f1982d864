//! The details: the finer reason inside a class, with stable kebab-case names. The
//! reference connector and `check` produce only these; a scenario's `[expect] detail` must
//! name one; `docs/outcomes.md` lists them all (a test checks it against [`Detail::ALL`]).
//! An external connector may report any text as its detail: an outcome keeps that text.

use std::fmt;

macro_rules! details {
    ($($variant:ident = $name:literal: $meaning:literal,)*) => {
        /// A finer reason inside a class.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Detail {
            $(#[doc = $meaning] $variant,)*
        }

        impl Detail {
            /// Every detail, in the order of the docs.
            pub const ALL: &'static [Detail] = &[$(Detail::$variant,)*];

            /// The stable name (`certificate-expired`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Detail::$variant => $name,)*
                }
            }

            /// What it means, in one sentence.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Detail::$variant => $meaning,)*
                }
            }
        }
    };
}

details! {
    // Connections.
    Dns = "dns": "The host name does not resolve.",
    ConnectionRefused = "connection-refused": "Nothing listens on the port.",
    Timeout = "timeout": "The step's time ran out (connect, greeting, reply or login).",
    ConnectionClosed = "connection-closed": "The server closed the connection where a reply was due.",
    ConnectionReset = "connection-reset": "The connection was reset.",
    ConnectionFailed = "connection-failed": "The connection failed in another way.",
    ConnectionLost = "connection-lost": "The connection ended in the middle of a command.",
    Unreachable = "unreachable": "No route to the host or network.",
    SourceAddressUnavailable = "source-address-unavailable": "The address to connect from is not on this machine.",
    InvalidHost = "invalid-host": "The host is not a name or address TLS can check a certificate against.",
    // What answers.
    NoGreeting = "no-greeting": "Connected, and no greeting came.",
    NoResponse = "no-response": "A command before login got no reply.",
    NotImap = "not-imap": "What answers is not IMAP (garbage, another protocol, a malformed reply).",
    NotSmtp = "not-smtp": "What answers is not SMTP (no code, a code outside 2xx-5xx, mixed codes, bytes that are not UTF-8).",
    ReplyTooLong = "reply-too-long": "The server sent a line over 64 KiB, or more than 1 MiB (SMTP: 200 lines) without a command to answer.",
    ServerRefused = "server-refused": "The IMAP server said BYE at a command before login.",
    GreetingRefused = "greeting-refused": "The greeting refuses service: IMAP `* BYE` or `* NO`, SMTP 554.",
    GreetingTemporarilyRefused = "greeting-temporarily-refused": "The SMTP greeting refuses service for now: 421 (too many connections, the service shutting down).",
    EhloRefused = "ehlo-refused": "The SMTP server refused EHLO.",
    CapabilityRefused = "capability-refused": "The IMAP server refused CAPABILITY.",
    MissingCapability = "missing-capability": "The IMAP server does not announce IMAP4rev1, or over TLS disables LOGIN without offering AUTH=PLAIN.",
    CourierImap = "courier-imap": "The server is Courier-IMAP, which is not supported.",
    // TLS.
    TlsRequired = "tls-required": "The server offers no encryption (no implicit TLS, no STARTTLS, or an IMAP `* PREAUTH` greeting in the clear).",
    StarttlsRefused = "starttls-refused": "The server advertises STARTTLS and refuses it.",
    TlsVersion = "tls-version": "No TLS version in common.",
    TlsHandshakeFailed = "tls-handshake-failed": "The TLS handshake failed for another reason.",
    TlsSetupFailed = "tls-setup-failed": "The connector's own TLS configuration could not be built (a bad CA file).",
    CertificateExpired = "certificate-expired": "The certificate has expired.",
    CertificateNotYetValid = "certificate-not-yet-valid": "The certificate is not valid yet.",
    CertificateUnknownAuthority = "certificate-unknown-authority": "The certificate is self-signed, from an unknown authority, or its chain is incomplete.",
    CertificateWrongHost = "certificate-wrong-host": "The certificate does not name the host connected to.",
    CertificateInvalidPurpose = "certificate-invalid-purpose": "The certificate is not for TLS servers.",
    CertificateRevoked = "certificate-revoked": "The certificate is revoked.",
    CertificateMalformed = "certificate-malformed": "The certificate cannot be parsed.",
    CertificateInvalid = "certificate-invalid": "The certificate is refused for another reason.",
    // Login.
    WrongCredentials = "wrong-credentials": "The server refuses the user name or password.",
    CredentialsNotSendable = "credentials-not-sendable": "The credentials hold characters the protocol cannot carry.",
    AppPasswordRequired = "app-password-required": "The provider requires an app-specific password.",
    WebLoginRequired = "web-login-required": "The provider wants the user to sign in on the web first.",
    ImapDisabled = "imap-disabled": "IMAP is switched off for the account.",
    TooManyConnections = "too-many-connections": "The server refuses a connection over its per-user limit.",
    TemporarilyRateLimited = "temporarily-rate-limited": "The server refuses for now: a rate or command limit (IMAP `[LIMIT]`, Gmail's `[THROTTLED]`).",
    TemporarilyInUse = "temporarily-in-use": "The mailbox is in use by another session for now (IMAP `[INUSE]`).",
    AddressNotAllowed = "address-not-allowed": "The server does not allow the connector's address.",
    AuthorizationFailed = "authorization-failed": "The credentials are right but do not give access to the mailbox (IMAP `[AUTHORIZATIONFAILED]`).",
    CredentialsExpired = "credentials-expired": "The password has expired and must be changed (IMAP `[EXPIRED]`).",
    ContactAdmin = "contact-admin": "The server tells the user to contact the administrator (IMAP `[CONTACTADMIN]`).",
    OverQuota = "over-quota": "The account is over a quota (IMAP `[OVERQUOTA]`).",
    NoPermission = "no-permission": "The account may not access what the connector needs (IMAP `[NOPERM]`).",
    ServerBug = "server-bug": "The server reports a bug of its own (IMAP `[SERVERBUG]`).",
    ClientBug = "client-bug": "The server says the connector misbehaved (IMAP `[CLIENTBUG]`).",
    ServerCannot = "server-cannot": "The server cannot do what was asked (IMAP `[CANNOT]`).",
    MailboxCorrupt = "mailbox-corrupt": "The server reports a corrupt mailbox (IMAP `[CORRUPTION]`).",
    NoSuchMailbox = "no-such-mailbox": "A folder the connector syncs does not exist (IMAP `[NONEXISTENT]`).",
    Unspecified = "unspecified": "The login was refused without a known reason.",
    ServerBye = "server-bye": "The IMAP server said BYE after a good login (an autologout, an expired session).",
    IdFailed = "id-failed": "The connection failed at ID after login.",
    ListFailed = "list-failed": "LIST after login failed.",
    SelectFailed = "select-failed": "SELECT of a folder the connector syncs failed.",
    AuthNotOffered = "auth-not-offered": "The SMTP server offers no AUTH mechanism the connector has.",
    AuthDisabled = "auth-disabled": "SMTP AUTH is switched off (for the account, the tenant or the server).",
    AuthRefused = "auth-refused": "The SMTP server refused AUTH without a known reason.",
    AuthFailed = "auth-failed": "SMTP AUTH failed without a reply.",
    PolicyRefused = "policy-refused": "A policy of the server refuses the login (conditional access, client host).",
    TemporarilyUnavailable = "temporarily-unavailable": "The server refuses for now: an SMTP 4xx reply, IMAP `[UNAVAILABLE]` or a provider's try-later text.",
    // OAuth (the token endpoint, then the mail servers' answer to the token).
    InvalidGrant = "invalid-grant": "The authorization server refuses the refresh token: expired, revoked or unknown (OAuth `invalid_grant`).",
    InvalidClient = "invalid-client": "The authorization server refuses the connector's client id or secret (OAuth `invalid_client`).",
    InvalidScope = "invalid-scope": "The authorization server refuses the scope asked for (OAuth `invalid_scope`).",
    InsufficientScope = "insufficient-scope": "The mail server refuses the token because it lacks the scope the server names (its error challenge).",
    TokenRejected = "token-rejected": "The mail server refuses a freshly issued bearer token (another user's, or for a reason it does not say).",
    TokenEndpointUnreachable = "token-endpoint-unreachable": "The token endpoint cannot be reached (nothing listens, no route, a failed handshake).",
    TokenEndpointTimeout = "token-endpoint-timeout": "The token endpoint did not answer within the step.",
    TokenEndpointError = "token-endpoint-error": "The token endpoint answered without a token and without an OAuth error code the connector acts on (a 5xx, not JSON).",
    // Sending.
    InvalidAddress = "invalid-address": "The inbox or BCC address is not an address.",
    MailFromRefused = "mail-from-refused": "The server refused MAIL FROM.",
    MailFromTemporarilyRefused = "mail-from-temporarily-refused": "The server refused MAIL FROM for now (a 4xx reply).",
    RcptRefused = "rcpt-refused": "The server refused RCPT TO.",
    RcptTemporarilyRefused = "rcpt-temporarily-refused": "The server refused RCPT TO for now (a 4xx reply: greylisting, too many recipients).",
    DataRefused = "data-refused": "The server refused DATA.",
    DataTemporarilyRefused = "data-temporarily-refused": "The server refused DATA for now (a 4xx reply).",
    UnexpectedReply = "unexpected-reply": "The server answered DATA with a positive code other than 354.",
    MessageRefused = "message-refused": "The server refused the message after its final dot.",
    MessageTemporarilyRefused = "message-temporarily-refused": "The server refused the message after its final dot for now (a 4xx reply).",
}

impl Detail {
    /// The temporary form of a refusal at `test-send` (a 4xx reply); any other detail as it
    /// is.
    pub fn temporary(self) -> Detail {
        match self {
            Detail::MailFromRefused => Detail::MailFromTemporarilyRefused,
            Detail::RcptRefused => Detail::RcptTemporarilyRefused,
            Detail::DataRefused => Detail::DataTemporarilyRefused,
            Detail::MessageRefused => Detail::MessageTemporarilyRefused,
            other => other,
        }
    }

    /// The Markdown table of every detail and its meaning, as `docs/outcomes.md` has it.
    pub fn table() -> String {
        let mut table = String::from("| detail | meaning |\n|---|---|\n");
        for detail in Detail::ALL {
            table.push_str(&format!("| `{detail}` | {} |\n", detail.meaning()));
        }
        table
    }

    /// The detail of that name, if there is one.
    pub fn parse(name: &str) -> Option<Detail> {
        Detail::ALL.iter().copied().find(|d| d.as_str() == name)
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Detail {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<Detail> for String {
    fn from(detail: Detail) -> String {
        detail.as_str().to_owned()
    }
}

impl PartialEq<Detail> for Option<String> {
    fn eq(&self, detail: &Detail) -> bool {
        self.as_deref() == Some(detail.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kebab_case_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &detail in Detail::ALL {
            let name = detail.as_str();
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
            assert!(seen.insert(name), "{name} twice");
            assert_eq!(Detail::parse(name), Some(detail));
            assert!(detail.meaning().ends_with('.'), "{name}");
        }
        assert_eq!(Detail::parse("no-such-detail"), None);
    }

    /// `docs/outcomes.md` holds the table of [`Detail::table`] between its two markers;
    /// `MAILHARNESS_UPDATE_DOCS=1` writes it there.
    #[test]
    fn the_docs_list_every_detail() {
        crate::generated_docs::check_table(
            "outcomes.md",
            "details: generated from harness/src/detail.rs",
            "end of details",
            &Detail::table(),
        );
    }
}
