//! [`Sim`] starts the server; [`SimHandle`] scripts and stops it.
//!
//! A plain hyper HTTP/1.1 server (not an axum router) so that a fault can close a connection
//! without answering. Each request: count it, answer the announcements page without auth, or
//! for `/v1/api/*` verify OAuth ([`crate::auth`]), count rate limits, apply a queued fault, then
//! dispatch to [`crate::api`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, Reply, Route};
use crate::auth::{self, AuthState, RequestParts, Verified};
use crate::config::SimConfig;
use crate::credentials::{ServerKeys, TestCredentials};
use crate::error::{Result, SimError};
use crate::faults::{Fault, FaultQueues, Faults};
use crate::lock;
use crate::market::{Book, Market};
use crate::stats::{RateWindows, SimStats};

/// Path of the simulated ASX announcements page.
pub const ANNOUNCEMENTS_PATH: &str = "/asx/v2/statistics/todayAnns.do";

/// The brokerage (`/iserver`) session.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    /// `Some(t)`: `ssodh/init` done, usable from `t`. `None`: no bridge.
    pub bridge_ready_at: Option<Instant>,
    pub competing: bool,
    /// Conids whose snapshot subscription exists in this brokerage session.
    pub subscribed: std::collections::HashSet<u64>,
    pub session_id: String,
    /// Time of the last authenticated request (for the idle timeout).
    pub last_activity: Option<Instant>,
}

impl SessionState {
    pub fn drop_bridge(&mut self) {
        self.bridge_ready_at = None;
        self.subscribed.clear();
    }
    /// Records activity; first drops the bridge when the session sat idle longer than `idle`.
    pub fn touch(&mut self, idle: Option<std::time::Duration>) {
        let now = Instant::now();
        if let (Some(limit), Some(last)) = (idle, self.last_activity) {
            if now.duration_since(last) > limit && self.bridge_ready_at.is_some() {
                tracing::info!("brokerage session timed out after {limit:?} idle");
                self.drop_bridge();
            }
        }
        self.last_activity = Some(now);
    }
    /// Whether `/iserver` calls work now.
    pub fn bridge_up(&self) -> bool {
        !self.competing && self.bridge_ready_at.is_some_and(|t| Instant::now() >= t)
    }
}

#[derive(Debug, Default)]
pub(crate) struct StatsState {
    pub stats: SimStats,
    pub windows: RateWindows,
}

/// State shared by the server and the handles.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub creds: TestCredentials,
    pub keys: ServerKeys,
    pub auth: Mutex<AuthState>,
    pub session: Mutex<SessionState>,
    pub book: Arc<Mutex<Book>>,
    pub faults: Mutex<FaultQueues>,
    pub stats: Mutex<StatsState>,
}

/// The simulator.
pub struct Sim;

impl Sim {
    /// Starts on `127.0.0.1:0` with freshly generated credentials (using the config's consumer
    /// key, access token and realm).
    pub async fn start(config: SimConfig) -> Result<SimHandle> {
        let (ck, token, realm) = (
            config.consumer_key.clone(),
            config.access_token.clone(),
            config.realm.clone(),
        );
        let creds =
            tokio::task::spawn_blocking(move || TestCredentials::generate(&ck, &token, &realm))
                .await
                .map_err(|e| SimError::Key(format!("key generation task failed: {e}")))??;
        Self::start_with(config, creds).await
    }

    /// Starts on `127.0.0.1:0` with the given credentials (their consumer key, access token and
    /// realm are what the sim accepts; the config's are ignored).
    pub async fn start_with(config: SimConfig, creds: TestCredentials) -> Result<SimHandle> {
        Self::start_on(config, creds, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on a given address (the binary uses a fixed port).
    pub async fn start_on(
        config: SimConfig,
        creds: TestCredentials,
        addr: SocketAddr,
    ) -> Result<SimHandle> {
        let keys = creds.server_keys()?;
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let book = Arc::new(Mutex::new(Book::new(config.starting_cash)));
        let shared = Arc::new(Shared {
            keys,
            creds,
            auth: Mutex::new(AuthState::default()),
            session: Mutex::new(SessionState::default()),
            book,
            faults: Mutex::new(FaultQueues::default()),
            stats: Mutex::new(StatsState::default()),
            config,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
        tracing::info!(%local, "ibkr-sim listening");
        Ok(SimHandle {
            shared,
            addr: local,
            stop: Arc::new(stop_tx),
            task: Arc::new(Mutex::new(Some(task))),
        })
    }
}

/// A running simulator. Clones share it; [`SimHandle::shutdown`] stops it for all.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Arc<watch::Sender<bool>>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:{port}/v1/api`: what a client's base URL should be.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1/api", self.addr)
    }
    /// The simulated ASX announcements page.
    pub fn announcements_url(&self) -> String {
        format!("http://{}{ANNOUNCEMENTS_PATH}", self.addr)
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }
    pub fn credentials(&self) -> &TestCredentials {
        &self.shared.creds
    }
    pub fn market(&self) -> Market {
        Market {
            book: self.shared.book.clone(),
        }
    }
    pub fn faults(&self) -> Faults {
        Faults {
            shared: self.shared.clone(),
        }
    }
    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        let mut stats = lock(&self.shared.stats).stats.clone();
        let book = lock(&self.shared.book);
        stats.orders_placed = book.orders_placed;
        stats.short_positions_seen = book.short_positions_seen;
        stats
    }
    /// Stops accepting connections and closes the open ones.
    pub async fn shutdown(self) {
        // Receivers may be gone already; nothing to tell them then.
        let _ = self.stop.send(true);
        let task = lock(&self.task).take();
        if let Some(task) = task {
            // A join error means the loop panicked or was aborted: it is stopped either way.
            let _ = task.await;
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                    // A connection error (client gone, or a fault dropping it) ends this
                    // connection only.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// A fault closing the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}
impl std::error::Error for Dropped {}

fn to_response(reply: Reply) -> Response<Body> {
    let (status, content_type, body) = match reply {
        Reply::Json(status, value) => (status, "application/json", value.to_string()),
        Reply::Html(status, html) => (status, "text/html; charset=utf-8", html),
        Reply::Raw(status, body) => (status, "application/json", body),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn count(shared: &Shared, f: impl FnOnce(&mut SimStats)) {
    f(&mut lock(&shared.stats).stats);
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Dropped> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let method = parts.method.as_str().to_owned();

    if path == ANNOUNCEMENTS_PATH {
        count(&shared, |s| {
            *s.requests
                .entry(format!("GET {ANNOUNCEMENTS_PATH}"))
                .or_default() += 1
        });
        let fault = lock(&shared.faults).take(ANNOUNCEMENTS_PATH);
        if let Some(fault) = fault {
            count(&shared, |s| s.faults_fired += 1);
            match fault {
                Fault::Status(code, body) => return Ok(to_response(Reply::Raw(code, body))),
                Fault::Delay(d) | Fault::DelayAfterProcessing(d) => tokio::time::sleep(d).await,
                Fault::DropConnection | Fault::DropAfterProcessing => return Err(Dropped),
            }
        }
        return Ok(to_response(api::asx::announcements(&shared)));
    }

    let Some(api_path) = path.strip_prefix("/v1/api").map(str::to_owned) else {
        count(&shared, |s| {
            *s.requests.entry("unknown".into()).or_default() += 1
        });
        return Ok(to_response(Reply::error(404, "Not Found")));
    };
    let segs: Vec<&str> = api_path.split('/').filter(|s| !s.is_empty()).collect();
    let route = api::route(&method, &segs);
    let route_name = route
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), Route::name);
    count(&shared, |s| {
        *s.requests.entry(route_name.clone()).or_default() += 1
    });

    let header_str = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header_str(header::HOST);
    let authorization = header_str(header::AUTHORIZATION);
    let has_user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .is_some_and(|v| !v.as_bytes().is_empty());
    let is_handshake = matches!(route, Some(Route::LiveSessionToken));
    let verified = {
        let request = RequestParts {
            method: &method,
            host: host.as_deref(),
            path: &path,
            query: parts.uri.query(),
            authorization: authorization.as_deref(),
            has_user_agent,
        };
        let mut auth_state = lock(&shared.auth);
        auth::verify(
            &mut auth_state,
            &shared.creds,
            &shared.keys,
            shared.config.max_clock_skew,
            &request,
            is_handshake,
        )
    };
    let verified = match verified {
        Ok(v) => v,
        Err(rejection) => {
            tracing::debug!(reason = %rejection.reason, %path, "request refused");
            count(&shared, |s| {
                *s.rejected_auth.entry(rejection.reason.clone()).or_default() += 1
            });
            return Ok(to_response(Reply::error(
                rejection.status,
                &rejection.reason,
            )));
        }
    };
    let Some(route) = route else {
        return Ok(to_response(Reply::error(
            404,
            &format!("Not Found: {method} {api_path}"),
        )));
    };

    let broken = {
        let mut stats = lock(&shared.stats);
        let broken = stats.windows.record(route.limit_path(), Instant::now());
        for limit in &broken {
            *stats
                .stats
                .rate_limit_violations
                .entry((*limit).to_owned())
                .or_default() += 1;
        }
        broken
    };
    if !broken.is_empty() && shared.config.enforce_rate_limits {
        return Ok(to_response(Reply::error(429, "Too many requests")));
    }

    let mut drop_after = false;
    let mut delay_after = None;
    let fault = lock(&shared.faults).take(&api_path);
    if let Some(fault) = fault {
        count(&shared, |s| s.faults_fired += 1);
        match fault {
            Fault::Status(code, body) => return Ok(to_response(Reply::Raw(code, body))),
            Fault::Delay(d) => tokio::time::sleep(d).await,
            Fault::DropConnection => return Err(Dropped),
            Fault::DropAfterProcessing => drop_after = true,
            Fault::DelayAfterProcessing(d) => delay_after = Some(d),
        }
    }

    let body = match axum::body::to_bytes(Body::new(body), 1 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(to_response(Reply::error(
                400,
                "Bad Request: unreadable body",
            )));
        }
    };
    let query = auth::query_pairs(parts.uri.query()).unwrap_or_default();
    let lst_expires_at_ms = match &verified {
        Verified::Signed { lst_expires_at_ms } => Some(*lst_expires_at_ms),
        Verified::Handshake { .. } => None,
    };
    let reply = match (&route, verified) {
        (Route::LiveSessionToken, Verified::Handshake { challenge }) => {
            let answer = auth::handshake(
                &mut lock(&shared.auth),
                &shared.creds,
                &shared.keys,
                &challenge,
                shared.config.lst_ttl,
            );
            count(&shared, |s| s.handshakes += 1);
            Reply::Json(200, answer)
        }
        _ => api::dispatch(
            &shared,
            &route,
            &api::Ctx {
                query: &query,
                body: &body,
                lst_expires_at_ms,
            },
        ),
    };
    if drop_after {
        return Err(Dropped);
    }
    if let Some(d) = delay_after {
        tokio::time::sleep(d).await;
    }
    Ok(to_response(reply))
}

/// `{"error": msg}` JSON value.
pub(crate) fn error_json(msg: &str) -> serde_json::Value {
    json!({ "error": msg })
}
