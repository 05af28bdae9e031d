//! Client-side pacing below IBKR's documented rate limits, so a 429 (and the 10 minute penalty
//! box that follows) never happens in normal operation. Calls wait their turn; none fails.
//!
//! Limits: 50/s overall · snapshot 10/s · scanner run 1/s · scanner params 1 per 15 min ·
//! account orders 1 per 5 s · account trades 1 per 5 s · portfolio accounts 1 per 5 s ·
//! tickle 1/s · history at most 5 in flight.
//!
//! The limiters run on a clock read from `tokio::time`, so tests with `tokio::time::pause()`
//! advance them with the rest of the virtual time.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A `governor` clock over `tokio::time::Instant` (time since the pacer was made).
#[derive(Debug, Clone)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// Which endpoint-specific limit a request falls under (besides the global one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Other,
    Snapshot,
    History,
    ScannerRun,
    ScannerParams,
    AccountOrders,
    AccountTrades,
    PortfolioAccounts,
    Tickle,
}

impl Route {
    /// The limit a method + path (no query, relative to the base URL) falls under.
    pub fn of(method: &str, path: &str) -> Route {
        match (method, path) {
            (_, "/iserver/marketdata/snapshot") => Route::Snapshot,
            (_, "/iserver/marketdata/history") => Route::History,
            (_, "/iserver/scanner/run") => Route::ScannerRun,
            (_, "/iserver/scanner/params") => Route::ScannerParams,
            ("GET", "/iserver/account/orders") => Route::AccountOrders,
            ("GET", "/iserver/account/trades") => Route::AccountTrades,
            ("GET", "/portfolio/accounts") => Route::PortfolioAccounts,
            (_, "/tickle") => Route::Tickle,
            _ => Route::Other,
        }
    }
}

/// Whether and how to pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacerConfig {
    /// `false` turns every limit off (a test that measures something else).
    pub enabled: bool,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// The set of limiters; cheap to share (`Arc` inside the session).
pub struct Pacer {
    enabled: bool,
    clock: TokioClock,
    global: Limiter,
    snapshot: Limiter,
    scanner_run: Limiter,
    scanner_params: Limiter,
    account_orders: Limiter,
    account_trades: Limiter,
    portfolio_accounts: Limiter,
    tickle: Limiter,
    history: Arc<Semaphore>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// Holds a history slot while the request is in flight.
pub struct PacerPermit {
    _history: Option<OwnedSemaphorePermit>,
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// One call per `period`, no burst.
fn one_per(period: Duration, clock: &TokioClock) -> Limiter {
    // `with_period` is `None` only for a zero period; ours are constants > 0.
    let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(nz(1)));
    RateLimiter::direct_with_clock(quota, clock.clone())
}

/// `n` per second on average with bursts of `burst`: at most `n + burst` in any one-second
/// window, which is what a per-second limit counts.
fn per_second(n: u32, burst: u32, clock: &TokioClock) -> Limiter {
    RateLimiter::direct_with_clock(
        Quota::per_second(nz(n)).allow_burst(nz(burst)),
        clock.clone(),
    )
}

impl Pacer {
    pub fn new(config: PacerConfig) -> Self {
        let clock = TokioClock::new();
        Self {
            enabled: config.enabled,
            // rate + burst stays at or under IBKR's per-second numbers (50 and 10), and the
            // "1 per N" limits get a little slack so timing jitter never trips them.
            global: per_second(40, 10, &clock),
            snapshot: per_second(8, 2, &clock),
            scanner_run: one_per(Duration::from_millis(1100), &clock),
            scanner_params: one_per(Duration::from_secs(15 * 60 + 5), &clock),
            account_orders: one_per(Duration::from_millis(5100), &clock),
            account_trades: one_per(Duration::from_millis(5100), &clock),
            portfolio_accounts: one_per(Duration::from_millis(5100), &clock),
            tickle: one_per(Duration::from_millis(1100), &clock),
            history: Arc::new(Semaphore::new(5)),
            clock,
        }
    }

    /// Waits until a request on `route` may go out.
    pub async fn until_ready(&self, route: Route) -> PacerPermit {
        if !self.enabled {
            return PacerPermit { _history: None };
        }
        let history = if route == Route::History {
            // The semaphore is never closed, so acquiring cannot fail; None only if it were.
            self.history.clone().acquire_owned().await.ok()
        } else {
            None
        };
        let specific = match route {
            Route::Other | Route::History => None,
            Route::Snapshot => Some(&self.snapshot),
            Route::ScannerRun => Some(&self.scanner_run),
            Route::ScannerParams => Some(&self.scanner_params),
            Route::AccountOrders => Some(&self.account_orders),
            Route::AccountTrades => Some(&self.account_trades),
            Route::PortfolioAccounts => Some(&self.portfolio_accounts),
            Route::Tickle => Some(&self.tickle),
        };
        if let Some(limiter) = specific {
            self.wait(limiter).await;
        }
        self.wait(&self.global).await;
        PacerPermit { _history: history }
    }

    async fn wait(&self, limiter: &Limiter) {
        while let Err(not_until) = limiter.check() {
            let wait = not_until.wait_time_from(self.clock.now());
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            Route::of("GET", "/iserver/marketdata/snapshot"),
            Route::Snapshot
        );
        assert_eq!(
            Route::of("GET", "/iserver/account/orders"),
            Route::AccountOrders
        );
        assert_eq!(
            Route::of("POST", "/iserver/account/DU1/orders"),
            Route::Other
        );
        assert_eq!(Route::of("POST", "/tickle"), Route::Tickle);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_instead_of_failing() {
        let pacer = Pacer::new(PacerConfig::default());
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            let _p = pacer.until_ready(Route::AccountOrders).await;
        }
        let waited = start.elapsed();
        assert!(waited >= Duration::from_secs(10), "{waited:?}");
        assert!(waited < Duration::from_secs(11), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn snapshot_rate_stays_under_ten_per_second() {
        let pacer = Pacer::new(PacerConfig::default());
        let start = tokio::time::Instant::now();
        for _ in 0..20 {
            let _p = pacer.until_ready(Route::Snapshot).await;
        }
        // 8/s after a burst of 2: 20 calls need 18/8 s.
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn disabled_does_not_wait() {
        let pacer = Pacer::new(PacerConfig { enabled: false });
        let start = std::time::Instant::now();
        for _ in 0..5 {
            let _p = pacer.until_ready(Route::ScannerParams).await;
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
