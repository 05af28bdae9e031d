//! `/healthz` on 127.0.0.1 and systemd's `sd_notify` (READY, WATCHDOG, STOPPING).
//!
//! Healthy = the IBKR session is authenticated and the scheduler is alive.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::context::AppContext;

/// What the health endpoint reads besides the context.
#[derive(Debug, Default)]
pub struct Liveness {
    /// Set while the scheduler runs.
    pub scheduler_alive: AtomicBool,
}

#[derive(Clone)]
struct HealthState {
    ctx: Arc<AppContext>,
    live: Arc<Liveness>,
}

/// The health report and whether it is healthy.
pub async fn report(ctx: &AppContext, live: &Liveness) -> (bool, Value) {
    let session_authenticated = ctx.ibkr.is_authenticated();
    let scheduler_alive = live.scheduler_alive.load(Ordering::Relaxed);
    let flags = ctx.store.flags().await.ok();
    let last_jobs: Vec<Value> = ctx
        .store
        .last_job_runs()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            json!({
                "job": r.job,
                "started_at": r.started_at.to_rfc3339(),
                "outcome": r.outcome.map(|o| o.as_str()),
                "detail": r.detail,
            })
        })
        .collect();
    let healthy = session_authenticated && scheduler_alive && flags.is_some();
    (
        healthy,
        json!({
            "status": if healthy { "healthy" } else { "unhealthy" },
            "session_authenticated": session_authenticated,
            "scheduler_alive": scheduler_alive,
            "paused": flags.as_ref().map(|f| f.paused),
            "trading_enabled": flags.as_ref().map(|f| f.trading_enabled),
            "last_jobs": last_jobs,
        }),
    )
}

async fn healthz(State(state): State<HealthState>) -> (StatusCode, Json<Value>) {
    let (healthy, body) = report(&state.ctx, &state.live).await;
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// Binds 127.0.0.1:`port` (0 = any free port) and serves `/healthz` until `shutdown` resolves.
pub async fn serve(
    ctx: Arc<AppContext>,
    live: Arc<Liveness>,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on 127.0.0.1:{port} for /healthz ({e}): set health.port to a free port or health.enabled = false"
        )
    })?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/healthz", get(healthz))
        .with_state(HealthState { ctx, live });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("health endpoint stopped: {e}");
        }
    });
    Ok((addr, task))
}

/// systemd notifications; all no-ops when `NOTIFY_SOCKET` is unset.
pub mod systemd {
    use super::*;

    pub fn ready() {
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    }

    pub fn stopping() {
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    }

    /// Pings the watchdog at half of `WATCHDOG_USEC` while `healthy` says so: a hung daemon
    /// (or one whose scheduler died) is restarted by systemd.
    pub fn spawn_watchdog(live: Arc<Liveness>) -> Option<JoinHandle<()>> {
        let mut usec = 0u64;
        if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
            return None;
        }
        let every = Duration::from_micros(usec / 2);
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if live.scheduler_alive.load(Ordering::Relaxed) {
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                }
            }
        }))
    }
}
