//! One mapping from a scenario to its servers: for each leg (IMAP, SMTP), which server of
//! which kind with which settings, and how the connector is told to reach it. The runner
//! starts a plan's legs and gives the connector settings from it, a run's preparation starts
//! its real servers ahead, `serve` starts and prints them; nothing else reads a scenario's
//! `[imap]`/`[smtp]` server keys.
//!
//! ```text
//! scenario file ─ scenario::load ─▶ Scenario ─ Plan::of ─▶ Plan ─ runner ─▶ mock server,
//!                                                                           closed port, or
//!                                                                           container
//! ```

use std::time::Duration;

use mailharness_mock_servers::{
    ImapConfig, ImapLogin, MockConfig, Security, SmtpConfig, SmtpGreeting, User,
};

use crate::connector::ConnectionSecurity;
use crate::containers::config::{RealKind, RealServer};
use crate::scenario::{ImapServerKind, Scenario, SmtpServerKind};

/// How long each of the connector's steps may take when a scenario does not say.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a scenario needs started, and how the connector reaches it.
#[derive(Debug)]
pub struct Plan {
    pub imap: Leg,
    pub smtp: Leg,
    /// The connector's per-step timeout.
    pub step_timeout: Duration,
}

/// One protocol's server and how the connector is told to connect to it.
#[derive(Debug)]
pub struct Leg {
    pub server: Server,
    /// How the server listens (implicit TLS, STARTTLS, stripped, plaintext).
    pub security: Security,
    pub connector_security: ConnectionSecurity,
}

/// Which server answers on a leg.
#[derive(Debug)]
pub enum Server {
    /// A mock server, with its configuration.
    Mock(Box<MockConfig>),
    /// Nothing listens: connections are refused.
    Closed,
    /// A real server in a container.
    Real(RealServer),
}

impl Plan {
    /// The plan of `scenario`, its servers knowing the account with `password`.
    pub fn of(scenario: &Scenario, password: &str) -> Plan {
        let imap = &scenario.imap;
        let smtp = &scenario.smtp;
        let imap_password = imap.server_password.apply(password);
        let smtp_password = smtp.server_password.apply(password);
        let real_imap = |kind| RealServer {
            kind,
            security: imap.security,
            certificate: imap.certificate,
            tls_versions: imap.tls_versions,
            max_connections: imap.max_connections_per_user,
            nologin: match &imap.login {
                ImapLogin::Nologin(reason) => Some(reason.clone()),
                _ => None,
            },
            offer_auth: true,
            relay_denied: false,
            message_size_limit: None,
            greylisting: false,
            client_rejected: false,
            login: scenario.server_login().to_owned(),
            password: imap_password.clone(),
        };
        let imap_server = match imap.server {
            ImapServerKind::Mock => {
                Server::Mock(Box::new(imap_config(scenario, &imap_password).into()))
            }
            ImapServerKind::Closed => Server::Closed,
            ImapServerKind::Dovecot => Server::Real(real_imap(RealKind::Dovecot)),
            ImapServerKind::Courier => Server::Real(real_imap(RealKind::Courier)),
        };
        let smtp_server = match smtp.server {
            SmtpServerKind::Mock => {
                Server::Mock(Box::new(smtp_config(scenario, &smtp_password).into()))
            }
            SmtpServerKind::Closed => Server::Closed,
            SmtpServerKind::Postfix => Server::Real(RealServer {
                kind: RealKind::Postfix,
                security: smtp.security,
                certificate: smtp.certificate,
                tls_versions: smtp.tls_versions,
                max_connections: None,
                nologin: None,
                offer_auth: smtp.offer_auth,
                relay_denied: smtp.relay_denied,
                message_size_limit: smtp.message_size_limit,
                greylisting: smtp.greylisting,
                client_rejected: smtp.greeting == SmtpGreeting::ClientRejected,
                login: scenario.server_login().to_owned(),
                password: smtp_password.clone(),
            }),
        };
        Plan {
            imap: Leg {
                server: imap_server,
                security: imap.security,
                connector_security: connector_security(imap.connector_security, imap.security),
            },
            smtp: Leg {
                server: smtp_server,
                security: smtp.security,
                connector_security: connector_security(smtp.connector_security, smtp.security),
            },
            step_timeout: scenario
                .step_timeout_ms
                .map_or(DEFAULT_STEP_TIMEOUT, Duration::from_millis),
        }
    }

    /// The real servers of the plan (none, one or two).
    pub fn real_servers(&self) -> impl Iterator<Item = &RealServer> {
        [&self.imap, &self.smtp]
            .into_iter()
            .filter_map(|leg| match &leg.server {
                Server::Real(real) => Some(real),
                Server::Mock(_) | Server::Closed => None,
            })
    }
}

fn users(scenario: &Scenario, password: &str) -> Vec<User> {
    vec![User {
        login: scenario.server_login().to_owned(),
        password: password.to_owned(),
    }]
}

/// The mock IMAP server's configuration, knowing the account with `password`.
fn imap_config(scenario: &Scenario, password: &str) -> ImapConfig {
    let imap = &scenario.imap;
    ImapConfig {
        personality: imap.personality,
        security: imap.security,
        certificate: imap.certificate,
        tls_versions: imap.tls_versions,
        tls_refusal: imap.tls_refusal,
        greeting: imap.greeting.clone(),
        capabilities: imap.capabilities.clone(),
        auth_mechanisms: imap.auth_mechanisms.clone(),
        users: users(scenario, password),
        login: imap.login.clone(),
        max_connections_per_user: imap.max_connections_per_user,
        folders: imap.folders.clone(),
        allowlist: imap.allowlist.clone(),
        faults: imap.faults.clone(),
        hostile: imap.hostile.clone(),
        reply: imap.reply.clone(),
    }
}

/// The mock SMTP server's configuration, knowing the account with `password`.
fn smtp_config(scenario: &Scenario, password: &str) -> SmtpConfig {
    let smtp = &scenario.smtp;
    SmtpConfig {
        personality: smtp.personality,
        security: smtp.security,
        certificate: smtp.certificate,
        tls_versions: smtp.tls_versions,
        tls_refusal: smtp.tls_refusal,
        greeting: smtp.greeting.clone(),
        users: users(scenario, password),
        auth: smtp.auth.clone(),
        require_auth: smtp.require_auth,
        offer_auth: smtp.offer_auth,
        relay_denied: smtp.relay_denied,
        message_size_limit: smtp.message_size_limit,
        greylisting: smtp.greylisting,
        replies: smtp.replies.clone(),
        allowlist: smtp.allowlist.clone(),
        faults: smtp.faults.clone(),
        hostile: smtp.hostile.clone(),
    }
}

/// How the connector is told to connect: as the scenario says, else as the server listens
/// (a STARTTLS port for anything but implicit TLS).
fn connector_security(
    explicit: Option<ConnectionSecurity>,
    server: Security,
) -> ConnectionSecurity {
    explicit.unwrap_or(match server {
        Security::ImplicitTls => ConnectionSecurity::ImplicitTls,
        Security::Starttls | Security::StarttlsStripped | Security::Plaintext => {
            ConnectionSecurity::Starttls
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailharness_mock_servers::MockConfig;
    use std::path::Path;

    /// The mock configurations of a scenario with `body` (its `[imap]`/`[smtp]`/`[account]`).
    fn mocks(body: &str) -> (ImapConfig, SmtpConfig) {
        let text = format!("description = \"x\"\n{body}\n[expect]\nclass = \"ok\"\n");
        let scenario = crate::scenario::load::parse(Path::new("plan.toml"), &text)
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        let plan = Plan::of(&scenario, "pw");
        let (Server::Mock(imap), Server::Mock(smtp)) = (plan.imap.server, plan.smtp.server) else {
            panic!("mock legs expected");
        };
        match (*imap, *smtp) {
            (MockConfig::Imap(imap), MockConfig::Smtp(smtp)) => (*imap, *smtp),
            _ => panic!("an IMAP and an SMTP configuration expected"),
        }
    }

    /// Each field of an IMAP configuration, and whether it differs. The destructuring names
    /// every field: a new one does not compile until it is listed here, and then the test
    /// below fails until a scenario key reaches it.
    fn imap_fields(a: &ImapConfig, b: &ImapConfig) -> [(&'static str, bool); 16] {
        let ImapConfig {
            personality,
            security,
            certificate,
            tls_versions,
            tls_refusal,
            greeting,
            capabilities,
            auth_mechanisms,
            users,
            login,
            max_connections_per_user,
            folders,
            allowlist,
            faults,
            hostile,
            reply,
        } = a;
        [
            ("personality", *personality != b.personality),
            ("security", *security != b.security),
            ("certificate", *certificate != b.certificate),
            ("tls_versions", *tls_versions != b.tls_versions),
            ("tls_refusal", *tls_refusal != b.tls_refusal),
            ("greeting", *greeting != b.greeting),
            ("capabilities", *capabilities != b.capabilities),
            ("auth_mechanisms", *auth_mechanisms != b.auth_mechanisms),
            ("users", *users != b.users),
            ("login", *login != b.login),
            (
                "max_connections_per_user",
                *max_connections_per_user != b.max_connections_per_user,
            ),
            ("folders", *folders != b.folders),
            ("allowlist", *allowlist != b.allowlist),
            ("faults", *faults != b.faults),
            ("hostile", *hostile != b.hostile),
            ("reply", *reply != b.reply),
        ]
    }

    /// As [`imap_fields`], for SMTP.
    fn smtp_fields(a: &SmtpConfig, b: &SmtpConfig) -> [(&'static str, bool); 17] {
        let SmtpConfig {
            personality,
            security,
            certificate,
            tls_versions,
            tls_refusal,
            greeting,
            users,
            auth,
            require_auth,
            offer_auth,
            relay_denied,
            message_size_limit,
            greylisting,
            replies,
            allowlist,
            faults,
            hostile,
        } = a;
        [
            ("personality", *personality != b.personality),
            ("security", *security != b.security),
            ("certificate", *certificate != b.certificate),
            ("tls_versions", *tls_versions != b.tls_versions),
            ("tls_refusal", *tls_refusal != b.tls_refusal),
            ("greeting", *greeting != b.greeting),
            ("users", *users != b.users),
            ("auth", *auth != b.auth),
            ("require_auth", *require_auth != b.require_auth),
            ("offer_auth", *offer_auth != b.offer_auth),
            ("relay_denied", *relay_denied != b.relay_denied),
            (
                "message_size_limit",
                *message_size_limit != b.message_size_limit,
            ),
            ("greylisting", *greylisting != b.greylisting),
            ("replies", *replies != b.replies),
            ("allowlist", *allowlist != b.allowlist),
            ("faults", *faults != b.faults),
            ("hostile", *hostile != b.hostile),
        ]
    }

    fn differing(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
        fields
            .iter()
            .filter(|(_, d)| *d)
            .map(|(name, _)| *name)
            .collect()
    }

    fn names(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
        let mut names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        names.sort();
        names
    }

    #[test]
    fn every_mock_setting_is_reachable_from_a_scenario_key() {
        let (imap_default, smtp_default) = mocks("");
        let imap_keys = [
            ("personality", "personality = \"courier\""),
            ("security", "security = \"starttls\""),
            ("certificate", "certificate = \"expired\""),
            ("tls_versions", "tls-versions = \"1.0\""),
            ("tls_refusal", "tls-refusal = \"close\""),
            ("greeting", "greeting = \"none\""),
            ("capabilities", "capabilities = \"IMAP4rev1 IDLE\""),
            ("auth_mechanisms", "auth-mechanisms = [\"PLAIN\"]"),
            ("users", "server-password = \"different\""),
            ("login", "login = \"wrong-credentials\""),
            ("max_connections_per_user", "max-connections-per-user = 2"),
            ("folders", "folders = [\"Archive\"]"),
            (
                "allowlist",
                "allowlist = { sources = [\"127.0.0.2/32\"], refuse-at = \"login\" }",
            ),
            ("faults", "faults = { stall = true }"),
            ("hostile", "[[imap.hostile]]\nat = \"greeting\"\nsend = 'x'"),
            ("reply", "[[imap.reply]]\nto = \"select\"\nreply = \"NO x\""),
        ];
        for (field, key) in imap_keys {
            let (imap, smtp) = mocks(&format!("[imap]\n{key}"));
            let changed = differing(&imap_fields(&imap, &imap_default));
            assert_eq!(changed, [field], "[imap] {key}");
            assert!(differing(&smtp_fields(&smtp, &smtp_default)).is_empty());
        }
        let mut keyed: Vec<&str> = imap_keys.iter().map(|(field, _)| *field).collect();
        keyed.sort();
        assert_eq!(keyed, names(&imap_fields(&imap_default, &imap_default)));

        let smtp_keys = [
            ("personality", "personality = \"gmail\""),
            ("security", "security = \"starttls\""),
            ("certificate", "certificate = \"expired\""),
            ("tls_versions", "tls-versions = \"1.0\""),
            ("tls_refusal", "tls-refusal = \"close\""),
            ("greeting", "greeting = \"none\""),
            ("users", "server-password = \"different\""),
            ("auth", "auth = \"wrong-credentials\""),
            ("require_auth", "require-auth = false"),
            ("offer_auth", "offer-auth = false"),
            ("relay_denied", "relay-denied = true"),
            ("message_size_limit", "message-size-limit = 1000"),
            ("greylisting", "greylisting = true"),
            ("replies", "replies = { rcpt = \"554 5.7.1 no\" }"),
            (
                "allowlist",
                "allowlist = { sources = [\"127.0.0.2/32\"], refuse-at = \"send\" }",
            ),
            ("faults", "faults = { stall = true }"),
            ("hostile", "[[smtp.hostile]]\nat = \"greeting\"\nsend = 'x'"),
        ];
        for (field, key) in smtp_keys {
            let (imap, smtp) = mocks(&format!("[smtp]\n{key}"));
            let changed = differing(&smtp_fields(&smtp, &smtp_default));
            assert_eq!(changed, [field], "[smtp] {key}");
            assert!(differing(&imap_fields(&imap, &imap_default)).is_empty());
        }
        let mut keyed: Vec<&str> = smtp_keys.iter().map(|(field, _)| *field).collect();
        keyed.sort();
        assert_eq!(keyed, names(&smtp_fields(&smtp_default, &smtp_default)));
    }

    #[test]
    fn a_real_server_is_planned_with_its_kind_and_the_connector_security_follows_the_server() {
        let text = "description = \"x\"\n[imap]\nserver = \"courier\"\nsecurity = \"starttls\"\n\
                    [smtp]\nserver = \"closed\"\n[expect]\nclass = \"ok\"\n";
        let scenario = crate::scenario::load::parse(Path::new("plan.toml"), text).unwrap();
        let plan = Plan::of(&scenario, "pw");
        let kinds: Vec<RealKind> = plan.real_servers().map(|real| real.kind).collect();
        assert_eq!(kinds, [RealKind::Courier]);
        assert_eq!(plan.imap.connector_security, ConnectionSecurity::Starttls);
        assert!(matches!(plan.smtp.server, Server::Closed));
        assert_eq!(plan.step_timeout, DEFAULT_STEP_TIMEOUT);
    }
}
