//! Shared by the `check` tests: start a scenario's servers (mock or real, from the one
//! scenario format) and run `mailharness check` against them.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use mailharness::check::{self, CheckConfig, CheckReport, Requirement, Verdict};
use mailharness::outcome::ErrorClass;
use mailharness::runner::{HOST, RunEnv, StartedServers};
use mailharness::scenario::load::parse;

/// The servers of the scenario `body` (its `[imap]`/`[smtp]` tables; the `[expect]` a
/// scenario file needs is added), and a check configuration aimed at them that trusts the
/// run's CA only.
pub struct Setup {
    pub env: RunEnv,
    pub servers: StartedServers,
    pub config: CheckConfig,
    _dir: tempfile::TempDir,
}

pub async fn setup(body: &str) -> Setup {
    setup_with_password(body, None).await
}

/// As [`setup`], with the servers knowing `password` (a fresh random one when none).
pub async fn setup_with_password(body: &str, password: Option<String>) -> Setup {
    let text = format!("description = \"check test\"\n{body}\n[expect]\nclass = \"ok\"\n");
    let scenario = parse(Path::new("check-test.toml"), &text).expect("a valid scenario");
    let env = RunEnv::new(password).expect("certificates");
    let servers = env.start(&scenario).await.expect("servers start");
    let plan = mailharness::plan::Plan::of(&scenario, env.password().expose());
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, env.certs.ca_pem()).expect("write ca.pem");
    let account = mailharness::connector::Settings {
        imap: mailharness::connector::Endpoint {
            host: HOST.to_owned(),
            port: servers.imap_port(),
            security: plan.imap.connector_security,
        },
        smtp: mailharness::connector::Endpoint {
            host: HOST.to_owned(),
            port: servers.smtp_port(),
            security: plan.smtp.connector_security,
        },
        email: scenario.account.email.clone(),
        username: scenario.account.username.clone(),
        password: env.password().clone(),
        oauth: None,
        ca_file: Some(ca_file),
        trust_system_roots: false,
        allow_insecure_certificate: false,
        bcc: scenario.account.email.clone(),
        limits: Default::default(),
        step_timeout: Duration::from_secs(10),
        source_address: None,
    };
    let config = CheckConfig {
        account,
        send_test_to: None,
        connector_tls: check::vendor_tls(),
    };
    Setup {
        env,
        servers,
        config,
        _dir: dir,
    }
}

impl Setup {
    pub async fn check(&self) -> CheckReport {
        check::run(&self.config).await.expect("the check runs")
    }
}

/// Runs the check against the scenario `body`, with `tweak` applied to the configuration.
pub async fn check_with(body: &str, tweak: impl FnOnce(&mut CheckConfig)) -> CheckReport {
    let mut setup = setup(body).await;
    tweak(&mut setup.config);
    setup.check().await
}

/// Asserts one row's verdict, and for a failure the class and detail.
#[track_caller]
pub fn assert_row(
    report: &CheckReport,
    requirement: Requirement,
    verdict: Verdict,
    failure: Option<(ErrorClass, &str)>,
) {
    let row = report
        .rows
        .iter()
        .find(|row| row.requirement == requirement)
        .unwrap_or_else(|| panic!("no row {requirement:?}"));
    let context = || format!("row {requirement:?}\n{}", report.human(false));
    assert_eq!(row.verdict, verdict, "{}", context());
    if let Some((class, detail)) = failure {
        assert_eq!(row.class, Some(class), "{}", context());
        assert_eq!(row.detail.as_deref(), Some(detail), "{}", context());
        assert!(
            row.remedy.is_some(),
            "a failure names its remedy\n{}",
            context()
        );
    }
}

/// Asserts that every row has the verdict `all` but those named in `except`.
#[track_caller]
pub fn assert_verdicts(report: &CheckReport, all: Verdict, except: &[(Requirement, Verdict)]) {
    for requirement in Requirement::ALL {
        let expected = except
            .iter()
            .find(|(r, _)| *r == requirement)
            .map_or(all, |(_, verdict)| *verdict);
        assert_eq!(
            report.row(requirement).verdict,
            expected,
            "row {} ({})\n{}",
            requirement.number(),
            requirement.title(),
            report.human(false)
        );
    }
}

/// Asserts that the rows of `requirements` (in step order) were skipped.
#[track_caller]
pub fn assert_skipped(report: &CheckReport, requirements: RangeInclusive<Requirement>) {
    for row in report
        .rows
        .iter()
        .filter(|row| requirements.contains(&row.requirement))
    {
        assert_eq!(
            row.verdict,
            Verdict::Skipped,
            "{:?}\n{}",
            row.requirement,
            report.human(false)
        );
    }
}

/// The evidence of one row.
pub fn evidence(report: &CheckReport, requirement: Requirement) -> &str {
    &report.row(requirement).evidence
}
