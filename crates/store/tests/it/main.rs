//! Integration tests of the store: each test opens a fresh SQLite FILE in a temp folder.

mod backup;
mod candidates;
mod concurrency;
mod contracts;
mod fills;
mod flags;
mod helpers;
mod jobs;
mod migrations;
mod open;
mod orders;
mod positions;
