//! price_step
