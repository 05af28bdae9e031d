//! Injected faults and rate-limit counting.
