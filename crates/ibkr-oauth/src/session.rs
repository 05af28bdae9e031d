//! The live session: the LST handshake over HTTP, signing and sending every request, the
//! brokerage session (`ssodh/init`), renewal, retries, and the keeper task.
//!
//! Invariants:
//! - at most one handshake runs at a time (`handshake_lock`); a caller whose request was
//!   refused with 401/410 renews only if the token it used is still the current one, so many
//!   concurrent 401s cause one handshake, not a storm;
//! - after `max_auth_failures` consecutive refused handshakes no handshake is attempted again
//!   until [`Session::reset_auth_failures`] (a crash loop must not get the account locked);
//! - order POSTs are never retried after an ambiguous failure: that is [`Error::OrderAmbiguous`];
//! - the LST lives in a `SecretBox` and never reaches a log line or an error.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use num_bigint::{BigUint, RandBigInt as _};
use rand::Rng as _;
use rand::rngs::OsRng;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use secrecy::{ExposeSecret, SecretBox};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::lst;
use crate::model::{self, AuthStatus, LiveSessionTokenResponse};
use crate::pacer::{Pacer, PacerConfig, Route};
use crate::sign;

/// IBKR's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.ibkr.com/v1/api";

/// How failed reads are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total tries of one idempotent request (first try included).
    pub max_attempts: u32,
    /// First backoff; doubles per try, with jitter (50–100 % of the step).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Wait after a 429 without `Retry-After`. IBKR's penalty box is 10 minutes: do not hammer.
    pub rate_limit_wait: Duration,
    /// Upper bound on any 429 wait, even when `Retry-After` asks for more.
    pub max_rate_limit_wait: Duration,
    /// How many 429s one request waits out before the error surfaces.
    pub max_rate_limit_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
            rate_limit_wait: Duration::from_secs(60),
            max_rate_limit_wait: Duration::from_secs(600),
            max_rate_limit_retries: 1,
        }
    }
}

/// Everything the session needs besides the credentials.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `https://api.ibkr.com/v1/api`, or the simulator's.
    pub base_url: String,
    /// Sent on every request (IBKR requires one).
    pub user_agent: String,
    pub request_timeout: Duration,
    /// `POST /tickle` this often (the brokerage session idles out after ~5 min).
    pub tickle_interval: Duration,
    /// Renew the LST this long before its expiry (capped at half its lifetime).
    pub lst_refresh_margin: Duration,
    /// Consecutive refused handshakes before the session stops trying.
    pub max_auth_failures: u32,
    /// Pause after `ssodh/init` before `/iserver` is used.
    pub init_settle: Duration,
    pub retry: RetryPolicy,
    pub pacer: PacerConfig,
    /// Snapshot tries per call (the first one for a conid only subscribes).
    pub snapshot_attempts: u32,
    pub snapshot_retry_delay: Duration,
    /// Confirmation questions answered per order before giving up.
    pub max_order_questions: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            user_agent: concat!("skim-ibkr-oauth/", env!("CARGO_PKG_VERSION")).into(),
            request_timeout: Duration::from_secs(15),
            tickle_interval: Duration::from_secs(60),
            lst_refresh_margin: Duration::from_secs(3600),
            max_auth_failures: 3,
            init_settle: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            pacer: PacerConfig::default(),
            snapshot_attempts: 4,
            snapshot_retry_delay: Duration::from_millis(500),
            max_order_questions: 6,
        }
    }
}

impl SessionConfig {
    /// Defaults with another base URL (the simulator's).
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..Self::default()
        }
    }
}

/// What the session tells its owner (through [`Session::subscribe`]), for notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The first live session token of this session.
    Authenticated {
        expires_at: DateTime<Utc>,
    },
    /// A later token replaced the previous one.
    Renewed {
        expires_at: DateTime<Utc>,
    },
    /// Another login holds the brokerage session; the session re-inits with `compete`.
    Competing,
    /// `ssodh/init` ran again (after a drop, a competing login, or a renewal).
    ReInitialised,
    /// A handshake was refused. `error` is the error's text (no secrets).
    AuthFailed {
        attempt: u32,
        error: String,
    },
    /// `max_auth_failures` reached: no more handshakes until reset.
    LockedOut {
        failures: u32,
    },
    LoggedOut,
}

/// A snapshot of the session's health.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionState {
    /// A token is held and the brokerage session said `authenticated` last time we asked.
    pub authenticated: bool,
    pub competing: bool,
    pub connected: bool,
    pub lst_expires_at: Option<DateTime<Utc>>,
    /// Successful handshakes since start.
    pub handshakes: u64,
    pub last_tickle: Option<DateTime<Utc>>,
    /// Consecutive refused handshakes.
    pub auth_failures: u32,
    pub locked_out: bool,
}

/// The current live session token.
struct Token {
    generation: u64,
    /// base64-decoded LST: the HMAC key of every request.
    key: SecretBox<Vec<u8>>,
    expires_at: SystemTime,
    renew_at: tokio::time::Instant,
}

#[derive(Default)]
struct Status {
    brokerage: AuthStatus,
    last_tickle: Option<DateTime<Utc>>,
}

struct Inner {
    credentials: Credentials,
    config: SessionConfig,
    http: reqwest::Client,
    pacer: Pacer,
    token: RwLock<Option<Arc<Token>>>,
    handshake_lock: tokio::sync::Mutex<()>,
    init_lock: tokio::sync::Mutex<()>,
    init_generation: AtomicU64,
    handshakes: AtomicU64,
    auth_failures: AtomicU32,
    /// Set by `logout`, cleared by `authenticate`: the keeper stays idle meanwhile instead of
    /// logging back in.
    logged_out: AtomicBool,
    /// `/iserver/accounts` has been called since the last `ssodh/init` (IBKR wants it first).
    accounts_primed: AtomicBool,
    status: Mutex<Status>,
    events: broadcast::Sender<SessionEvent>,
    scanner_params: tokio::sync::Mutex<Option<(tokio::time::Instant, model::ScannerParams)>>,
    /// One order dialogue at a time: IBKR wants the next ticket only after the previous one
    /// is acknowledged.
    order_lock: tokio::sync::Mutex<()>,
}

/// The live session. Cheap to clone (an `Arc` inside); every clone shares the token.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("base_url", &self.inner.config.base_url)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// How a request may be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Idempotent: retried on 5xx, network errors and 429.
    Read,
    /// An order POST/DELETE: never retried after an ambiguous failure.
    Order { coid: Option<String> },
}

/// One request, before signing.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    /// Relative to the base URL, starting with `/`, no query.
    pub path: String,
    /// Decoded pairs; signed as they are and sent percent-encoded.
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub kind: Kind,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            kind: Kind::Read,
        }
    }

    pub fn post(path: impl Into<String>, body: Option<serde_json::Value>) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: body.map(|b| b.to_string().into_bytes()),
            kind: Kind::Read,
        }
    }

    /// A POST whose JSON body is already text (exact numbers).
    pub fn post_text(path: impl Into<String>, body: String) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: Some(body.into_bytes()),
            kind: Kind::Read,
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    pub fn order(mut self, coid: Option<String>) -> Self {
        self.kind = Kind::Order { coid };
        self
    }

    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The first half of the handshake, pure: what to send. `a` is the secret DH exponent.
pub struct HandshakeRequest {
    pub authorization: String,
    /// `a` as big-endian bytes (a `BigUint` cannot be zeroized; bytes can).
    a: SecretBox<Vec<u8>>,
}

impl std::fmt::Debug for HandshakeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandshakeRequest([REDACTED])")
    }
}

/// Builds the signed `Authorization` header of `POST {url}` (the LST request) for the random
/// exponent `a`, nonce and timestamp given.
pub fn handshake_request(
    credentials: &Credentials,
    url: &str,
    a: BigUint,
    nonce: &str,
    timestamp: &str,
) -> HandshakeRequest {
    let challenge = lst::dh_challenge(&a, credentials.dh_prime());
    let mut params = sign::oauth_params(
        credentials.consumer_key(),
        credentials.access_token(),
        nonce,
        timestamp,
        sign::RSA_SHA256,
    );
    params.insert("diffie_hellman_challenge".into(), challenge);
    let prepend = credentials.prepend();
    let base = sign::base_string(
        Some(prepend.expose_secret()),
        "POST",
        url,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let signature = sign::rsa_sha256_signature(credentials.signature_key().expose(), &base);
    HandshakeRequest {
        authorization: sign::authorization_header(credentials.realm(), &params, &signature),
        a: SecretBox::new(Box::new(a.to_bytes_be())),
    }
}

/// The second half, pure: derive the LST from the server's answer and check its signature.
/// Returns the base64-decoded token (the HMAC key of later requests).
pub fn handshake_finish(
    credentials: &Credentials,
    request: &HandshakeRequest,
    response: &LiveSessionTokenResponse,
) -> Result<SecretBox<Vec<u8>>> {
    let k = lst::shared_secret(
        &response.diffie_hellman_response,
        &BigUint::from_bytes_be(request.a.expose_secret()),
        credentials.dh_prime(),
    )?;
    let token = lst::live_session_token(&k, credentials.decrypted_secret().expose_secret());
    // `live_session_token` returns our own base64, so decoding it cannot fail.
    let key = B64
        .decode(token.as_bytes())
        .map_err(|_| Error::Malformed("live session token is not base64".into()))?;
    lst::verify_live_session_token(
        &key,
        credentials.consumer_key(),
        &response.live_session_token_signature,
    )?;
    Ok(SecretBox::new(Box::new(key)))
}

/// A fresh nonce: 16 alphanumerics from the OS CSPRNG.
pub fn nonce() -> String {
    OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

fn unix_seconds() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        .to_string()
}

fn to_datetime(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

impl Session {
    /// A session that has not talked to IBKR yet: the first call (or [`Session::authenticate`])
    /// performs the handshake.
    pub fn new(credentials: Credentials, config: SessionConfig) -> Result<Session> {
        let base = config.base_url.trim_end_matches('/').to_owned();
        url::Url::parse(&base)
            .map_err(|e| Error::Config(format!("ibkr base_url {base:?} is not a URL: {e}")))?;
        if config.user_agent.trim().is_empty() {
            return Err(Error::Config("the User-Agent must not be empty".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let (events, _) = broadcast::channel(64);
        let config = SessionConfig {
            base_url: base,
            ..config
        };
        Ok(Session {
            inner: Arc::new(Inner {
                pacer: Pacer::new(config.pacer),
                credentials,
                config,
                http,
                token: RwLock::new(None),
                handshake_lock: tokio::sync::Mutex::new(()),
                init_lock: tokio::sync::Mutex::new(()),
                init_generation: AtomicU64::new(0),
                handshakes: AtomicU64::new(0),
                auth_failures: AtomicU32::new(0),
                accounts_primed: AtomicBool::new(false),
                logged_out: AtomicBool::new(false),
                status: Mutex::new(Status::default()),
                events,
                scanner_params: tokio::sync::Mutex::new(None),
                order_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// [`Session::new`] then [`Session::authenticate`].
    pub async fn connect(credentials: Credentials, config: SessionConfig) -> Result<Session> {
        let session = Session::new(credentials, config)?;
        session.authenticate().await?;
        Ok(session)
    }

    /// Handshakes (always, replacing any current token) and opens the brokerage session.
    pub async fn authenticate(&self) -> Result<()> {
        let _guard = self.inner.handshake_lock.lock().await;
        self.inner.logged_out.store(false, Ordering::SeqCst);
        self.handshake_locked().await?;
        self.init_brokerage_locked(false).await
    }

    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// Events from now on (see [`SessionEvent`]).
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.inner.events.subscribe()
    }

    pub fn state(&self) -> SessionState {
        let token = self.current();
        let status = self.lock_status();
        let failures = self.inner.auth_failures.load(Ordering::SeqCst);
        SessionState {
            authenticated: token.is_some() && status.brokerage.authenticated,
            competing: status.brokerage.competing,
            connected: status.brokerage.connected,
            lst_expires_at: token.map(|t| to_datetime(t.expires_at)),
            handshakes: self.inner.handshakes.load(Ordering::SeqCst),
            last_tickle: status.last_tickle,
            auth_failures: failures,
            locked_out: failures >= self.inner.config.max_auth_failures,
        }
    }

    /// Restores a failure count saved by a previous process (from `state().auth_failures` or
    /// the `AuthFailed` events), so the cap holds across restarts and a crash loop cannot
    /// get the account locked either.
    pub fn restore_auth_failures(&self, failures: u32) {
        self.inner.auth_failures.store(failures, Ordering::SeqCst);
    }

    /// Allows handshakes again after a lockout (an operator fixed the credentials).
    pub fn reset_auth_failures(&self) {
        self.inner.auth_failures.store(0, Ordering::SeqCst);
    }

    /// `POST /logout`, then forgets the token. A running keeper goes idle until
    /// [`Session::authenticate`]; a later call handshakes again by itself.
    pub async fn logout(&self) -> Result<()> {
        self.inner.logged_out.store(true, Ordering::SeqCst);
        let result = self.call(Call::post("/logout", None)).await.map(drop);
        *self.inner.token.write().unwrap_or_else(|e| e.into_inner()) = None;
        self.lock_status().brokerage = AuthStatus::default();
        self.emit(SessionEvent::LoggedOut);
        result
    }

    /// Renews the LST now (and re-inits the brokerage session), whatever its age.
    pub async fn renew(&self) -> Result<()> {
        let generation = self.current().map(|t| t.generation);
        self.renew_if_current(generation).await
    }

    /// One keeper round: tickle, then re-init if the brokerage session is gone or competing.
    pub async fn keep_alive(&self) -> Result<AuthStatus> {
        let tickle = self.tickle().await?;
        let status = tickle.auth_status();
        let was_competing = {
            let mut s = self.lock_status();
            let was = s.brokerage.competing;
            s.brokerage = status.clone();
            s.last_tickle = Some(Utc::now());
            was
        };
        if status.competing {
            if !was_competing {
                tracing::warn!(
                    "another login competes for the IBKR brokerage session; taking it back"
                );
            }
            self.emit(SessionEvent::Competing);
            self.reinit_after(None).await?;
            if self.lock_status().brokerage.competing {
                return Err(Error::Competing);
            }
        } else if !status.authenticated || !status.connected {
            tracing::warn!(
                authenticated = status.authenticated,
                connected = status.connected,
                "brokerage session down; re-initialising"
            );
            self.reinit_after(None).await?;
        }
        Ok(self.lock_status().brokerage.clone())
    }

    /// Runs the keeper until `shutdown` completes: tickles every `tickle_interval`, renews the
    /// token `lst_refresh_margin` before expiry, re-inits a dropped or competing brokerage
    /// session. Errors are logged and retried on the next round, never fatal.
    pub fn spawn_keeper<F>(&self, shutdown: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let session = self.clone();
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            let interval = session.inner.config.tickle_interval;
            let mut next_tickle = tokio::time::Instant::now() + interval;
            // After a failed renewal, wait a tickle interval before the next try.
            let mut renew_not_before = tokio::time::Instant::now();
            loop {
                let renew_at = session.current().map(|t| t.renew_at.max(renew_not_before));
                let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep_until(renew_at.unwrap_or(far)), if renew_at.is_some() => {
                        let generation = session.current().map(|t| t.generation);
                        let result = session.renew_if_current(generation).await;
                        // Never renew back to back, even if IBKR hands out a token that is
                        // already due (a handshake storm would get the account locked).
                        let pause = if result.is_ok() { interval.min(Duration::from_secs(60)) } else { interval };
                        renew_not_before = tokio::time::Instant::now() + pause;
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "renewing the live session token failed");
                        }
                    }
                    () = tokio::time::sleep_until(next_tickle) => {
                        if session.inner.logged_out.load(Ordering::SeqCst) {
                            next_tickle = tokio::time::Instant::now() + interval;
                            continue;
                        }
                        if let Err(e) = session.keep_alive().await {
                            tracing::warn!(error = %e, "keep-alive round failed");
                        }
                        next_tickle = tokio::time::Instant::now() + interval;
                    }
                }
            }
        })
    }

    // ---- internals -------------------------------------------------------------------------

    fn emit(&self, event: SessionEvent) {
        // No receiver is fine: events are informational.
        let _ = self.inner.events.send(event);
    }

    fn current(&self) -> Option<Arc<Token>> {
        self.inner
            .token
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.inner.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The credentials this session signs with.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The current token, handshaking (and initialising) first if there is none.
    async fn token(&self) -> Result<Arc<Token>> {
        if let Some(token) = self.current() {
            return Ok(token);
        }
        let _guard = self.inner.handshake_lock.lock().await;
        if let Some(token) = self.current() {
            return Ok(token);
        }
        let token = self.handshake_locked().await?;
        self.init_brokerage_locked(false).await?;
        Ok(token)
    }

    /// Renews unless someone already replaced the token `failed` (None = no token yet).
    async fn renew_if_current(&self, failed: Option<u64>) -> Result<()> {
        let _guard = self.inner.handshake_lock.lock().await;
        if self.current().map(|t| t.generation) != failed {
            return Ok(());
        }
        self.handshake_locked().await?;
        self.init_brokerage_locked(true).await
    }

    /// The handshake; the caller holds `handshake_lock`.
    async fn handshake_locked(&self) -> Result<Arc<Token>> {
        let max = self.inner.config.max_auth_failures;
        let failures = self.inner.auth_failures.load(Ordering::SeqCst);
        if failures >= max {
            return Err(Error::AuthLockedOut { failures });
        }
        match self.handshake_once().await {
            Ok(token) => {
                self.inner.auth_failures.store(0, Ordering::SeqCst);
                let n = self.inner.handshakes.fetch_add(1, Ordering::SeqCst) + 1;
                let expires_at = to_datetime(token.expires_at);
                tracing::info!(%expires_at, handshakes = n, "live session token obtained");
                self.emit(if n == 1 {
                    SessionEvent::Authenticated { expires_at }
                } else {
                    SessionEvent::Renewed { expires_at }
                });
                Ok(token)
            }
            Err(e) => {
                // Network trouble and 5xx say nothing about the credentials: not counted.
                if !e.is_transient() {
                    let attempt = self.inner.auth_failures.fetch_add(1, Ordering::SeqCst) + 1;
                    tracing::warn!(attempt, error = %e, "live session token handshake refused");
                    self.emit(SessionEvent::AuthFailed {
                        attempt,
                        error: e.to_string(),
                    });
                    if attempt >= max {
                        tracing::error!(failures = attempt, "handshakes locked out");
                        self.emit(SessionEvent::LockedOut { failures: attempt });
                    }
                }
                Err(e)
            }
        }
    }

    async fn handshake_once(&self) -> Result<Arc<Token>> {
        let creds = &self.inner.credentials;
        let config = &self.inner.config;
        let url = format!("{}/oauth/live_session_token", config.base_url);
        let endpoint = "POST /oauth/live_session_token";
        let a = OsRng.gen_biguint(256);
        let request = handshake_request(creds, &url, a, &nonce(), &unix_seconds());
        let _permit = self.inner.pacer.until_ready(Route::Other).await;
        let response = self
            .inner
            .http
            .post(&url)
            .header(AUTHORIZATION, &request.authorization)
            .header(USER_AGENT, &config.user_agent)
            .body(Vec::new())
            .send()
            .await
            .map_err(|source| Error::Http {
                endpoint: endpoint.into(),
                source,
            })?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = response.bytes().await.map_err(|source| Error::Http {
            endpoint: endpoint.into(),
            source,
        })?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body);
            return Err(
                match Error::from_status(status, endpoint, &text, retry_after) {
                    // On the handshake a bare 401 means the credentials were refused.
                    Error::AuthExpired { .. } => Error::Status {
                        status,
                        endpoint: endpoint.into(),
                        body: crate::error::snippet(&text),
                    },
                    other => other,
                },
            );
        }
        let answer: LiveSessionTokenResponse = model::parse(endpoint, &body)?;
        let key = handshake_finish(creds, &request, &answer)?;
        let expires_at = UNIX_EPOCH
            + Duration::from_millis(
                u64::try_from(answer.live_session_token_expiration).unwrap_or(0),
            );
        let remaining = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let margin = config.lst_refresh_margin.min(remaining / 2);
        let token = Arc::new(Token {
            generation: self.inner.handshakes.load(Ordering::SeqCst) + 1,
            key,
            expires_at,
            renew_at: tokio::time::Instant::now() + (remaining - margin),
        });
        *self.inner.token.write().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        Ok(token)
    }

    /// `POST /iserver/auth/ssodh/init` and the settle pause. The caller holds `handshake_lock`
    /// (so no renewal may happen inside).
    async fn init_brokerage_locked(&self, announce: bool) -> Result<()> {
        let _init = self.inner.init_lock.lock().await;
        self.init_brokerage_inner(announce).await
    }

    async fn init_brokerage_inner(&self, announce: bool) -> Result<()> {
        let call = Call::post(
            "/iserver/auth/ssodh/init",
            Some(serde_json::json!({"publish": true, "compete": true})),
        );
        // Boxed: `call_with` may come back here through `token()`.
        let body = Box::pin(self.call_with(&call, false)).await?;
        let status: AuthStatus = model::parse(&call.endpoint(), &body)?;
        self.inner.init_generation.fetch_add(1, Ordering::SeqCst);
        self.inner.accounts_primed.store(false, Ordering::SeqCst);
        self.lock_status().brokerage = status;
        tokio::time::sleep(self.inner.config.init_settle).await;
        if announce {
            tracing::info!("brokerage session re-initialised");
            self.emit(SessionEvent::ReInitialised);
        }
        Ok(())
    }

    /// Re-inits unless someone already did since `seen` (None = always).
    async fn reinit_after(&self, seen: Option<u64>) -> Result<()> {
        let _init = self.inner.init_lock.lock().await;
        if let Some(seen) = seen {
            if self.inner.init_generation.load(Ordering::SeqCst) != seen {
                return Ok(());
            }
        }
        self.init_brokerage_inner(true).await
    }

    /// `/iserver/accounts` once per brokerage session before snapshots and order calls.
    pub(crate) async fn prime_accounts(&self) -> Result<()> {
        if !self.inner.accounts_primed.load(Ordering::SeqCst) {
            self.accounts().await?;
        }
        Ok(())
    }

    pub(crate) fn mark_accounts_primed(&self) {
        self.inner.accounts_primed.store(true, Ordering::SeqCst);
    }

    pub(crate) async fn cached_scanner_params(
        &self,
    ) -> tokio::sync::MutexGuard<'_, Option<(tokio::time::Instant, model::ScannerParams)>> {
        self.inner.scanner_params.lock().await
    }

    /// Held for a whole order dialogue (ticket and its questions).
    pub(crate) async fn order_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.order_lock.lock().await
    }

    /// Sends a call: renews once on 401/410, re-inits once on `no bridge`, retries reads.
    pub(crate) async fn call(&self, call: Call) -> Result<Vec<u8>> {
        self.call_with(&call, true).await
    }

    async fn call_with(&self, call: &Call, may_renew: bool) -> Result<Vec<u8>> {
        let retry = &self.inner.config.retry;
        let endpoint = call.endpoint();
        let (mut renewed, mut reinited) = (!may_renew, !may_renew);
        let (mut attempt, mut rate_limited) = (0u32, 0u32);
        loop {
            attempt += 1;
            let token = if may_renew {
                self.token().await?
            } else {
                self.current().ok_or_else(|| Error::AuthExpired {
                    status: 401,
                    endpoint: endpoint.clone(),
                })?
            };
            let init_seen = self.inner.init_generation.load(Ordering::SeqCst);
            let error = match self.send_once(call, &token).await {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            if error.is_auth_expired() && !renewed {
                renewed = true;
                tracing::info!(%endpoint, "token refused; renewing once");
                self.renew_if_current(Some(token.generation)).await?;
                continue;
            }
            if matches!(error, Error::NoBridge { .. }) && !reinited {
                reinited = true;
                tracing::info!(%endpoint, "no bridge; re-initialising the brokerage session once");
                self.reinit_after(Some(init_seen)).await?;
                continue;
            }
            if let Kind::Order { coid } = &call.kind {
                return Err(order_error(error, coid));
            }
            if let Error::RateLimited { retry_after, .. } = &error {
                if rate_limited < retry.max_rate_limit_retries && attempt < retry.max_attempts {
                    rate_limited += 1;
                    let wait = retry_after
                        .unwrap_or(retry.rate_limit_wait)
                        .min(retry.max_rate_limit_wait);
                    tracing::warn!(%endpoint, wait_s = wait.as_secs_f64(), "rate limited by IBKR; backing off");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(error);
            }
            let retryable = match &error {
                Error::Http { .. } => true,
                Error::Status { status, .. } => *status >= 500,
                _ => false,
            };
            if retryable && attempt < retry.max_attempts {
                let wait = backoff(retry, attempt);
                tracing::debug!(%endpoint, attempt, error = %error, "retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(error);
        }
    }

    /// One signed request; non-2xx answers become classified errors.
    async fn send_once(&self, call: &Call, token: &Token) -> Result<Vec<u8>> {
        let config = &self.inner.config;
        let creds = &self.inner.credentials;
        let endpoint = call.endpoint();
        let _permit = self
            .inner
            .pacer
            .until_ready(Route::of(call.method.as_str(), &call.path))
            .await;
        let url = format!("{}{}", config.base_url, call.path);
        let authorization = sign::hmac_authorization(
            creds.consumer_key(),
            creds.access_token(),
            creds.realm(),
            token.key.expose_secret(),
            call.method.as_str(),
            &url,
            call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &nonce(),
            &unix_seconds(),
        );
        let full_url = if call.query.is_empty() {
            url
        } else {
            let query =
                sign::encode_query(call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            format!("{url}?{query}")
        };
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), &full_url)
            .header(AUTHORIZATION, authorization)
            .header(USER_AGENT, &config.user_agent);
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        } else if call.method != Method::GET {
            request = request.body(Vec::new());
        }
        let response = request.send().await.map_err(|source| Error::Http {
            endpoint: endpoint.clone(),
            source,
        })?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = response.bytes().await.map_err(|source| Error::Http {
            endpoint: endpoint.clone(),
            source,
        })?;
        if (200..300).contains(&status) {
            Ok(body.to_vec())
        } else {
            Err(Error::from_status(
                status,
                &endpoint,
                &String::from_utf8_lossy(&body),
                retry_after,
            ))
        }
    }
}

/// What a failed order request means for the order.
fn order_error(error: Error, coid: &Option<String>) -> Error {
    match error {
        // The connection was never made: nothing was sent.
        Error::Http { ref source, .. } if source.is_connect() => error,
        Error::Http { source, endpoint } => Error::OrderAmbiguous {
            coid: coid.clone(),
            reason: format!("{endpoint}: no answer ({source})"),
        },
        Error::Status {
            status,
            endpoint,
            body,
        } if status >= 500 => Error::OrderAmbiguous {
            coid: coid.clone(),
            reason: format!("{endpoint}: HTTP {status}: {body}"),
        },
        Error::Status { body, .. } => Error::OrderRejected {
            message: error_message(&body),
        },
        other => other,
    }
}

/// IBKR's `{"error": "..."}` text, or the body itself.
pub(crate) fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str().map(str::to_owned)))
        .unwrap_or_else(|| body.to_owned())
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Exponential backoff with jitter: 50–100 % of `base * 2^(attempt-1)`, capped.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let step = policy
        .base_delay
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(policy.max_delay);
    let jitter: f64 = rand::thread_rng().gen_range(0.5..=1.0);
    step.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let d = backoff(&p, attempt);
            assert!(d <= p.max_delay, "{d:?}");
            assert!(d >= p.base_delay / 2, "{d:?}");
        }
        assert!(backoff(&p, 3) >= Duration::from_millis(500));
    }

    #[test]
    fn nonces_are_fresh_alphanumerics() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn order_failures_map_to_ambiguous_or_rejected() {
        let coid = Some("c-1".to_string());
        let e = order_error(
            Error::Status {
                status: 503,
                endpoint: "POST /o".into(),
                body: "busy".into(),
            },
            &coid,
        );
        assert!(e.is_ambiguous(), "{e}");
        let e = order_error(
            Error::Status {
                status: 400,
                endpoint: "POST /o".into(),
                body: r#"{"error":"Local order ID=c-1 is already registered"}"#.into(),
            },
            &coid,
        );
        assert!(
            e.is_rejected() && e.to_string().contains("already registered"),
            "{e}"
        );
        let e = order_error(
            Error::RateLimited {
                endpoint: "x".into(),
                retry_after: None,
            },
            &coid,
        );
        assert!(e.is_rate_limited());
    }
}
