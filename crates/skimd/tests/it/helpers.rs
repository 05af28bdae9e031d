//! `spawn_app`: an ibkr-sim on port 0, fresh keys, a fresh SQLite file, settings pointing at
//! them, and a connected context on a fixed clock.

use std::sync::Arc;

use skimd::context::AppContext;
use skimd::demo::World;
use skimd::jobs::{self, JobKind, JobLocks, JobOutcome};
use skimd::notify::Notifier;

pub struct TestApp {
    pub world: World,
    pub ctx: Arc<AppContext>,
    pub locks: JobLocks,
}

pub async fn spawn_app() -> TestApp {
    skimd::telemetry::init_for_tests();
    let world = World::start().await.expect("sim starts");
    world.load_market();
    let ctx = world
        .context(Notifier::disabled())
        .await
        .expect("context connects");
    skimd::broker::startup_reconcile(&ctx)
        .await
        .expect("startup reconciliation");
    TestApp {
        world,
        ctx: Arc::new(ctx),
        locks: JobLocks::default(),
    }
}

impl TestApp {
    pub async fn job(&self, kind: JobKind) -> JobOutcome {
        jobs::run_recorded(&self.ctx, &self.locks, kind)
            .await
            .unwrap_or_else(|e| panic!("{kind} failed: {e}"))
    }

    /// Scan, alert and the opening ranges (PLS 2.30–2.50, DRO 1.100–1.200, WDS 29.50–30.00).
    pub async fn morning(&self) {
        self.world.set_time(9, 55, 0);
        self.job(JobKind::Purge).await;
        self.world.set_time(10, 0, 30);
        self.job(JobKind::Scan).await;
        self.world.set_time(10, 5, 0);
        let m = self.world.sim.market();
        m.set_quote(
            skimd::demo::PLS,
            skimd::demo::quote("2.45", "2.50", "2.30", "2.15"),
        );
        m.set_quote(
            skimd::demo::DRO,
            skimd::demo::quote("1.180", "1.200", "1.100", "1.060"),
        );
        m.set_quote(
            skimd::demo::WDS,
            skimd::demo::quote("29.70", "30.00", "29.50", "28.30"),
        );
        self.job(JobKind::TrackRanges).await;
    }
}
