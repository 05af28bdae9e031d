//! The application context every job runs over: settings, the IBKR session, the store, the
//! clock and the notifier. The scheduler, the one-shot CLI commands, the demo and the tests
//! all build one and call the same job functions with it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ibkr_oauth::{CredentialSource, Credentials, RetryPolicy, Session, SessionConfig};
use secrecy::{ExposeSecret, SecretString};
use store::Store;
use strategy::StrategySettings;
use strategy::asx::Calendar;

use crate::clock::Clock;
use crate::configuration::Settings;
use crate::notify::Notifier;

/// The IBKR side: the one session of the process and the account it trades.
#[derive(Debug, Clone)]
pub struct Ibkr {
    pub session: Session,
    pub account: String,
    /// IBKR says this is a paper account.
    pub is_paper: bool,
}

impl Ibkr {
    pub fn is_authenticated(&self) -> bool {
        self.session.state().authenticated
    }
}

/// Everything a job needs.
#[derive(Debug)]
pub struct AppContext {
    pub settings: Arc<Settings>,
    pub strategy: StrategySettings,
    pub calendar: Calendar,
    pub tz: Tz,
    pub store: Store,
    pub ibkr: Ibkr,
    pub clock: Arc<dyn Clock>,
    pub notifier: Notifier,
    /// For the ASX announcements page.
    pub http: reqwest::Client,
    /// Held while an order row is written and sent, and while reconciliation settles pending
    /// rows, so reconciliation never judges a row whose POST is still on its way.
    pub desk: tokio::sync::Mutex<()>,
    /// Position mismatches already notified (so each is reported once, not every 30 s).
    pub reported_mismatches: Mutex<HashSet<String>>,
}

/// The session settings from `[ibkr]`.
pub fn session_config(settings: &Settings) -> SessionConfig {
    let i = &settings.ibkr;
    SessionConfig {
        base_url: i.base_url.clone(),
        user_agent: i.user_agent.clone(),
        request_timeout: Duration::from_secs(i.request_timeout_secs),
        tickle_interval: Duration::from_secs(i.tickle_interval_secs),
        lst_refresh_margin: Duration::from_secs(i.lst_refresh_margin_secs),
        max_auth_failures: i.max_auth_failures,
        init_settle: Duration::from_millis(i.init_settle_ms),
        retry: RetryPolicy {
            rate_limit_wait: Duration::from_secs(i.rate_limit_wait_secs),
            ..RetryPolicy::default()
        },
        ..SessionConfig::default()
    }
}

/// The credentials named by `[ibkr]`, loaded and checked (one clear error naming the setting).
pub fn load_credentials(settings: &Settings) -> anyhow::Result<Credentials> {
    settings.require_credentials()?;
    let i = &settings.ibkr;
    let source = CredentialSource {
        consumer_key: i.consumer_key.clone(),
        access_token: i.access_token.expose_secret().to_string(),
        access_token_secret: SecretString::from(i.access_token_secret.expose_secret().to_string()),
        signature_key_path: i.signature_key_path.clone(),
        encryption_key_path: i.encryption_key_path.clone(),
        dh_prime: i.dh_prime.clone(),
        realm: i.realm.clone(),
    };
    Ok(Credentials::load(&source)?)
}

/// Handshakes, opens the brokerage session and picks the account, refusing a non-paper
/// account while `paper_trading` is on.
///
/// Refused handshakes are counted in the store, so `max_auth_failures` holds across restarts:
/// a daemon that a supervisor restarts over and over with bad credentials stops handshaking
/// (IBKR locks accounts that keep failing) until a handshake succeeds in `skimd doctor`.
pub async fn connect_ibkr(
    settings: &Settings,
    credentials: Credentials,
    store: &Store,
) -> anyhow::Result<Ibkr> {
    let max = settings.ibkr.max_auth_failures;
    let failures = store
        .flags()
        .await
        .context("cannot read the handshake failure count")?
        .auth_failures;
    if failures >= max {
        anyhow::bail!(
            "IBKR refused the last {failures} handshakes (ibkr.max_auth_failures = {max}): skim will not try again by itself, so a restart loop cannot get the account locked; run `skimd doctor` to find the cause (a handshake that succeeds there clears the count)"
        );
    }
    let session = Session::new(credentials, session_config(settings))
        .context("cannot set up the IBKR session")?;
    session.restore_auth_failures(failures);
    let authenticated = session.authenticate().await;
    record_auth_failures(store, session.state().auth_failures).await;
    authenticated
        .map_err(|e| {
            let text = explain_ibkr_error(&e);
            anyhow::Error::new(e).context(text)
        })
        .context("the IBKR handshake failed")?;
    let accounts = session
        .accounts()
        .await
        .context("cannot list the IBKR accounts")?;
    let wanted = settings.ibkr.account_id.trim();
    let account = if wanted.is_empty() {
        accounts
            .selected_account
            .clone()
            .filter(|a| !a.is_empty())
            .or_else(|| accounts.accounts.first().cloned())
            .context("IBKR lists no account for this login")?
    } else if accounts.accounts.iter().any(|a| a == wanted) {
        wanted.to_string()
    } else {
        anyhow::bail!(
            "ibkr.account_id {wanted} is not one of this login's accounts ({})",
            accounts.accounts.join(", ")
        );
    };
    check_account_mode(settings.ibkr.paper_trading, &account)?;
    Ok(Ibkr {
        session,
        account,
        is_paper: accounts.is_paper,
    })
}

/// Saves the count of consecutive refused handshakes (best effort: a store error is logged, the
/// in-memory cap still holds for this process).
pub async fn record_auth_failures(store: &Store, failures: u32) {
    match store.flags().await {
        Ok(f) if f.auth_failures == failures => {}
        _ => {
            if let Err(e) = store.set_auth_failures(failures).await {
                tracing::warn!("cannot record the handshake failure count: {e}");
            }
        }
    }
}

/// The start failed for a reason that passes by itself (network, IBKR 5xx or maintenance, a
/// rate limit, no bridge yet): worth waiting for rather than exiting.
pub fn is_transient_start_error(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<ibkr_oauth::Error>())
        .any(|e| e.is_transient())
}

/// Paper trading refuses any account whose id does not start with `DU`.
pub fn check_account_mode(paper_trading: bool, account: &str) -> anyhow::Result<()> {
    if paper_trading && !account.starts_with("DU") {
        anyhow::bail!(
            "account {account} is a live account but PAPER_TRADING is true: skim refuses to trade it (set PAPER_TRADING=false to trade live)"
        );
    }
    if !paper_trading {
        tracing::warn!(
            account,
            "LIVE TRADING: PAPER_TRADING=false, real money is at stake"
        );
    }
    Ok(())
}

/// The operator-facing explanation of an IBKR error.
pub fn explain_ibkr_error(e: &ibkr_oauth::Error) -> String {
    use ibkr_oauth::Error as E;
    match e {
        E::InvalidConsumer => "IBKR answered 401 invalid consumer: your consumer key is not active yet (IBKR takes from a day to two weeks)".into(),
        E::NoAccessSecret => "IBKR answered 401 No access secret key: regenerate the access token in the portal".into(),
        other => other.to_string(),
    }
}

impl AppContext {
    /// A context over parts already built (the daemon, the demo and tests).
    pub fn new(
        settings: Settings,
        store: Store,
        ibkr: Ibkr,
        clock: Arc<dyn Clock>,
        notifier: Notifier,
    ) -> anyhow::Result<AppContext> {
        let tz = settings.timezone()?;
        let strategy = settings.strategy_settings();
        strategy
            .validate()
            .map_err(|e| anyhow::anyhow!("setting strategy.{e}"))?;
        let calendar = settings.calendar();
        let store_clock = clock.clone();
        let store = store.with_clock(Arc::new(move || store_clock.now()));
        let http = reqwest::Client::builder()
            .user_agent(settings.ibkr.user_agent.clone())
            .timeout(Duration::from_secs(settings.ibkr.request_timeout_secs))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(AppContext {
            settings: Arc::new(settings),
            strategy,
            calendar,
            tz,
            store,
            ibkr,
            clock,
            notifier,
            http,
            desk: tokio::sync::Mutex::new(()),
            reported_mismatches: Mutex::new(HashSet::new()),
        })
    }

    /// Loads the credentials, connects to IBKR and opens the database.
    pub async fn connect(
        settings: Settings,
        clock: Arc<dyn Clock>,
        notifier: Notifier,
    ) -> anyhow::Result<AppContext> {
        let credentials = load_credentials(&settings)?;
        let store = Store::open(&settings.database.url).await.with_context(|| {
            format!(
                "cannot open the database {} (database.url)",
                settings.database.url
            )
        })?;
        let ibkr = connect_ibkr(&settings, credentials, &store).await?;
        AppContext::new(settings, store, ibkr, clock, notifier)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today's date on the exchange.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.tz).date_naive()
    }

    pub fn mode(&self) -> &'static str {
        if self.settings.ibkr.paper_trading {
            "paper"
        } else {
            "LIVE"
        }
    }

    /// Reports a mismatch once per key; returns whether it was new.
    pub fn report_once(&self, key: &str, text: &str) -> bool {
        let new = self
            .reported_mismatches
            .lock()
            .map(|mut s| s.insert(key.to_string()))
            .unwrap_or(true);
        if new {
            tracing::warn!("{text}");
            self.notifier.send(format!("⚠️ {text}"));
        }
        new
    }
}
