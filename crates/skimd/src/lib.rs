//! # skimd — the skim daemon and CLI
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | the command line (clap) |
//! | [`configuration`] | settings: one typed tree, defaults → files → `SKIM_*` → deployment names |
//! | [`telemetry`] | tracing subscriber: pretty / compact / json, optional daily files |
//! | [`commands`] | what each CLI command does (doctor, status, tables, backup, …) |
//!
//! Every job is `async fn(&AppContext) -> anyhow::Result<JobOutcome>`; the scheduler, the
//! one-shot CLI commands, the demo and the tests all call the same functions.

pub mod broker;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod configuration;
pub mod context;
pub mod demo;
pub mod health;
pub mod jobs;
pub mod notify;
pub mod startup;
pub mod telemetry;
