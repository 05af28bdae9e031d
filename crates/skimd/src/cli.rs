//! The command line (`skimd --help`).

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand};

/// skim: trades ASX stocks that gap up on price-sensitive news, buying the break of the
/// opening-range high, with a stop at the low of the day held at Interactive Brokers.
///
/// `skimd run` is the daemon; the job commands run one step of the trading day now (or at
/// `--now`). Settings come from config/default.toml, `--config FILE`, SKIM_<SECTION>__<KEY>
/// and the OAUTH_* / PAPER_TRADING / DISCORD_WEBHOOK_URL / DATABASE_URL variables (or .env).
#[derive(Debug, Parser)]
#[command(name = "skimd", version, propagate_version = true)]
pub struct Cli {
    /// A settings file (TOML) layered over the defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run a one-shot job as if it were this instant (RFC3339, e.g. 2025-07-01T10:05:00+10:00):
    /// for replays, recovery and tests.
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<FixedOffset>>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: keep the IBKR session alive and run the trading day on schedule.
    Run,
    /// Start a new trading day: expire yesterday's unused candidates (09:55).
    Purge,
    /// Find today's candidates: gapped up AND price-sensitive news (10:00:30).
    Scan,
    /// Send today's candidates as a notification (10:02).
    Alert,
    /// Record each candidate's opening range, 10:00 to 10:00 + opening_range_minutes.
    TrackRanges,
    /// Buy candidates breaking above their opening-range high, then place the protective stop.
    Trade,
    /// Reconcile orders, fills and positions with IBKR; re-place missing stops; stop backstop.
    Manage,
    /// End-of-day exits (15:50): sell half on day three, trail the rest with the 10-day average.
    Exits,
    /// Notify the day's trades and profit and loss (16:15).
    Summary,
    /// Show the IBKR session (account, paper or live, token expiry), last job runs, open
    /// positions and whether entries are paused.
    Status,
    /// Check settings, key files, the DH prime and a live handshake; prints how to fix each ✘.
    Doctor,
    /// List open positions.
    Positions {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List today's candidates.
    Candidates {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List recent orders.
    Orders {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop opening new positions (stops and exits are still managed).
    Pause,
    /// Allow new positions again.
    Resume,
    /// Write a consistent copy of the database to PATH (safe while the daemon runs).
    Backup {
        /// Where to write the copy.
        path: PathBuf,
    },
    /// Exit 0 when the running daemon's /healthz says healthy (for container health checks).
    Healthcheck,
    /// A whole simulated trading day against a built-in IBKR simulator, with throwaway keys.
    Demo,
    /// OAuth helpers.
    Oauth {
        #[command(subcommand)]
        command: OauthCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OauthCommand {
    /// Print the hex prime of a dhparam.pem (the value for OAUTH_DH_PRIME).
    Prime {
        /// The dhparam.pem written by `openssl dhparam -out dhparam.pem 2048`.
        path: PathBuf,
    },
}

fn parse_now(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map_err(|_| format!("{s:?} is not an RFC3339 instant; use e.g. 2025-07-01T10:05:00+10:00"))
}

impl Command {
    /// The job name, for the one-shot job commands.
    pub fn job(&self) -> Option<crate::jobs::JobKind> {
        use crate::jobs::JobKind;
        Some(match self {
            Command::Purge => JobKind::Purge,
            Command::Scan => JobKind::Scan,
            Command::Alert => JobKind::Alert,
            Command::TrackRanges => JobKind::TrackRanges,
            Command::Trade => JobKind::Trade,
            Command::Manage => JobKind::Manage,
            Command::Exits => JobKind::Exits,
            Command::Summary => JobKind::Summary,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_now_is_refused() {
        let e = Cli::try_parse_from(["skimd", "--now", "tomorrow", "status"]).unwrap_err();
        assert!(e.to_string().contains("RFC3339"));
        let ok = Cli::try_parse_from(["skimd", "trade", "--now", "2025-07-01T10:05:00+10:00"]);
        assert!(ok.is_ok());
    }
}
