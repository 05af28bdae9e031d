//! Typed calls of the Web API, as methods on [`Session`]: each builds its request, lets the
//! session sign, pace, renew and retry it, and reads the answer into a `model` type.
//!
//! Order calls (`place_order`, `modify_order`, `cancel_order` and the replies) are never retried
//! after an ambiguous failure: they return [`Error::OrderAmbiguous`] for the caller to settle
//! by cOID through [`Session::live_orders`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::model::{
    self, AccountSummary, Accounts, AuthStatus, CancelAck, History, LiveOrders, OrderReply,
    OrderStatus, OrderTicket, PlaceOrderOutcome, PortfolioAccount, Position, ScannerParams,
    ScannerRequest, ScannerResult, SecdefResult, Snapshot, Tickle, Trade,
};
use crate::session::{Call, Session};

/// How long scanner params are reused (IBKR allows one call per 15 minutes).
const SCANNER_PARAMS_TTL: Duration = Duration::from_secs(15 * 60);
/// Conids per snapshot request (keeps the URL short).
const SNAPSHOT_CHUNK: usize = 100;

/// A path segment from a caller (account id, order id): only `A-Z a-z 0-9 - _ .`, so it can
/// go into the URL as is and be signed as sent.
fn segment<'a>(what: &str, value: &'a str) -> Result<&'a str> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(value)
    } else {
        Err(Error::Config(format!("{what} {value:?} is not a valid id")))
    }
}

impl Session {
    async fn get_json<T: serde::de::DeserializeOwned>(&self, call: Call) -> Result<T> {
        let endpoint = call.endpoint();
        let body = self.call(call).await?;
        model::parse(&endpoint, &body)
    }

    /// `GET /iserver/accounts`: the brokerage accounts; IBKR wants it called before snapshots
    /// and order calls (the session does so once per brokerage session on its own).
    pub async fn accounts(&self) -> Result<Accounts> {
        let accounts: Accounts = self.get_json(Call::get("/iserver/accounts")).await?;
        self.mark_accounts_primed();
        Ok(accounts)
    }

    /// `GET /iserver/secdef/search?symbol=…`: every listing IBKR knows for a symbol.
    pub async fn secdef_search(&self, symbol: &str) -> Result<Vec<SecdefResult>> {
        let call = Call::get("/iserver/secdef/search").query("symbol", symbol.trim());
        let endpoint = call.endpoint();
        let value: Value = self.get_json(call).await?;
        match value {
            // IBKR answers an unknown symbol with `{"error": …}` or an empty body.
            Value::Null => Ok(Vec::new()),
            Value::Object(ref o) if o.contains_key("error") || o.is_empty() => Ok(Vec::new()),
            Value::Array(_) => serde_json::from_value(value)
                .map_err(|e| Error::Malformed(format!("{endpoint}: {e}"))),
            _ => Err(Error::Malformed(format!(
                "{endpoint}: search answer is not an array"
            ))),
        }
    }

    /// The ASX stock listing of `symbol` (secType `STK` on `ASX`), if there is one.
    pub async fn asx_stock(&self, symbol: &str) -> Result<Option<SecdefResult>> {
        let results = self.secdef_search(symbol).await?;
        Ok(SecdefResult::pick_asx_stock(&results).cloned())
    }

    /// `GET /iserver/marketdata/snapshot` for many conids at once. The first request for a
    /// conid only subscribes, so conids without any of `fields` are asked again after
    /// `snapshot_retry_delay`, up to `snapshot_attempts` times. The answer has one entry per
    /// distinct conid, in input order; one that never filled has no fields (`has_any` false).
    pub async fn snapshot(&self, conids: &[i64], fields: &[&str]) -> Result<Vec<Snapshot>> {
        let mut order: Vec<i64> = Vec::with_capacity(conids.len());
        for &c in conids {
            if !order.contains(&c) {
                order.push(c);
            }
        }
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let fields = if fields.is_empty() {
            model::fields::DEFAULT
        } else {
            fields
        };
        self.prime_accounts().await?;
        let config = self.config().clone();
        let field_list = fields.join(",");
        let mut filled: BTreeMap<i64, Snapshot> = BTreeMap::new();
        let mut pending = order.clone();
        for attempt in 0..config.snapshot_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(config.snapshot_retry_delay).await;
            }
            for chunk in pending.chunks(SNAPSHOT_CHUNK) {
                let ids = chunk
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                let call = Call::get("/iserver/marketdata/snapshot")
                    .query("conids", ids)
                    .query("fields", field_list.clone());
                let endpoint = call.endpoint();
                let value: Value = self.get_json(call).await?;
                for snap in Snapshot::list_from_value(&endpoint, &value)? {
                    if snap.has_any(fields) {
                        filled.insert(snap.conid, snap);
                    }
                }
            }
            pending.retain(|c| !filled.contains_key(c));
            if pending.is_empty() {
                break;
            }
        }
        Ok(order
            .into_iter()
            .map(|conid| {
                filled.remove(&conid).unwrap_or(Snapshot {
                    conid,
                    ..Snapshot::default()
                })
            })
            .collect())
    }

    /// `GET /iserver/marketdata/history?conid=&period=&bar=` (e.g. `15d`, `1d`).
    pub async fn history(&self, conid: i64, period: &str, bar: &str) -> Result<History> {
        let call = Call::get("/iserver/marketdata/history")
            .query("conid", conid.to_string())
            .query("period", period)
            .query("bar", bar);
        self.get_json(call).await
    }

    /// `GET /iserver/scanner/params`, reused for 15 minutes (IBKR's limit).
    pub async fn scanner_params(&self) -> Result<ScannerParams> {
        let mut cache = self.cached_scanner_params().await;
        if let Some((at, params)) = cache.as_ref() {
            if at.elapsed() < SCANNER_PARAMS_TTL {
                return Ok(params.clone());
            }
        }
        let value: Value = self.get_json(Call::get("/iserver/scanner/params")).await?;
        if !value.is_object() {
            return Err(Error::Malformed(
                "GET /iserver/scanner/params: answer is not an object".into(),
            ));
        }
        let params = ScannerParams(value);
        *cache = Some((tokio::time::Instant::now(), params.clone()));
        Ok(params)
    }

    /// `POST /iserver/scanner/run` (at most 50 contracts).
    pub async fn scanner_run(&self, request: &ScannerRequest) -> Result<ScannerResult> {
        let body = serde_json::to_string(request)
            .map_err(|e| Error::Malformed(format!("scanner request: {e}")))?;
        self.get_json(Call::post_text("/iserver/scanner/run", body))
            .await
    }

    /// `POST /iserver/account/{acct}/orders` with `{"orders":[ticket]}`, then answers every
    /// confirmation question (`POST /iserver/reply/{id}` `{"confirmed":true}`), at most
    /// `max_order_questions` of them. `{error}` is [`Error::OrderRejected`]; a lost answer is
    /// [`Error::OrderAmbiguous`] (settle it by `ticket.coid`).
    pub async fn place_order(
        &self,
        account: &str,
        ticket: &OrderTicket,
    ) -> Result<PlaceOrderOutcome> {
        let account = segment("account", account)?;
        self.prime_accounts().await?;
        let body = format!("{{\"orders\":[{}]}}", ticket_json(ticket)?);
        let call = Call::post_text(format!("/iserver/account/{account}/orders"), body)
            .order(Some(ticket.coid.clone()));
        self.order_dialogue(call, &ticket.coid).await
    }

    /// `POST /iserver/account/{acct}/order/{orderId}` with the whole new ticket; same questions.
    pub async fn modify_order(
        &self,
        account: &str,
        order_id: &str,
        ticket: &OrderTicket,
    ) -> Result<PlaceOrderOutcome> {
        let account = segment("account", account)?;
        let order_id = segment("order id", order_id)?;
        self.prime_accounts().await?;
        let call = Call::post_text(
            format!("/iserver/account/{account}/order/{order_id}"),
            ticket_json(ticket)?,
        )
        .order(Some(ticket.coid.clone()));
        self.order_dialogue(call, &ticket.coid).await
    }

    async fn order_dialogue(&self, call: Call, coid: &str) -> Result<PlaceOrderOutcome> {
        let _turn = self.order_turn().await;
        let max = self.config().max_order_questions;
        let mut confirmed = Vec::new();
        let mut answer = self.order_answer(call, coid).await?;
        loop {
            match answer {
                OrderReply::Accepted(orders) => {
                    // `from_value` never yields an empty accepted list.
                    let first = orders
                        .into_iter()
                        .next()
                        .ok_or_else(|| Error::OrderAmbiguous {
                            coid: Some(coid.to_owned()),
                            reason: "accepted answer without an order".into(),
                        })?;
                    return Ok(PlaceOrderOutcome {
                        order_id: first.order_id,
                        order_status: first.order_status,
                        confirmed,
                    });
                }
                OrderReply::Error(message) => return Err(Error::OrderRejected { message }),
                OrderReply::Question(question) => {
                    if confirmed.len() >= max as usize {
                        return Err(Error::OrderRejected {
                            message: format!(
                                "more than {max} confirmation questions, the last unanswered: {}",
                                question.message.join(" ")
                            ),
                        });
                    }
                    tracing::info!(
                        coid,
                        reply_id = %question.id,
                        message_ids = ?question.message_ids,
                        "confirming an order question"
                    );
                    let id = segment("reply id", &question.id)?;
                    let reply = Call::post(
                        format!("/iserver/reply/{id}"),
                        Some(json!({"confirmed": true})),
                    )
                    .order(Some(coid.to_owned()));
                    confirmed.push(question);
                    answer = self.order_answer(reply, coid).await?;
                }
            }
        }
    }

    /// Sends one order request and reads its answer; an unreadable answer to an order is
    /// ambiguous (it may have been placed).
    async fn order_answer(&self, call: Call, coid: &str) -> Result<OrderReply> {
        let endpoint = call.endpoint();
        let body = self.call(call).await?;
        let parsed = model::parse_value(&endpoint, &body)
            .and_then(|v| OrderReply::from_value(&endpoint, &v));
        parsed.map_err(|e| match e {
            Error::Malformed(reason) => Error::OrderAmbiguous {
                coid: Some(coid.to_owned()),
                reason,
            },
            other => other,
        })
    }

    /// `POST /iserver/questions/suppress {"messageIds":[…]}`: pre-answer these questions.
    pub async fn suppress_questions(&self, message_ids: &[&str]) -> Result<()> {
        if message_ids.is_empty() {
            return Ok(());
        }
        let call = Call::post(
            "/iserver/questions/suppress",
            Some(json!({ "messageIds": message_ids })),
        );
        self.call(call).await.map(drop)
    }

    /// `GET /iserver/account/order/status/{orderId}`.
    pub async fn order_status(&self, order_id: &str) -> Result<OrderStatus> {
        let order_id = segment("order id", order_id)?;
        self.prime_accounts().await?;
        self.get_json(Call::get(format!(
            "/iserver/account/order/status/{order_id}"
        )))
        .await
    }

    /// `GET /iserver/account/orders`: working orders and those finished this session, each with
    /// its cOID (`order_ref`). Paced to one call per 5 s.
    pub async fn live_orders(&self) -> Result<LiveOrders> {
        self.prime_accounts().await?;
        self.get_json(Call::get("/iserver/account/orders")).await
    }

    /// `GET /iserver/account/trades?days=n` (n clamped to 1..=7). Paced to one call per 5 s.
    pub async fn trades(&self, days: u32) -> Result<Vec<Trade>> {
        self.prime_accounts().await?;
        let call = Call::get("/iserver/account/trades").query("days", days.clamp(1, 7).to_string());
        let value: Option<Vec<Trade>> = self.get_json(call).await?;
        Ok(value.unwrap_or_default())
    }

    /// `DELETE /iserver/account/{acct}/order/{orderId}`: a request, not a confirmation; check
    /// the status after.
    pub async fn cancel_order(&self, account: &str, order_id: &str) -> Result<CancelAck> {
        let account = segment("account", account)?;
        let order_id = segment("order id", order_id)?;
        self.prime_accounts().await?;
        let mut call =
            Call::get(format!("/iserver/account/{account}/order/{order_id}")).order(None);
        call.method = reqwest::Method::DELETE;
        let endpoint = call.endpoint();
        let body = self.call(call).await?;
        let ack: CancelAck = model::parse(&endpoint, &body).map_err(|e| Error::OrderAmbiguous {
            coid: None,
            reason: e.to_string(),
        })?;
        match ack.error {
            Some(message) => Err(Error::OrderRejected { message }),
            None => Ok(ack),
        }
    }

    /// `GET /portfolio/accounts` (call it before the other `/portfolio` calls). 1 per 5 s.
    pub async fn portfolio_accounts(&self) -> Result<Vec<PortfolioAccount>> {
        let list: Option<Vec<PortfolioAccount>> =
            self.get_json(Call::get("/portfolio/accounts")).await?;
        Ok(list.unwrap_or_default())
    }

    /// `GET /portfolio/{acct}/positions/{page}` (page 0 first; 100 per page).
    pub async fn positions(&self, account: &str, page: u32) -> Result<Vec<Position>> {
        let account = segment("account", account)?;
        let list: Option<Vec<Position>> = self
            .get_json(Call::get(format!("/portfolio/{account}/positions/{page}")))
            .await?;
        Ok(list.unwrap_or_default())
    }

    /// `GET /portfolio/{acct}/summary`.
    pub async fn account_summary(&self, account: &str) -> Result<AccountSummary> {
        let account = segment("account", account)?;
        self.get_json(Call::get(format!("/portfolio/{account}/summary")))
            .await
    }

    /// `POST /tickle`. Prefer [`Session::keep_alive`], which also acts on the answer.
    pub async fn tickle(&self) -> Result<Tickle> {
        self.get_json(Call::post("/tickle", None)).await
    }

    /// `POST /iserver/auth/status`.
    pub async fn auth_status(&self) -> Result<AuthStatus> {
        self.get_json(Call::post("/iserver/auth/status", None))
            .await
    }
}

/// The ticket as JSON text, prices as exact numbers. (Text, not a `serde_json::Value`: a
/// `Value` would hold the prices as `f64`.)
pub fn ticket_json(ticket: &OrderTicket) -> Result<String> {
    if ticket.coid.is_empty() || ticket.quantity == 0 {
        return Err(Error::Config(
            "an order ticket needs a cOID and a quantity above zero".into(),
        ));
    }
    serde_json::to_string(ticket).map_err(|e| Error::Malformed(format!("order ticket: {e}")))
}
