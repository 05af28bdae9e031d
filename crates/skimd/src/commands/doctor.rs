//! `skimd doctor`: every check as a ✔/✘ line with the fix; non-zero exit if any ✘.

use std::process::ExitCode;

use ibkr_oauth::credentials::{check_access_token_secret, check_dh_prime, check_key_file};

use crate::configuration::{Settings, SettingsError};

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Ok(String),
    Warn(String),
    Fail(String),
}

impl Check {
    pub fn line(&self) -> String {
        match self {
            Check::Ok(s) => format!("✔ {s}"),
            Check::Warn(s) => format!("⚠ {s}"),
            Check::Fail(s) => format!("✘ {s}"),
        }
    }
}

/// The checks that need no network: settings, key files, the secret, the prime, the URL.
pub fn offline_checks(settings: &Settings) -> Vec<Check> {
    let mut out = Vec::new();
    let missing = settings.missing_credentials();
    if missing.is_empty() {
        out.push(Check::Ok("every required setting is present".into()));
    }
    for (key, env) in &missing {
        out.push(Check::Fail(format!(
            "{key} is empty: set {env} (environment or .env) to the value from IBKR's self-service portal"
        )));
    }
    let mut keys_ok = true;
    for (what, path) in [
        ("signature key", &settings.ibkr.signature_key_path),
        ("encryption key", &settings.ibkr.encryption_key_path),
    ] {
        match check_key_file(what, path).map_err(|e| e.to_string()) {
            Ok(report) => {
                out.push(Check::Ok(format!(
                    "{what} {} is a {}-bit RSA private key",
                    path.display(),
                    report.bits
                )));
                if report.permissions_too_open {
                    out.push(Check::Warn(format!(
                        "{what} {} can be read by other users (mode {:o}): chmod 600 {}",
                        path.display(),
                        report.mode.unwrap_or(0),
                        path.display()
                    )));
                }
            }
            Err(e) => {
                keys_ok = false;
                out.push(Check::Fail(e));
            }
        }
    }
    if keys_ok && !settings.ibkr.access_token_secret_is_empty() {
        match check_access_token_secret(
            &settings.ibkr.encryption_key_path,
            &settings.ibkr.access_token_secret,
        ) {
            Ok(()) => out.push(Check::Ok(
                "the encryption key decrypts the access token secret".into(),
            )),
            Err(e) => out.push(Check::Fail(e.to_string())),
        }
    }
    match check_dh_prime(&settings.ibkr.dh_prime) {
        Ok(report) => out.push(Check::Ok(format!(
            "the DH prime is a {}-bit odd number{}",
            report.bits,
            if report.from_file {
                " (from dhparam.pem)"
            } else {
                ""
            }
        ))),
        Err(e) => out.push(Check::Fail(e.to_string())),
    }
    match url::Url::parse(&settings.ibkr.base_url) {
        Ok(_) => out.push(Check::Ok(format!("base URL {}", settings.ibkr.base_url))),
        Err(e) => out.push(Check::Fail(format!(
            "ibkr.base_url {:?} does not parse ({e}): set SKIM_IBKR__BASE_URL",
            settings.ibkr.base_url
        ))),
    }
    if settings.ibkr.paper_trading {
        out.push(Check::Ok(
            "paper trading (accounts must start with DU)".into(),
        ));
    } else {
        out.push(Check::Warn(
            "LIVE trading: PAPER_TRADING=false, real money will be traded".into(),
        ));
    }
    out
}

/// Runs every check and prints them; exit 1 if any failed.
pub async fn run(loaded: Result<Settings, SettingsError>) -> ExitCode {
    let settings = match loaded {
        Ok(s) => {
            println!(
                "{}",
                Check::Ok("settings load and every value is valid".into()).line()
            );
            s
        }
        Err(e) => {
            println!("{}", Check::Fail(e.to_string()).line());
            return ExitCode::FAILURE;
        }
    };
    let mut checks = offline_checks(&settings);
    let offline_failed = checks.iter().any(|c| matches!(c, Check::Fail(_)));
    for c in &checks {
        println!("{}", c.line());
    }
    if offline_failed {
        println!("✘ live handshake skipped: fix the lines above first");
        return ExitCode::FAILURE;
    }
    let live = live_checks(&settings).await;
    for c in &live {
        println!("{}", c.line());
    }
    checks.extend(live);
    if checks.iter().any(|c| matches!(c, Check::Fail(_))) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The handshake and `ssodh/init` against the configured base URL.
pub async fn live_checks(settings: &Settings) -> Vec<Check> {
    let credentials = match crate::context::load_credentials(settings) {
        Ok(c) => c,
        Err(e) => return vec![Check::Fail(format!("{e:#}"))],
    };
    let session =
        match ibkr_oauth::Session::new(credentials, crate::context::session_config(settings)) {
            Ok(s) => s,
            Err(e) => return vec![Check::Fail(e.to_string())],
        };
    let mut out = Vec::new();
    match session.authenticate().await {
        Ok(()) => {
            // The operator's successful handshake lifts the daemon's restart-loop guard.
            if let Ok(store) = crate::commands::local::open_store(settings).await {
                let failures = store.flags().await.map(|f| f.auth_failures).unwrap_or(0);
                if failures > 0 {
                    crate::context::record_auth_failures(&store, 0).await;
                    out.push(Check::Ok(format!(
                        "cleared the count of {failures} refused handshakes: skimd run will handshake again"
                    )));
                }
                store.close().await;
            }
            let state = session.state();
            out.push(Check::Ok(format!(
                "live handshake and ssodh/init at {} (token expires {})",
                settings.ibkr.base_url,
                state
                    .lst_expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "?".into())
            )));
        }
        Err(e) => {
            out.push(Check::Fail(crate::context::explain_ibkr_error(&e)));
            return out;
        }
    }
    match session.accounts().await {
        Ok(a) => {
            let account = a
                .selected_account
                .clone()
                .or_else(|| a.accounts.first().cloned())
                .unwrap_or_default();
            match crate::context::check_account_mode(settings.ibkr.paper_trading, &account) {
                Ok(()) => out.push(Check::Ok(format!(
                    "account {account} ({})",
                    if a.is_paper { "paper" } else { "live" }
                ))),
                Err(e) => out.push(Check::Fail(e.to_string())),
            }
        }
        Err(e) => out.push(Check::Fail(format!("cannot list accounts: {e}"))),
    }
    let _ = session.logout().await;
    out
}
