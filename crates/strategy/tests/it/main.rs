//! Integration tests of the strategy crate: one binary, one module per concern.

mod announcements;
mod calendar;
mod candidates;
mod entry;
mod exit;
mod hygiene;
mod lifecycle;
mod price_step;
mod properties;
mod range;
mod scan;
mod session;
mod settings;
mod support;
mod types;
