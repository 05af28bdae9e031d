//! Integration tests of `ibkr-oauth`: one binary (see STYLE.md).

mod client;
mod credentials;
mod helpers;
mod session;
mod vectors;
