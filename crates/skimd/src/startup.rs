//! The daemon: [`Application::build`] connects everything; [`Application::run_until_stopped`]
//! reconciles, schedules the trading day, serves `/healthz`, and on shutdown lets the running
//! job finish (bounded), logs out and returns.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use ibkr_oauth::SessionEvent;
use tokio::sync::watch;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::broker;
use crate::clock::{Clock, OffsetClock, SystemClock};
use crate::configuration::Settings;
use crate::context::AppContext;
use crate::health::{self, Liveness};
use crate::jobs::{self, JobKind, JobLocks};
use crate::notify::Notifier;

/// First wait of `skimd run` before trying an unreachable IBKR again.
pub const IBKR_RETRY_WAIT: Duration = Duration::from_secs(30);

/// How long a job in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

pub struct Application {
    ctx: Arc<AppContext>,
    locks: Arc<JobLocks>,
    live: Arc<Liveness>,
    notifier_task: Option<tokio::task::JoinHandle<()>>,
}

/// The clock the daemon runs on: `clock.start` (running at real speed) or the real time.
pub fn daemon_clock(settings: &Settings) -> anyhow::Result<Arc<dyn Clock>> {
    Ok(match settings.clock_start()? {
        Some(start) => Arc::new(OffsetClock::new(start.with_timezone(&chrono::Utc))),
        None => Arc::new(SystemClock),
    })
}

impl Application {
    /// Loads the credentials, handshakes once, opens the database.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let clock = daemon_clock(&settings)?;
        let hook = Some(settings.notify.discord_webhook_url.clone());
        let (notifier, task) =
            Notifier::start(hook, settings.notify.queue_size, &settings.ibkr.user_agent);
        let ctx = AppContext::connect(settings, clock, notifier).await?;
        let mut app = Application::from_context(ctx);
        app.notifier_task = task;
        Ok(app)
    }

    /// [`Application::build`] for `skimd run`: while IBKR cannot be reached (network down,
    /// maintenance, 5xx) it waits and tries again (`first_wait`, doubling to 5 min) instead of
    /// exiting, so an outage at start cannot exhaust the supervisor's restart limit and leave
    /// the daemon dead. Under systemd it reports READY and keeps the watchdog fed while it
    /// waits. Anything else (bad settings, refused credentials) fails at once. `None` when
    /// `shutdown` came first.
    pub async fn build_waiting_for_ibkr(
        settings: Settings,
        shutdown: impl Future<Output = ()>,
        first_wait: Duration,
    ) -> anyhow::Result<Option<Application>> {
        const MAX_WAIT: Duration = Duration::from_secs(300);
        tokio::pin!(shutdown);
        let mut wait = first_wait;
        let mut waiting_watchdog: Option<tokio::task::JoinHandle<()>> = None;
        let result = loop {
            match Application::build(settings.clone()).await {
                Err(e) if crate::context::is_transient_start_error(&e) => {
                    tracing::warn!("cannot reach IBKR yet ({e:#}); trying again in {:?}", wait);
                    if waiting_watchdog.is_none() {
                        // Alive and doing what it should: waiting. READY now, so systemd's
                        // start timeout does not kill a daemon that waits out an outage.
                        health::systemd::ready();
                        let live = Arc::new(Liveness::default());
                        live.scheduler_alive.store(true, Ordering::SeqCst);
                        waiting_watchdog = health::systemd::spawn_watchdog(live);
                    }
                    tokio::select! {
                        () = &mut shutdown => break Ok(None),
                        () = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(MAX_WAIT);
                }
                other => break other.map(Some),
            }
        };
        if let Some(w) = waiting_watchdog {
            w.abort();
        }
        result
    }

    /// Over a context already built (tests, the demo).
    pub fn from_context(ctx: AppContext) -> Application {
        Application {
            ctx: Arc::new(ctx),
            locks: Arc::new(JobLocks::default()),
            live: Arc::new(Liveness::default()),
            notifier_task: None,
        }
    }

    pub fn context(&self) -> Arc<AppContext> {
        self.ctx.clone()
    }

    /// Runs until `shutdown` resolves, then stops cleanly. `on_health` receives the bound
    /// health address (tests bind port 0).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
        on_health: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
    ) -> anyhow::Result<()> {
        let ctx = self.ctx.clone();
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = {
            let rx = stop_rx.clone();
            move || {
                let mut rx = rx.clone();
                async move {
                    let _ = rx.wait_for(|s| *s).await;
                }
            }
        };

        // Banner.
        let open = ctx.store.open_positions().await.unwrap_or_default();
        let mode = ctx.mode();
        if ctx.settings.ibkr.paper_trading {
            tracing::info!(account = %ctx.ibkr.account, mode, open_positions = open.len(), "skimd started");
        } else {
            tracing::warn!(account = %ctx.ibkr.account, mode, open_positions = open.len(), "skimd started: LIVE TRADING, real money");
        }
        ctx.notifier.send(format!(
            "🚀 skimd started: account {} ({mode}), {} open position(s)",
            ctx.ibkr.account,
            open.len()
        ));

        // Session events → notifications.
        let mut events = ctx.ibkr.session.subscribe();
        let ev_ctx = ctx.clone();
        let ev_stop = stopped();
        let events_task = tokio::spawn(async move {
            tokio::pin!(ev_stop);
            loop {
                tokio::select! {
                    () = &mut ev_stop => break,
                    ev = events.recv() => match ev {
                        Ok(SessionEvent::Competing) => ev_ctx.notifier.send("⚠️ another IBKR login competes for the session; taking it back"),
                        Ok(SessionEvent::AuthFailed { attempt, error }) => {
                            crate::context::record_auth_failures(&ev_ctx.store, attempt).await;
                            ev_ctx.notifier.send(format!("⚠️ IBKR handshake failed (attempt {attempt}): {error}"));
                        }
                        Ok(SessionEvent::Renewed { expires_at }) => {
                            crate::context::record_auth_failures(&ev_ctx.store, 0).await;
                            tracing::info!(%expires_at, "live session token renewed");
                        }
                        Ok(SessionEvent::LockedOut { failures }) => ev_ctx.notifier.send(format!("🛑 IBKR handshakes stopped after {failures} failures: fix the credentials and restart")),
                        Ok(SessionEvent::ReInitialised) => tracing::info!("brokerage session re-initialised"),
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => tracing::warn!(n, "session events lagged"),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            }
        });

        // The session keeper: tickles, renews, re-inits. One handshake for the daemon's life.
        let keeper = ctx.ibkr.session.spawn_keeper(stopped());

        // Startup reconciliation: entries stay disabled until it succeeds.
        if let Err(e) = broker::startup_reconcile(&ctx).await {
            tracing::error!(
                "startup reconciliation did not complete: {e:#}; entries stay disabled, stops are still managed"
            );
        }

        // Health endpoint.
        let health_task = if ctx.settings.health.enabled {
            let (addr, task) = health::serve(
                ctx.clone(),
                self.live.clone(),
                ctx.settings.health.port,
                stopped(),
            )
            .await?;
            tracing::info!(%addr, "health endpoint /healthz");
            if let Some(tx) = on_health {
                let _ = tx.send(addr);
            }
            Some(task)
        } else {
            None
        };

        // The schedule.
        let mut scheduler = JobScheduler::new()
            .await
            .context("cannot start the scheduler")?;
        let stopping = Arc::new(AtomicBool::new(false));
        for (name, expr, key) in ctx.settings.schedule.entries() {
            let Some(kind) = JobKind::ALL.iter().copied().find(|k| k.name() == name) else {
                continue;
            };
            let (jctx, jlocks, jstop) = (ctx.clone(), self.locks.clone(), stopping.clone());
            let job = Job::new_async_tz(expr, ctx.tz, move |_id, _sched| {
                let (ctx, locks, stop) = (jctx.clone(), jlocks.clone(), jstop.clone());
                Box::pin(async move {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let _ = jobs::run_recorded(&ctx, &locks, kind).await;
                })
            })
            .map_err(|e| {
                anyhow::anyhow!("setting {key}: {expr:?} is not a valid cron expression ({e})")
            })?;
            scheduler
                .add(job)
                .await
                .with_context(|| format!("cannot schedule {name}"))?;
        }
        scheduler
            .start()
            .await
            .context("cannot start the scheduler")?;
        self.live.scheduler_alive.store(true, Ordering::SeqCst);
        health::systemd::ready();
        let watchdog = health::systemd::spawn_watchdog(self.live.clone());
        tracing::info!("scheduler running");

        shutdown.await;

        // Stop: no new ticks, let the job in flight finish (bounded), log out.
        tracing::info!(
            "shutdown requested: stopping the scheduler, letting the running job finish"
        );
        health::systemd::stopping();
        stopping.store(true, Ordering::SeqCst);
        self.live.scheduler_alive.store(false, Ordering::SeqCst);
        if let Err(e) = scheduler.shutdown().await {
            tracing::warn!("scheduler shutdown: {e}");
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, self.locks.wait_idle())
            .await
            .is_err()
        {
            tracing::warn!("a job was still running after {SHUTDOWN_GRACE:?}; stopping anyway");
        }
        let _ = stop_tx.send(true);
        let open = ctx.store.open_positions().await.unwrap_or_default();
        let held: Vec<String> = open
            .iter()
            .filter(|p| p.quantity > 0)
            .map(|p| {
                format!(
                    "{} {} (stop {})",
                    p.ticker,
                    p.quantity,
                    p.stop_price
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".into())
                )
            })
            .collect();
        if held.is_empty() {
            tracing::info!("shutting down with no open positions");
            ctx.notifier.send("👋 skimd stopped: no open positions");
        } else {
            tracing::warn!(positions = %held.join(", "), "shutting down with open positions (their stops stay at IBKR)");
            ctx.notifier.send(format!(
                "👋 skimd stopped with open positions (stops stay at IBKR): {}",
                held.join(", ")
            ));
        }
        if let Err(e) = ctx.ibkr.session.logout().await {
            tracing::warn!("logout: {e}");
        }
        let _ = keeper.await;
        let _ = events_task.await;
        if let Some(t) = health_task {
            let _ = t.await;
        }
        if let Some(w) = watchdog {
            w.abort();
        }
        if let Some(t) = self.notifier_task {
            // Give queued notifications a moment to go out.
            let _ = tokio::time::timeout(Duration::from_secs(3), t).await;
        }
        tracing::info!("skimd stopped");
        Ok(())
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
