//! What each command of the CLI does. `dispatch` is the one entry point `main` calls.

pub mod doctor;
pub mod local;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{Cli, Command, OauthCommand};
use crate::configuration::{LoadOptions, Settings};
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
        other => anyhow::bail!("{other:?} is not implemented yet"),
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
