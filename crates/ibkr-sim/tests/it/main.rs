//! Integration tests: a real handshake and signed requests over HTTP against the simulator.

mod auth;
mod faults;
mod helpers;
mod marketdata;
mod orders;
mod session;
