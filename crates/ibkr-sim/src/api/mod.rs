//! Routing and the endpoint handlers, one module per area of the Web API.
//!
//! [`route`] maps a method and path to a [`Route`] (also the name stats use); [`dispatch`]
//! runs it. Handlers are synchronous: they only touch in-memory state.

pub mod asx;
pub mod marketdata;
pub mod portfolio;
pub mod scanner;
pub mod session;
pub mod trading;

use serde_json::Value;

use crate::lock;
use crate::server::{Shared, error_json};

/// An answer.
#[derive(Debug, Clone)]
pub enum Reply {
    Json(u16, Value),
    Html(u16, String),
    /// A body sent as is (injected faults).
    Raw(u16, String),
}

impl Reply {
    pub fn ok(value: Value) -> Self {
        Self::Json(200, value)
    }
    pub fn error(status: u16, msg: &str) -> Self {
        Self::Json(status, error_json(msg))
    }
}

/// What a handler gets besides the shared state.
pub struct Ctx<'a> {
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    /// Expiry of the live session token that signed the request.
    pub lst_expires_at_ms: Option<i64>,
}

impl Ctx<'_> {
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON; an empty body is `null`.
    pub fn json(&self) -> Result<Value, Reply> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(self.body)
            .map_err(|e| Reply::error(400, &format!("Bad Request: body is not JSON: {e}")))
    }
}

/// Every endpoint the sim answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    LiveSessionToken,
    SsodhInit,
    Tickle,
    AuthStatus,
    Logout,
    Accounts,
    SecdefSearch,
    Snapshot,
    History,
    ScannerParams,
    ScannerRun,
    PlaceOrders { account: String },
    Reply { id: String },
    SuppressQuestions,
    OrderStatus { order_id: String },
    LiveOrders,
    Trades,
    CancelOrder { account: String, order_id: String },
    ModifyOrder { account: String, order_id: String },
    PortfolioAccounts,
    Positions { account: String, page: String },
    Summary { account: String },
}

/// Maps a request to a route.
pub fn route(method: &str, segs: &[&str]) -> Option<Route> {
    let s = |x: &str| x.to_owned();
    Some(match (method, segs) {
        ("POST", ["oauth", "live_session_token"]) => Route::LiveSessionToken,
        ("POST", ["iserver", "auth", "ssodh", "init"]) => Route::SsodhInit,
        ("POST" | "GET", ["tickle"]) => Route::Tickle,
        ("POST" | "GET", ["iserver", "auth", "status"]) => Route::AuthStatus,
        ("POST", ["logout"]) => Route::Logout,
        ("GET", ["iserver", "accounts"]) => Route::Accounts,
        ("GET" | "POST", ["iserver", "secdef", "search"]) => Route::SecdefSearch,
        ("GET", ["iserver", "marketdata", "snapshot"]) => Route::Snapshot,
        ("GET", ["iserver", "marketdata", "history"]) => Route::History,
        ("GET", ["iserver", "scanner", "params"]) => Route::ScannerParams,
        ("POST", ["iserver", "scanner", "run"]) => Route::ScannerRun,
        ("POST", ["iserver", "account", acct, "orders"]) => Route::PlaceOrders { account: s(acct) },
        ("POST", ["iserver", "reply", id]) => Route::Reply { id: s(id) },
        ("POST", ["iserver", "questions", "suppress"]) => Route::SuppressQuestions,
        ("GET", ["iserver", "account", "order", "status", id]) => {
            Route::OrderStatus { order_id: s(id) }
        }
        ("GET", ["iserver", "account", "orders"]) => Route::LiveOrders,
        ("GET", ["iserver", "account", "trades"]) => Route::Trades,
        ("DELETE", ["iserver", "account", acct, "order", id]) => Route::CancelOrder {
            account: s(acct),
            order_id: s(id),
        },
        ("POST", ["iserver", "account", acct, "order", id]) => Route::ModifyOrder {
            account: s(acct),
            order_id: s(id),
        },
        ("GET", ["portfolio", "accounts"]) => Route::PortfolioAccounts,
        ("GET", ["portfolio", acct, "positions", page]) => Route::Positions {
            account: s(acct),
            page: s(page),
        },
        ("GET", ["portfolio", acct, "summary"]) => Route::Summary { account: s(acct) },
        _ => return None,
    })
}

impl Route {
    /// The path template, as the rate limits and the stats name it.
    pub fn limit_path(&self) -> &'static str {
        match self {
            Route::LiveSessionToken => "/oauth/live_session_token",
            Route::SsodhInit => "/iserver/auth/ssodh/init",
            Route::Tickle => "/tickle",
            Route::AuthStatus => "/iserver/auth/status",
            Route::Logout => "/logout",
            Route::Accounts => "/iserver/accounts",
            Route::SecdefSearch => "/iserver/secdef/search",
            Route::Snapshot => "/iserver/marketdata/snapshot",
            Route::History => "/iserver/marketdata/history",
            Route::ScannerParams => "/iserver/scanner/params",
            Route::ScannerRun => "/iserver/scanner/run",
            Route::PlaceOrders { .. } => "/iserver/account/{accountId}/orders",
            Route::Reply { .. } => "/iserver/reply/{replyId}",
            Route::SuppressQuestions => "/iserver/questions/suppress",
            Route::OrderStatus { .. } => "/iserver/account/order/status/{orderId}",
            Route::LiveOrders => "/iserver/account/orders",
            Route::Trades => "/iserver/account/trades",
            Route::CancelOrder { .. } | Route::ModifyOrder { .. } => {
                "/iserver/account/{accountId}/order/{orderId}"
            }
            Route::PortfolioAccounts => "/portfolio/accounts",
            Route::Positions { .. } => "/portfolio/{accountId}/positions/{pageId}",
            Route::Summary { .. } => "/portfolio/{accountId}/summary",
        }
    }

    fn method(&self) -> &'static str {
        match self {
            Route::Accounts
            | Route::SecdefSearch
            | Route::Snapshot
            | Route::History
            | Route::ScannerParams
            | Route::OrderStatus { .. }
            | Route::LiveOrders
            | Route::Trades
            | Route::PortfolioAccounts
            | Route::Positions { .. }
            | Route::Summary { .. } => "GET",
            Route::CancelOrder { .. } => "DELETE",
            _ => "POST",
        }
    }

    /// `"GET /iserver/accounts"`: the key of [`crate::SimStats::requests`].
    pub fn name(&self) -> String {
        format!("{} {}", self.method(), self.limit_path())
    }

    /// `/iserver` routes other than the auth ones need the brokerage session.
    fn needs_bridge(&self) -> bool {
        self.limit_path().starts_with("/iserver")
            && !matches!(self, Route::SsodhInit | Route::AuthStatus)
    }
}

/// Runs a route.
pub fn dispatch(shared: &Shared, route: &Route, ctx: &Ctx<'_>) -> Reply {
    let bridge_up = {
        let mut session = lock(&shared.session);
        session.touch(shared.config.session_idle_timeout);
        session.bridge_up()
    };
    if route.needs_bridge() && !bridge_up {
        return Reply::error(400, "Bad Request: no bridge");
    }
    let result = match route {
        Route::LiveSessionToken => Err(Reply::error(500, "handshake routed wrongly")),
        Route::SsodhInit => session::ssodh_init(shared, ctx),
        Route::Tickle => Ok(session::tickle(shared, ctx)),
        Route::AuthStatus => Ok(session::auth_status(shared)),
        Route::Logout => Ok(session::logout(shared)),
        Route::Accounts => Ok(session::accounts(shared)),
        Route::SecdefSearch => marketdata::secdef_search(shared, ctx),
        Route::Snapshot => marketdata::snapshot(shared, ctx),
        Route::History => marketdata::history(shared, ctx),
        Route::ScannerParams => Ok(scanner::params()),
        Route::ScannerRun => scanner::run(shared, ctx),
        Route::PlaceOrders { account } => trading::place(shared, ctx, account),
        Route::Reply { id } => trading::reply(shared, ctx, id),
        Route::SuppressQuestions => trading::suppress(shared, ctx),
        Route::OrderStatus { order_id } => trading::order_status(shared, order_id),
        Route::LiveOrders => Ok(trading::live_orders(shared, ctx)),
        Route::Trades => Ok(trading::trades(shared, ctx)),
        Route::CancelOrder { account, order_id } => trading::cancel(shared, account, order_id),
        Route::ModifyOrder { account, order_id } => trading::modify(shared, ctx, account, order_id),
        Route::PortfolioAccounts => Ok(portfolio::accounts(shared)),
        Route::Positions { account, page } => portfolio::positions(shared, account, page),
        Route::Summary { account } => portfolio::summary(shared, account),
    };
    result.unwrap_or_else(|reply| reply)
}

/// Refuses an account id other than the sim's one.
pub(crate) fn check_account(shared: &Shared, account: &str) -> Result<(), Reply> {
    if account == shared.config.account_id {
        Ok(())
    } else {
        Err(Reply::error(
            400,
            &format!("Account {account} is not a valid account for this user"),
        ))
    }
}
