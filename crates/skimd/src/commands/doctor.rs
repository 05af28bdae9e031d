//! `skimd doctor`: every check as a ✔/✘ line with the fix; non-zero exit if any ✘.

use std::process::ExitCode;

use std::path::Path;

use num_bigint::BigUint;
use secrecy::{ExposeSecret, SecretString};

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
        match check_key_file(what, path) {
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
            Err(e) => out.push(Check::Fail(format!(
                "{e}: regenerate the access token in the portal, or point OAUTH_ENCRYPTION_PATH at the key registered with it"
            ))),
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
        Err(e) => out.push(Check::Fail(e)),
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

/// What a key file check found. (ibkr-oauth's `credentials` module has the same checks; these
/// stand in until it is exported.)
pub struct KeyFileReport {
    pub permissions_too_open: bool,
    pub mode: Option<u32>,
    pub bits: usize,
}

fn read_key(what: &str, path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{what} file {} does not exist: put the PEM there or fix the path",
            path.display()
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "{what} file {} is not readable by this user: chown it to the user running skimd and chmod 600",
            path.display()
        ),
        _ => format!("cannot read {what} file {}: {e}", path.display()),
    })
}

pub fn check_key_file(what: &str, path: &Path) -> Result<KeyFileReport, String> {
    use rsa::traits::PublicKeyParts as _;
    let pem = SecretString::from(read_key(what, path)?);
    let key = ibkr_oauth::keys::parse_private_key_pem(
        &format!("{what} {}", path.display()),
        pem.expose_secret(),
    )
    .map_err(|e| e.to_string())?;
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };
    #[cfg(not(unix))]
    let mode = None;
    Ok(KeyFileReport {
        permissions_too_open: mode.is_some_and(|m| m & 0o077 != 0),
        mode,
        bits: key.size() * 8,
    })
}

pub fn check_access_token_secret(path: &Path, secret: &SecretString) -> Result<(), String> {
    let pem = SecretString::from(read_key("encryption key", path)?);
    let key = ibkr_oauth::keys::parse_private_key_pem("encryption key", pem.expose_secret())
        .map_err(|e| e.to_string())?;
    ibkr_oauth::keys::decrypt_access_token_secret(&key, secret.expose_secret())
        .map(drop)
        .map_err(|e| e.to_string())
}

pub struct DhPrimeReport {
    pub bits: u64,
    pub from_file: bool,
}

/// The DH prime as hex, dhparam.pem text, or a path to a dhparam.pem: odd and ≥ 2048 bits.
pub fn load_dh_prime(value: &str) -> Result<(BigUint, bool), String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(
            "OAUTH_DH_PRIME is empty: set it to the hex prime or the path of dhparam.pem".into(),
        );
    }
    let hexish = v.strip_prefix("0x").unwrap_or(v);
    let is_inline = v.contains("-----BEGIN") || hexish.bytes().all(|b| b.is_ascii_hexdigit());
    let (text, from_file) = if is_inline {
        (v.to_string(), false)
    } else {
        let text = std::fs::read_to_string(v).map_err(|_| {
            format!("OAUTH_DH_PRIME: {v:?} is neither hex nor a readable dhparam.pem file: give the hex prime or fix the path")
        })?;
        (text, true)
    };
    let prime =
        ibkr_oauth::keys::parse_dh_prime(&text).map_err(|e| format!("OAUTH_DH_PRIME: {e}"))?;
    if prime.bits() < 2048 {
        return Err(format!(
            "OAUTH_DH_PRIME: the prime has {} bits, at least 2048 are needed (openssl dhparam -out dhparam.pem 2048)",
            prime.bits()
        ));
    }
    if !prime.bit(0) {
        return Err(
            "OAUTH_DH_PRIME: the number is even, so not a prime: copy it again from dhparam.pem"
                .into(),
        );
    }
    Ok((prime, from_file))
}

pub fn check_dh_prime(value: &str) -> Result<DhPrimeReport, String> {
    load_dh_prime(value).map(|(p, from_file)| DhPrimeReport {
        bits: p.bits(),
        from_file,
    })
}
