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

use mailharness_mock_servers::oauth::{AuthorizationConfig, BearerCheck, EndpointFault, Tokens};
use mailharness_mock_servers::{
    ImapConfig, ImapLogin, MockConfig, Security, SmtpConfig, SmtpGreeting, User,
};

use crate::connector::ConnectionSecurity;
use crate::containers::config::{RealKind, RealServer};
use crate::scenario::{
    ImapServerKind, OAuthGrant, Scenario, SmtpServerKind, StoredToken, TokenEndpoint,
};

/// How long each of the connector's steps may take when a scenario does not say.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a scenario needs started, and how the connector reaches it.
#[derive(Debug)]
pub struct Plan {
    pub imap: Leg,
    pub smtp: Leg,
    /// The connector's per-step timeout.
    pub step_timeout: Duration,
    /// The authorization server of an OAuth account.
    pub oauth: Option<OAuthPlan>,
}

/// The client id of the connector's app at the mock authorization server.
const OAUTH_CLIENT_ID: &str = "mailharness-connector";

/// An OAuth account's secret (`what`: the client secret, the refresh token), made from the
/// run's password so that whoever knows the password (the tests that check no secret is
/// ever printed) knows them, and nobody else: the hex SHA-256 of `what` and the password.
pub fn oauth_secret(password: &str, what: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("mailharness {what}\0{password}"));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OAuth account's side of a plan: the mock authorization server (none when its endpoint
/// is down), the tokens it shares with the mail mocks, and what the connector is given.
pub struct OAuthPlan {
    /// The server to start; none: nothing listens on the token endpoint's port.
    pub server: Option<AuthorizationConfig>,
    pub tokens: Tokens,
    /// The user the tokens are for.
    pub user: String,
    pub client_id: String,
    /// The client secret the connector is given (the registered one, or another).
    pub client_secret: String,
    /// The refresh token the connector is given; none for the client-credentials grant.
    pub refresh_token: Option<String>,
    /// The access token the connector holds from before, and for how long it lives.
    pub stored_token: StoredToken,
    /// The scope the connector asks for.
    pub scope: String,
    /// The scope the IMAP server requires.
    pub required_scope: String,
    /// The scope the SMTP server requires.
    pub smtp_scope: String,
    pub lifetime: Duration,
}

impl std::fmt::Debug for OAuthPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret and the refresh token never reach a log.
        f.debug_struct("OAuthPlan")
            .field("server", &self.server)
            .field("user", &self.user)
            .field("client_id", &self.client_id)
            .field("stored_token", &self.stored_token)
            .field("scope", &self.scope)
            .field("required_scope", &self.required_scope)
            .field("smtp_scope", &self.smtp_scope)
            .finish_non_exhaustive()
    }
}

impl OAuthPlan {
    fn of(
        scenario: &Scenario,
        password: &str,
        step_timeout: Duration,
        tokens: Tokens,
    ) -> Option<OAuthPlan> {
        let oauth = scenario.oauth.as_ref()?;
        let user = oauth
            .token_user
            .clone()
            .unwrap_or_else(|| scenario.account.email.clone());
        let client_secret = oauth_secret(password, "client-secret");
        let refresh_token = oauth_secret(password, "refresh-token");
        let mut client_scopes = vec![oauth.scope.clone()];
        client_scopes.extend(oauth.smtp_scope.iter().cloned());
        client_scopes.extend(oauth.client_scopes.iter().cloned());
        let fault = match oauth.endpoint {
            TokenEndpoint::Ok | TokenEndpoint::Down => None,
            TokenEndpoint::Slow => Some(EndpointFault::Slow {
                after_ms: u64::try_from((step_timeout + Duration::from_secs(5)).as_millis())
                    .unwrap_or(u64::MAX),
            }),
            TokenEndpoint::Unavailable => Some(EndpointFault::Unavailable),
        };
        let lifetime = Duration::from_secs(oauth.token_lifetime_s);
        let server = (oauth.endpoint != TokenEndpoint::Down).then(|| AuthorizationConfig {
            certificate: oauth.certificate,
            client_id: OAUTH_CLIENT_ID.into(),
            client_secret: client_secret.clone(),
            refresh_token: refresh_token.clone(),
            refresh_token_revoked: oauth.revoked,
            user: user.clone(),
            client_scopes,
            lifetime,
            fault,
        });
        Some(OAuthPlan {
            server,
            tokens,
            user,
            client_id: OAUTH_CLIENT_ID.into(),
            client_secret: if oauth.wrong_client_secret {
                format!("not-{client_secret}")
            } else {
                client_secret
            },
            refresh_token: (oauth.grant == OAuthGrant::RefreshToken).then_some(refresh_token),
            stored_token: oauth.stored_token,
            scope: oauth.requested_scope.clone().unwrap_or_else(|| {
                let mut scopes = vec![oauth.scope.as_str()];
                scopes.extend(oauth.smtp_scope.as_deref());
                scopes.join(" ")
            }),
            required_scope: oauth.scope.clone(),
            smtp_scope: oauth
                .smtp_scope
                .clone()
                .unwrap_or_else(|| oauth.scope.clone()),
            lifetime,
        })
    }

    /// What the mail mocks check bearer tokens with: the IMAP server's scope, or the SMTP
    /// server's.
    fn bearer(&self, smtp: bool) -> BearerCheck {
        BearerCheck {
            tokens: self.tokens.clone(),
            scope: if smtp {
                self.smtp_scope.clone()
            } else {
                self.required_scope.clone()
            },
        }
    }
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
        Plan::with_tokens(scenario, password, Tokens::default())
    }

    /// [`Plan::of`], an OAuth account's authorization server issuing into `tokens`: a
    /// run's store, which its introspection endpoint serves to the real servers that check
    /// bearer tokens (see `runner::RunEnv`).
    pub fn with_tokens(scenario: &Scenario, password: &str, tokens: Tokens) -> Plan {
        let imap = &scenario.imap;
        let smtp = &scenario.smtp;
        let imap_password = imap.server_password.apply(password);
        let smtp_password = smtp.server_password.apply(password);
        let step_timeout = scenario
            .step_timeout_ms
            .map_or(DEFAULT_STEP_TIMEOUT, Duration::from_millis);
        let oauth = OAuthPlan::of(scenario, password, step_timeout, tokens);
        let imap_bearer = oauth.as_ref().map(|oauth| oauth.bearer(false));
        let smtp_bearer = oauth.as_ref().map(|oauth| oauth.bearer(true));
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
            bearer_scope: oauth.as_ref().map(|oauth| oauth.required_scope.clone()),
            login: scenario.server_login().to_owned(),
            password: imap_password.clone(),
        };
        let imap_server = match imap.server {
            ImapServerKind::Mock => Server::Mock(Box::new(
                imap_config(scenario, &imap_password, imap_bearer.clone()).into(),
            )),
            ImapServerKind::Closed => Server::Closed,
            ImapServerKind::Dovecot => Server::Real(real_imap(RealKind::Dovecot)),
            ImapServerKind::Courier => Server::Real(real_imap(RealKind::Courier)),
        };
        let smtp_server = match smtp.server {
            SmtpServerKind::Mock => Server::Mock(Box::new(
                smtp_config(scenario, &smtp_password, smtp_bearer.clone()).into(),
            )),
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
                bearer_scope: oauth.as_ref().map(|oauth| oauth.smtp_scope.clone()),
                login: scenario.server_login().to_owned(),
                password: smtp_password.clone(),
            }),
        };
        Plan {
            oauth,
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
            step_timeout,
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
fn imap_config(scenario: &Scenario, password: &str, bearer: Option<BearerCheck>) -> ImapConfig {
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
        bearer,
    }
}

/// The mock SMTP server's configuration, knowing the account with `password`.
fn smtp_config(scenario: &Scenario, password: &str, bearer: Option<BearerCheck>) -> SmtpConfig {
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
        bearer,
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
    fn imap_fields(a: &ImapConfig, b: &ImapConfig) -> [(&'static str, bool); 17] {
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
            bearer,
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
            ("bearer", bearer.is_some() != b.bearer.is_some()),
        ]
    }

    /// As [`imap_fields`], for SMTP.
    fn smtp_fields(a: &SmtpConfig, b: &SmtpConfig) -> [(&'static str, bool); 18] {
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
            bearer,
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
            ("bearer", bearer.is_some() != b.bearer.is_some()),
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
        // `[oauth]` reaches the one field both mocks take from it.
        let (imap, smtp) = mocks("[oauth]");
        assert_eq!(differing(&imap_fields(&imap, &imap_default)), ["bearer"]);
        assert_eq!(differing(&smtp_fields(&smtp, &smtp_default)), ["bearer"]);
        let mut keyed: Vec<&str> = imap_keys.iter().map(|(field, _)| *field).collect();
        keyed.push("bearer");
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
        keyed.push("bearer");
        keyed.sort();
        assert_eq!(keyed, names(&smtp_fields(&smtp_default, &smtp_default)));
    }

    #[test]
    fn an_oauth_plan_never_prints_its_secrets() {
        let text = "description = \"x\"\n[oauth]\n[expect]\nclass = \"ok\"\n";
        let scenario = crate::scenario::load::parse(Path::new("plan.toml"), text).unwrap();
        let plan = Plan::of(&scenario, "pw");
        let printed = format!("{plan:?}");
        let oauth = plan.oauth.as_ref().unwrap();
        assert_eq!(oauth.client_secret, oauth_secret("pw", "client-secret"));
        for secret in [&oauth.client_secret, oauth.refresh_token.as_ref().unwrap()] {
            assert!(!printed.contains(secret.as_str()), "{printed}");
        }
        assert!(printed.contains("mailharness-connector"));
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
