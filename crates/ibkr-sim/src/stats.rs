//! [`SimStats`]: counters tests assert on, and the documented IBKR rate limits the sim counts
//! (and, with `enforce_rate_limits`, answers with 429).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// A snapshot of the sim's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Successful live session token handshakes.
    pub handshakes: u64,
    pub ssodh_inits: u64,
    pub tickles: u64,
    pub logouts: u64,
    /// Requests per route (`"GET /iserver/accounts"`, `"unknown"` for 404s), counted before auth.
    pub requests: BTreeMap<String, u64>,
    /// Refused requests per reason (401s, and the 400 for a missing `User-Agent`).
    pub rejected_auth: BTreeMap<String, u64>,
    /// Documented rate limits exceeded, per limited path (`"*"` is the 50/s overall limit).
    pub rate_limit_violations: BTreeMap<String, u64>,
    /// Orders placed (confirmed through every question).
    pub orders_placed: u64,
    /// Executions that left a position short (skim must never go short).
    pub short_positions_seen: u64,
    /// Injected faults that fired.
    pub faults_fired: u64,
}

impl SimStats {
    /// Requests counted for one route name.
    pub fn requests_to(&self, route: &str) -> u64 {
        self.requests.get(route).copied().unwrap_or(0)
    }
    /// All refused requests.
    pub fn rejected_total(&self) -> u64 {
        self.rejected_auth.values().sum()
    }
    /// All rate-limit violations.
    pub fn violations_total(&self) -> u64 {
        self.rate_limit_violations.values().sum()
    }
}

/// IBKR's documented limits: (path template, max requests, window). `*` is every request.
pub const RATE_LIMITS: &[(&str, usize, Duration)] = &[
    ("*", 50, Duration::from_secs(1)),
    ("/iserver/marketdata/snapshot", 10, Duration::from_secs(1)),
    ("/iserver/scanner/run", 1, Duration::from_secs(1)),
    ("/iserver/scanner/params", 1, Duration::from_secs(15 * 60)),
    ("/iserver/account/orders", 1, Duration::from_secs(5)),
    ("/iserver/account/trades", 1, Duration::from_secs(5)),
    ("/portfolio/accounts", 1, Duration::from_secs(5)),
    ("/tickle", 1, Duration::from_secs(1)),
];

/// Sliding windows of recent request times per limited path.
#[derive(Debug, Default)]
pub(crate) struct RateWindows {
    windows: HashMap<&'static str, VecDeque<Instant>>,
}

impl RateWindows {
    /// Records one request to `path` (a route's path template) and returns the limits it broke.
    pub fn record(&mut self, path: &str, now: Instant) -> Vec<&'static str> {
        let mut broken = Vec::new();
        for &(limited, max, window) in RATE_LIMITS {
            if limited != "*" && limited != path {
                continue;
            }
            let times = self.windows.entry(limited).or_default();
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                times.pop_front();
            }
            times.push_back(now);
            if times.len() > max {
                broken.push(limited);
            }
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_violations() {
        let mut w = RateWindows::default();
        let t0 = Instant::now();
        assert!(w.record("/tickle", t0).is_empty());
        assert_eq!(
            w.record("/tickle", t0 + Duration::from_millis(500)),
            vec!["/tickle"]
        );
        assert!(
            w.record("/tickle", t0 + Duration::from_millis(1600))
                .is_empty()
        );
        assert!(w.record("/iserver/accounts", t0).is_empty());
    }
}
