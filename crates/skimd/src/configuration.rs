//! Settings: one typed tree loaded with the `config` crate.
//!
//! Precedence, lowest to highest:
//! 1. the repository's `config/default.toml`, embedded in the binary (so skimd runs from any
//!    directory);
//! 2. `config/default.toml` in the working directory, if there is one;
//! 3. `--config FILE`;
//! 4. environment `SKIM_<SECTION>__<KEY>` (e.g. `SKIM_IBKR__BASE_URL`);
//! 5. the deployment's own names (`OAUTH_*`, `PAPER_TRADING`, `DISCORD_WEBHOOK_URL`,
//!    `DATABASE_URL`), which a `.env` in the working directory may hold.
//!
//! Unknown keys are refused (naming the key), and every value is checked at load: a bad setting
//! is one line naming the key and the fix, never a panic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The defaults shipped with the repository: every setting with a comment.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// The deployment's own environment names and the setting each one sets.
pub const DEPLOYMENT_ENV: &[(&str, &str)] = &[
    ("OAUTH_CONSUMER_KEY", "ibkr.consumer_key"),
    ("OAUTH_ACCESS_TOKEN", "ibkr.access_token"),
    ("OAUTH_ACCESS_TOKEN_SECRET", "ibkr.access_token_secret"),
    ("OAUTH_SIGNATURE_PATH", "ibkr.signature_key_path"),
    ("OAUTH_ENCRYPTION_PATH", "ibkr.encryption_key_path"),
    ("OAUTH_DH_PRIME", "ibkr.dh_prime"),
    ("OAUTH_REALM", "ibkr.realm"),
    ("PAPER_TRADING", "ibkr.paper_trading"),
    ("DISCORD_WEBHOOK_URL", "notify.discord_webhook_url"),
    ("DATABASE_URL", "database.url"),
];

/// A setting that cannot be used: one line naming the key and the fix.
#[derive(Debug, thiserror::Error)]
#[error("setting {key}: {message}")]
pub struct SettingsError {
    pub key: String,
    pub message: String,
}

impl SettingsError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub ibkr: IbkrSettings,
    pub database: DatabaseSettings,
    pub asx: AsxSettings,
    pub strategy: StrategyConfig,
    pub schedule: ScheduleSettings,
    pub clock: ClockSettings,
    pub log: LogSettings,
    pub notify: NotifySettings,
    pub health: HealthSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IbkrSettings {
    pub base_url: String,
    pub realm: String,
    pub consumer_key: String,
    /// Not a secret by itself, but kept out of logs all the same.
    pub access_token: SecretString,
    /// Base64 RSA ciphertext; with the encryption key it is the LST's HMAC message.
    pub access_token_secret: SecretString,
    pub signature_key_path: PathBuf,
    pub encryption_key_path: PathBuf,
    /// Hex, or a path to a `dhparam.pem`.
    pub dh_prime: String,
    pub paper_trading: bool,
    pub account_id: String,
    pub user_agent: String,
    pub tickle_interval_secs: u64,
    pub lst_refresh_margin_secs: u64,
    pub max_auth_failures: u32,
    pub request_timeout_secs: u64,
    pub init_settle_ms: u64,
    /// Wait after a 429 that names no `Retry-After` (IBKR's penalty box is 10 minutes).
    pub rate_limit_wait_secs: u64,
}

impl IbkrSettings {
    pub fn access_token_secret_is_empty(&self) -> bool {
        self.access_token_secret.expose_secret().trim().is_empty()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub candidate_retention_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsxSettings {
    pub timezone: String,
    pub announcements_url: String,
    pub extra_closures: Vec<String>,
    pub extra_early_closes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    pub gap_threshold_pct: Decimal,
    pub min_price: Decimal,
    pub min_volume: u64,
    pub opening_range_minutes: u32,
    pub breakout_buffer: u32,
    pub entry_cutoff: String,
    pub max_positions: u32,
    pub max_position_value: Decimal,
    pub max_shares: u64,
    pub max_daily_loss: Decimal,
    pub order_type: String,
    pub limit_slippage_pct: Decimal,
    pub broker_stop: bool,
    pub trail_stop_to_low_of_day: bool,
    pub half_exit_after_days: u32,
    pub trail_sma_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub purge: String,
    pub scan: String,
    pub alert: String,
    pub track_ranges: String,
    pub trade: String,
    pub manage: String,
    pub exits: String,
    pub summary: String,
}

impl ScheduleSettings {
    /// (job name, cron expression, settings key) for every scheduled job.
    pub fn entries(&self) -> [(&'static str, &str, &'static str); 8] {
        [
            ("purge", &self.purge, "schedule.purge"),
            ("scan", &self.scan, "schedule.scan"),
            ("alert", &self.alert, "schedule.alert"),
            ("track-ranges", &self.track_ranges, "schedule.track_ranges"),
            ("trade", &self.trade, "schedule.trade"),
            ("manage", &self.manage, "schedule.manage"),
            ("exits", &self.exits, "schedule.exits"),
            ("summary", &self.summary, "schedule.summary"),
        ]
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSettings {
    pub start: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: String,
    pub directory: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Anyone holding the URL can post to the channel: a secret.
    pub discord_webhook_url: SecretString,
    pub queue_size: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSettings {
    pub enabled: bool,
    pub port: u16,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Pretty,
    Compact,
    Json,
}

/// Where the settings come from; tests pass their own environment instead of the process's.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// Read `config/default.toml` from the working directory if it exists.
    pub read_cwd_defaults: bool,
    /// The environment (process env + `.env`), as name → value.
    pub env: HashMap<String, String>,
}

impl LoadOptions {
    /// The real thing: `.env` in the working directory (never overriding the real environment),
    /// then the process environment.
    pub fn from_process(config_file: Option<PathBuf>) -> Self {
        // A missing .env is normal; a malformed one is ignored here and the real env wins.
        let _ = dotenvy::from_path(".env");
        Self {
            config_file,
            read_cwd_defaults: true,
            env: std::env::vars().collect(),
        }
    }
}

impl Settings {
    /// Loads and checks every setting. The error is one line naming the key.
    pub fn load(opts: &LoadOptions) -> Result<Settings, SettingsError> {
        use config::{Config, Environment, File, FileFormat};

        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if opts.read_cwd_defaults && Path::new("config/default.toml").is_file() {
            builder = builder.add_source(File::new("config/default.toml", FileFormat::Toml));
        }
        if let Some(path) = &opts.config_file {
            if !path.is_file() {
                return Err(SettingsError::new(
                    "--config",
                    format!("{} does not exist or is not a file", path.display()),
                ));
            }
            let Some(path_str) = path.to_str() else {
                return Err(SettingsError::new("--config", "the path is not UTF-8"));
            };
            builder = builder.add_source(File::new(path_str, FileFormat::Toml));
        }
        let skim_env: config::Map<String, String> = opts
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("SKIM_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("SKIM")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("asx.extra_closures")
                .with_list_parse_key("asx.extra_early_closes")
                .source(Some(skim_env)),
        );
        for (name, key) in DEPLOYMENT_ENV {
            let Some(value) = opts.env.get(*name) else {
                continue;
            };
            builder = if *name == "PAPER_TRADING" {
                let flag = parse_bool(value).ok_or_else(|| {
                    SettingsError::new("PAPER_TRADING", format!("{value:?} is not true or false"))
                })?;
                builder.set_override(*key, flag)
            } else {
                builder.set_override(*key, value.clone())
            }
            .map_err(|e| SettingsError::new(*name, e.to_string()))?;
        }
        let config = builder.build().map_err(config_error)?;
        let settings: Settings = config.try_deserialize().map_err(config_error)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every value that has a shape (URLs, times, cron expressions, ranges).
    pub fn validate(&self) -> Result<(), SettingsError> {
        let err = |k: &str, m: &str| SettingsError::new(k, m);
        check_url("ibkr.base_url", &self.ibkr.base_url)?;
        check_url("asx.announcements_url", &self.asx.announcements_url)?;
        if self.ibkr.realm.trim().is_empty() {
            return Err(err("ibkr.realm", "is empty; use \"limited_poa\""));
        }
        if self.ibkr.user_agent.trim().is_empty() {
            return Err(err(
                "ibkr.user_agent",
                "is empty; IBKR requires a User-Agent",
            ));
        }
        if self.ibkr.tickle_interval_secs == 0 {
            return Err(err(
                "ibkr.tickle_interval_secs",
                "must be at least 1 (default 60)",
            ));
        }
        if self.ibkr.request_timeout_secs == 0 {
            return Err(err(
                "ibkr.request_timeout_secs",
                "must be at least 1 (default 15)",
            ));
        }
        if self.ibkr.max_auth_failures == 0 {
            return Err(err(
                "ibkr.max_auth_failures",
                "must be at least 1 (default 3)",
            ));
        }
        let account = self.ibkr.account_id.trim();
        if self.ibkr.paper_trading && !account.is_empty() && !account.starts_with("DU") {
            return Err(err(
                "ibkr.account_id",
                &format!(
                    "{account} is not a paper account (paper ids start with DU); set PAPER_TRADING=false to trade it live"
                ),
            ));
        }
        let db = self.database.url.trim();
        if !db.starts_with("sqlite:") {
            return Err(err(
                "database.url",
                &format!("{db:?} is not a SQLite URL; use e.g. sqlite://data/skim.db"),
            ));
        }
        self.timezone()?;
        self.calendar_dates()?;
        let s = &self.strategy;
        check_pct("strategy.gap_threshold_pct", s.gap_threshold_pct, false)?;
        check_pct("strategy.limit_slippage_pct", s.limit_slippage_pct, true)?;
        if s.min_price <= Decimal::ZERO {
            return Err(err("strategy.min_price", "must be more than 0 (AUD)"));
        }
        if s.max_position_value <= Decimal::ZERO {
            return Err(err(
                "strategy.max_position_value",
                "must be more than 0 (AUD)",
            ));
        }
        if s.max_daily_loss <= Decimal::ZERO {
            return Err(err("strategy.max_daily_loss", "must be more than 0 (AUD)"));
        }
        if s.max_shares == 0 {
            return Err(err("strategy.max_shares", "must be at least 1"));
        }
        if s.max_positions == 0 {
            return Err(err("strategy.max_positions", "must be at least 1"));
        }
        if s.opening_range_minutes == 0 || s.opening_range_minutes > 300 {
            return Err(err(
                "strategy.opening_range_minutes",
                "must be between 1 and 300",
            ));
        }
        if s.trail_sma_days == 0 {
            return Err(err("strategy.trail_sma_days", "must be at least 1"));
        }
        if s.half_exit_after_days == 0 {
            return Err(err("strategy.half_exit_after_days", "must be at least 1"));
        }
        parse_hhmm("strategy.entry_cutoff", &s.entry_cutoff)?;
        match s.order_type.as_str() {
            "limit" | "market" => {}
            other => {
                return Err(err(
                    "strategy.order_type",
                    &format!("{other:?} is neither \"limit\" nor \"market\""),
                ));
            }
        }
        let tz = self.timezone()?;
        for (_, expr, key) in self.schedule.entries() {
            check_cron(key, expr, tz)?;
        }
        self.clock_start()?;
        self.log_format()?;
        if self.log.level.trim().is_empty() {
            return Err(err("log.level", "is empty; use e.g. info"));
        }
        let hook = self.notify.discord_webhook_url.expose_secret();
        if !hook.is_empty() {
            // Never echo the URL: it is a secret.
            let ok = url::Url::parse(hook)
                .map(|u| u.scheme() == "https" || u.scheme() == "http")
                .unwrap_or(false);
            if !ok {
                return Err(err(
                    "notify.discord_webhook_url",
                    "is not an http(s) URL (DISCORD_WEBHOOK_URL); leave it empty to turn notifications off",
                ));
            }
        }
        if self.notify.queue_size == 0 {
            return Err(err("notify.queue_size", "must be at least 1 (default 256)"));
        }
        Ok(())
    }

    pub fn timezone(&self) -> Result<Tz, SettingsError> {
        Tz::from_str(self.asx.timezone.trim()).map_err(|_| {
            SettingsError::new(
                "asx.timezone",
                format!(
                    "{:?} is not an IANA timezone; use Australia/Sydney",
                    self.asx.timezone
                ),
            )
        })
    }

    /// (extra closures, extra early closes).
    pub fn calendar_dates(&self) -> Result<(Vec<NaiveDate>, Vec<NaiveDate>), SettingsError> {
        let parse = |key: &str, list: &[String]| {
            list.iter()
                .filter(|d| !d.trim().is_empty())
                .map(|d| {
                    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                        SettingsError::new(key, format!("{d:?} is not a date; use YYYY-MM-DD"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok((
            parse("asx.extra_closures", &self.asx.extra_closures)?,
            parse("asx.extra_early_closes", &self.asx.extra_early_closes)?,
        ))
    }

    /// `clock.start`, if set.
    pub fn clock_start(&self) -> Result<Option<DateTime<FixedOffset>>, SettingsError> {
        let s = self.clock.start.trim();
        if s.is_empty() {
            return Ok(None);
        }
        DateTime::parse_from_rfc3339(s).map(Some).map_err(|_| {
            SettingsError::new(
                "clock.start",
                format!("{s:?} is not an RFC3339 instant; use e.g. 2025-07-01T09:50:00+10:00"),
            )
        })
    }

    pub fn log_format(&self) -> Result<LogFormat, SettingsError> {
        match self.log.format.trim() {
            "auto" | "" => Ok(LogFormat::Auto),
            "pretty" => Ok(LogFormat::Pretty),
            "compact" => Ok(LogFormat::Compact),
            "json" => Ok(LogFormat::Json),
            other => Err(SettingsError::new(
                "log.format",
                format!("{other:?} is not one of auto, pretty, compact, json"),
            )),
        }
    }

    pub fn entry_cutoff(&self) -> NaiveTime {
        // Checked in `validate`; the fallback is the documented default.
        parse_hhmm("strategy.entry_cutoff", &self.strategy.entry_cutoff)
            .unwrap_or_else(|_| NaiveTime::from_hms_opt(15, 30, 0).unwrap_or_default())
    }

    /// The rule-level settings the strategy crate works with.
    pub fn strategy_settings(&self) -> strategy::StrategySettings {
        let s = &self.strategy;
        strategy::StrategySettings {
            gap_threshold_pct: s.gap_threshold_pct,
            min_price: s.min_price,
            min_volume: s.min_volume,
            opening_range_minutes: s.opening_range_minutes,
            breakout_buffer: s.breakout_buffer,
            entry_cutoff: self.entry_cutoff(),
            max_positions: s.max_positions,
            max_position_value: s.max_position_value,
            max_shares: s.max_shares,
            max_daily_loss: s.max_daily_loss,
            order_type: if s.order_type == "market" {
                strategy::EntryOrderType::Market
            } else {
                strategy::EntryOrderType::Limit
            },
            limit_slippage_pct: s.limit_slippage_pct,
            broker_stop: s.broker_stop,
            trail_stop_to_low_of_day: s.trail_stop_to_low_of_day,
            half_exit_after_days: s.half_exit_after_days,
            trail_sma_days: s.trail_sma_days,
        }
    }

    /// The ASX calendar with the configured extra closures.
    pub fn calendar(&self) -> strategy::asx::Calendar {
        let (closures, early) = self.calendar_dates().unwrap_or_default();
        strategy::asx::Calendar::new(closures, early)
    }

    /// Every required credential setting that is empty, as (setting key, environment name).
    pub fn missing_credentials(&self) -> Vec<(&'static str, &'static str)> {
        let mut missing = Vec::new();
        if self.ibkr.consumer_key.trim().is_empty() {
            missing.push(("ibkr.consumer_key", "OAUTH_CONSUMER_KEY"));
        }
        if self.ibkr.access_token.expose_secret().trim().is_empty() {
            missing.push(("ibkr.access_token", "OAUTH_ACCESS_TOKEN"));
        }
        if self
            .ibkr
            .access_token_secret
            .expose_secret()
            .trim()
            .is_empty()
        {
            missing.push(("ibkr.access_token_secret", "OAUTH_ACCESS_TOKEN_SECRET"));
        }
        if self.ibkr.dh_prime.trim().is_empty() {
            missing.push(("ibkr.dh_prime", "OAUTH_DH_PRIME"));
        }
        missing
    }

    /// Fails with one line when a credential needed to talk to IBKR is missing.
    pub fn require_credentials(&self) -> Result<(), SettingsError> {
        if let Some((key, env)) = self.missing_credentials().first() {
            return Err(SettingsError::new(
                *key,
                format!(
                    "is empty; set {env} (in the environment or .env) to the value from IBKR's self-service portal"
                ),
            ));
        }
        Ok(())
    }
}

pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn check_url(key: &str, value: &str) -> Result<(), SettingsError> {
    match url::Url::parse(value.trim()) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => Ok(()),
        _ => Err(SettingsError::new(
            key,
            format!("{value:?} is not an http(s) URL"),
        )),
    }
}

fn check_pct(key: &str, value: Decimal, zero_ok: bool) -> Result<(), SettingsError> {
    let low_ok = if zero_ok {
        value >= Decimal::ZERO
    } else {
        value > Decimal::ZERO
    };
    if !low_ok || value > Decimal::from(100) {
        return Err(SettingsError::new(
            key,
            format!("{value} is not a percentage between 0 and 100"),
        ));
    }
    Ok(())
}

/// `HH:MM` (or `HH:MM:SS`).
pub fn parse_hhmm(key: &str, value: &str) -> Result<NaiveTime, SettingsError> {
    let v = value.trim();
    NaiveTime::parse_from_str(v, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(v, "%H:%M:%S"))
        .map_err(|_| {
            SettingsError::new(
                key,
                format!("{value:?} is not a time; use HH:MM, e.g. 15:30"),
            )
        })
}

/// A cron expression with seconds, as the scheduler will read it.
pub fn check_cron(key: &str, expr: &str, tz: Tz) -> Result<(), SettingsError> {
    let job = tokio_cron_scheduler::Job::new_async_tz(expr, tz, |_, _| Box::pin(async {}));
    job.map(|_| ()).map_err(|_| {
        SettingsError::new(
            key,
            format!(
                "{expr:?} is not a cron expression with seconds (sec min hour day month weekday), e.g. \"0 55 9 * * Mon-Fri\""
            ),
        )
    })
}

/// Turns the `config` crate's error into one line naming the key.
fn config_error(e: config::ConfigError) -> SettingsError {
    use config::ConfigError;
    match e {
        ConfigError::Type {
            key,
            unexpected,
            expected,
            ..
        } => SettingsError::new(
            key.unwrap_or_else(|| "settings".into()),
            format!("{unexpected} is not {expected}"),
        ),
        ConfigError::At { error, key, .. } => {
            let inner = config_error(*error);
            let key = match (key, inner.key.as_str()) {
                (Some(k), "settings") => k,
                (Some(k), field) if inner.message.starts_with("is not a setting") => {
                    format!("{k}.{field}")
                }
                (Some(k), _) => k,
                (None, _) => inner.key,
            };
            SettingsError::new(key, inner.message)
        }
        ConfigError::NotFound(key) => SettingsError::new(key, "is missing"),
        ConfigError::FileParse { uri, cause } => SettingsError::new(
            uri.unwrap_or_else(|| "config file".into()),
            format!("is not valid TOML: {}", one_line(&cause.to_string())),
        ),
        ConfigError::Message(text) => {
            if let Some(rest) = text.strip_prefix("unknown field `") {
                let field = rest.split('`').next().unwrap_or(rest);
                return SettingsError::new(
                    field,
                    "is not a setting skim knows (check the spelling against config/default.toml)",
                );
            }
            SettingsError::new("settings", one_line(&text))
        }
        other => SettingsError::new("settings", one_line(&other.to_string())),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::load(&LoadOptions {
            config_file: None,
            read_cwd_defaults: false,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    #[test]
    fn defaults_load_and_convert() {
        let s = load(&[]).unwrap();
        assert_eq!(s.ibkr.base_url, "https://api.ibkr.com/v1/api");
        assert_eq!(s.strategy.min_price, Decimal::new(20, 2));
        assert_eq!(s.strategy.max_position_value, Decimal::from(5000));
        assert!(s.ibkr.paper_trading);
        assert_eq!(
            s.strategy_settings().entry_cutoff,
            NaiveTime::from_hms_opt(15, 30, 0).unwrap()
        );
    }

    #[test]
    fn env_and_deployment_names_override() {
        let s = load(&[
            ("SKIM_IBKR__BASE_URL", "http://127.0.0.1:9/v1/api"),
            ("SKIM_STRATEGY__GAP_THRESHOLD_PCT", "4.5"),
            ("SKIM_SCHEDULE__TRADE", "*/2 * * * * *"),
            ("SKIM_DATABASE__URL", "sqlite://x.db"),
            ("DATABASE_URL", "sqlite://y.db"),
            ("PAPER_TRADING", "false"),
            ("OAUTH_CONSUMER_KEY", "123456789"),
            ("SKIM_ASX__EXTRA_CLOSURES", "2025-12-29,2025-12-30"),
        ])
        .unwrap();
        assert_eq!(s.ibkr.base_url, "http://127.0.0.1:9/v1/api");
        assert_eq!(s.strategy.gap_threshold_pct, Decimal::new(45, 1));
        assert_eq!(s.schedule.trade, "*/2 * * * * *");
        assert_eq!(s.database.url, "sqlite://y.db");
        assert!(!s.ibkr.paper_trading);
        assert_eq!(s.ibkr.consumer_key, "123456789");
        assert_eq!(s.calendar_dates().unwrap().0.len(), 2);
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("SKIM_IBKR__BASE_URL", "not a url", "ibkr.base_url"),
            ("SKIM_SCHEDULE__SCAN", "every morning", "schedule.scan"),
            (
                "SKIM_STRATEGY__ENTRY_CUTOFF",
                "25:99",
                "strategy.entry_cutoff",
            ),
            (
                "SKIM_STRATEGY__GAP_THRESHOLD_PCT",
                "140",
                "strategy.gap_threshold_pct",
            ),
            ("SKIM_STRATEGY__MAX_SHARES", "-5", "max_shares"),
            ("SKIM_IBKR__BOGUS", "1", "bogus"),
            ("SKIM_CLOCK__START", "yesterday", "clock.start"),
            ("PAPER_TRADING", "maybe", "PAPER_TRADING"),
            ("SKIM_LOG__FORMAT", "xml", "log.format"),
            ("SKIM_ASX__TIMEZONE", "Mars/Olympus", "asx.timezone"),
        ];
        for (name, value, key) in cases {
            let e = load(&[(name, value)]).unwrap_err();
            let line = e.to_string();
            assert!(line.contains(key), "{name}={value}: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let s = load(&[("OAUTH_ACCESS_TOKEN_SECRET", "c2VjcmV0c2VjcmV0")]).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("c2VjcmV0c2VjcmV0"));
    }
}
