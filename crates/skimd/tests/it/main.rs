//! skimd's integration tests: one binary, modules per concern.

mod config;
mod daemon;
mod day;
mod faults;
mod helpers;
