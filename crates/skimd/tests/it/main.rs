//! skimd's integration tests: one binary, modules per concern.

mod auth;
mod config;
mod daemon;
mod day;
mod exits;
mod faults;
mod helpers;
