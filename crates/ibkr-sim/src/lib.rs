//! ibkr-sim
