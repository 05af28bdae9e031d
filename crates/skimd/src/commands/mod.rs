//! What each command of the CLI does. `dispatch` is the one entry point `main` calls.

pub mod doctor;
pub mod local;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{Cli, Command, OauthCommand};
use crate::configuration::{LoadOptions, Settings};
use std::sync::Arc;

use crate::clock::{Clock, FixedClock, SystemClock};
use crate::context::AppContext;
use crate::jobs::{self, JobKind, JobLocks};
use crate::notify::Notifier;
use crate::telemetry;

/// Runs one command; `Err` is printed by `main` as one line.
pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Oauth {
        command: OauthCommand::Prime { path },
    } = &cli.command
    {
        return oauth_prime(path);
    }
    let loaded = Settings::load(&LoadOptions::from_process(cli.config.clone()));
    if let Command::Demo = cli.command {
        return crate::demo::run().await;
    }
    if let Command::Doctor = cli.command {
        return Ok(doctor::run(loaded).await);
    }
    let settings = loaded?;
    let _guard = telemetry::init(&settings.log, settings.log_format()?);
    let now = cli
        .now
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(chrono::Utc::now);
    match cli.command {
        Command::Oauth { .. } | Command::Doctor => Ok(ExitCode::SUCCESS),
        Command::Positions { json } => local::positions(&settings, json).await,
        Command::Candidates { json } => local::candidates(&settings, now, json).await,
        Command::Orders { json } => local::orders(&settings, now, json).await,
        Command::Pause => local::pause(&settings, true).await,
        Command::Resume => local::pause(&settings, false).await,
        Command::Backup { path } => local::backup(&settings, &path).await,
        Command::Healthcheck => local::healthcheck(&settings).await,
        Command::Status => status(settings, now).await,
        Command::Run => {
            let Some(app) = crate::startup::Application::build_waiting_for_ibkr(
                settings,
                crate::startup::shutdown_signal(),
                crate::startup::IBKR_RETRY_WAIT,
            )
            .await?
            else {
                tracing::info!("stopped while waiting for IBKR");
                return Ok(ExitCode::SUCCESS);
            };
            app.run_until_stopped(crate::startup::shutdown_signal(), None)
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => crate::demo::run().await,
        other => match other.job() {
            Some(kind) => one_shot(settings, cli.now, kind).await,
            None => anyhow::bail!("{other:?} is not a command"),
        },
    }
}

/// `skimd oauth prime PATH`: the hex prime of a dhparam.pem, for OAUTH_DH_PRIME.
fn oauth_prime(path: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let prime = ibkr_oauth::keys::parse_dh_prime(&text)
        .with_context(|| format!("{} is not a dhparam.pem", path.display()))?;
    println!("{}", prime.to_str_radix(16));
    Ok(ExitCode::SUCCESS)
}

/// The clock of a one-shot command: fixed at `--now`, or the real time.
fn one_shot_clock(now: Option<chrono::DateTime<chrono::FixedOffset>>) -> Arc<dyn Clock> {
    match now {
        Some(t) => Arc::new(FixedClock::new(t.with_timezone(&chrono::Utc))),
        None => Arc::new(SystemClock),
    }
}

/// Runs one job now (or at `--now`), recorded like a scheduled run. `trade` reconciles first
/// (entries are enabled only when the journal and IBKR agree).
async fn one_shot(
    settings: Settings,
    now: Option<chrono::DateTime<chrono::FixedOffset>>,
    kind: JobKind,
) -> anyhow::Result<ExitCode> {
    let hook = Some(settings.notify.discord_webhook_url.clone());
    let (notifier, task) =
        Notifier::start(hook, settings.notify.queue_size, &settings.ibkr.user_agent);
    let ctx = AppContext::connect(settings, one_shot_clock(now), notifier).await?;
    if kind == JobKind::Trade
        && let Err(e) = crate::broker::startup_reconcile(&ctx).await
    {
        tracing::warn!("reconciliation: {e:#}; entries stay disabled");
    }
    let locks = JobLocks::default();
    let result = jobs::run_recorded(&ctx, &locks, kind).await;
    drop(ctx);
    if let Some(t) = task {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
    }
    match result {
        Ok(outcome) => {
            println!("{kind}: {}", outcome.detail());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => anyhow::bail!("{kind} failed: {e}"),
    }
}

/// `skimd status`: the session (account, paper/live, LST expiry), last job runs, open
/// positions, paused or not.
async fn status(
    settings: Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<ExitCode> {
    let tz = settings.timezone()?;
    let store = local::open_store(&settings).await?;
    let credentials = crate::context::load_credentials(&settings)?;
    let ibkr = crate::context::connect_ibkr(&settings, credentials, &store).await?;
    let state = ibkr.session.state();
    println!(
        "account        {} ({})",
        ibkr.account,
        if settings.ibkr.paper_trading {
            "paper"
        } else {
            "LIVE"
        }
    );
    println!(
        "session        {}{}",
        if state.authenticated {
            "authenticated"
        } else {
            "NOT authenticated"
        },
        if state.competing {
            ", competing login!"
        } else {
            ""
        }
    );
    if let Some(exp) = state.lst_expires_at {
        println!(
            "token expires  {}",
            exp.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z")
        );
    }
    let flags = store.flags().await.context("cannot read the switches")?;
    println!(
        "entries        {}",
        if flags.paused {
            "PAUSED".to_string()
        } else if !flags.trading_enabled {
            format!(
                "disabled ({})",
                flags.trading_reason.unwrap_or_else(|| {
                    "until the daemon's startup reconciliation succeeds".into()
                })
            )
        } else {
            "enabled".to_string()
        }
    );
    let runs = store
        .last_job_runs()
        .await
        .context("cannot read job runs")?;
    if !runs.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = runs
            .iter()
            .map(|r| {
                vec![
                    r.job.clone(),
                    r.started_at
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    r.outcome
                        .map(|o| o.to_string())
                        .unwrap_or_else(|| "running?".into()),
                    r.detail
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(80)
                        .collect(),
                ]
            })
            .collect();
        println!(
            "{}",
            local::table(&["JOB", "LAST RUN", "OUTCOME", "DETAIL"], &rows)
        );
    }
    println!();
    drop(store);
    local::positions(&settings, false).await?;
    let _ = now;
    let _ = ibkr.session.logout().await;
    Ok(ExitCode::SUCCESS)
}
