//! Orders: placing (with the reply-question loop), status, the live order list, trades,
//! cancel and modify.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Ctx, Reply, check_account};
use crate::format::{json_num, price};
use crate::lock;
use crate::market::{Book, PendingOrder};
use crate::orders::{OrderEvent, SimOrder, parse_ticket};
use crate::server::Shared;

fn accepted(order_id: u64, status: &str) -> Reply {
    Reply::ok(
        json!([{"order_id": order_id.to_string(), "order_status": status, "encrypt_message": "1"}]),
    )
}

/// Asks the next question of a pending ticket, or places it when none is left.
fn next_step(book: &mut Book, mut pending: PendingOrder) -> Reply {
    match pending.questions.pop_front() {
        Some((message_id, message)) => {
            let reply_id = format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                rand::random::<u32>(),
                rand::random::<u16>(),
                rand::random::<u16>() & 0xfff,
                rand::random::<u16>() & 0xfff,
                rand::random::<u64>() & 0xffff_ffff_ffff,
            );
            book.pending.insert(reply_id.clone(), pending);
            Reply::ok(json!([{
                "id": reply_id,
                "message": [message],
                "isSuppressed": false,
                "messageIds": [message_id],
            }]))
        }
        None => {
            let order_id = book.place(pending.ticket);
            let status = book
                .order_index(order_id)
                .and_then(|i| book.orders.get(i))
                .map_or("Submitted", |o| o.status.as_str());
            accepted(order_id, status)
        }
    }
}

/// `POST /iserver/account/{acct}/orders` with `{"orders":[ticket]}` or a bare array.
pub fn place(shared: &Shared, ctx: &Ctx<'_>, account: &str) -> Result<Reply, Reply> {
    check_account(shared, account)?;
    let body = ctx.json()?;
    let tickets = match &body {
        Value::Object(map) => map.get("orders").and_then(Value::as_array),
        Value::Array(list) => Some(list),
        _ => None,
    }
    .ok_or_else(|| Reply::error(400, "Bad Request: expected {\"orders\": [ticket]}"))?;
    let [ticket] = tickets.as_slice() else {
        return Err(Reply::error(
            400,
            "Bad Request: send exactly one order ticket per request",
        ));
    };
    if let Some(acct) = ticket.get("acctId").and_then(Value::as_str) {
        check_account(shared, acct)?;
    }
    let mut book = lock(&shared.book);
    let ticket = parse_ticket(ticket, |c| book.contracts.contains_key(&c))
        .map_err(|e| Reply::error(400, &e))?;
    if let Some(coid) = &ticket.coid {
        // IBKR remembers client order ids for the day; the sim for its whole life.
        if !book.coids.insert(coid.clone()) {
            return Err(Reply::error(
                400,
                &format!("Local order ID={coid} is already registered."),
            ));
        }
    }
    let questions = book.questions_for_new_order();
    Ok(next_step(&mut book, PendingOrder { ticket, questions }))
}

/// `POST /iserver/reply/{id}` `{"confirmed": bool}`.
pub fn reply(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let body = ctx.json()?;
    let confirmed = body
        .get("confirmed")
        .and_then(Value::as_bool)
        .ok_or_else(|| Reply::error(400, "Bad Request: confirmed (boolean) required"))?;
    let mut book = lock(&shared.book);
    let pending = book
        .pending
        .remove(id)
        .ok_or_else(|| Reply::error(400, &format!("reply id not found: '{id}'")))?;
    if !confirmed {
        return Ok(Reply::ok(json!({"error": "Order not confirmed"})));
    }
    Ok(next_step(&mut book, pending))
}

/// `POST /iserver/questions/suppress` `{"messageIds": [...]}`.
pub fn suppress(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let body = ctx.json()?;
    let ids = body
        .get("messageIds")
        .and_then(Value::as_array)
        .ok_or_else(|| Reply::error(400, "Bad Request: messageIds required"))?;
    let mut book = lock(&shared.book);
    for id in ids {
        let id = id
            .as_str()
            .ok_or_else(|| Reply::error(400, "Bad Request: messageIds must be strings"))?;
        book.suppressed.insert(id.to_owned());
    }
    Ok(Reply::ok(json!({"status": "submitted"})))
}

fn parse_order_id(order_id: &str) -> Result<u64, Reply> {
    order_id
        .parse()
        .map_err(|_| Reply::error(400, &format!("OrderID {order_id} doesn't exist")))
}

fn find<'a>(book: &'a Book, order_id: &str) -> Result<(usize, &'a SimOrder), Reply> {
    let id = parse_order_id(order_id)?;
    book.order_index(id)
        .and_then(|i| book.orders.get(i).map(|o| (i, o)))
        .ok_or_else(|| Reply::error(400, &format!("OrderID {order_id} doesn't exist")))
}

fn order_description(o: &SimOrder) -> String {
    let verb = if o.filled.is_zero() {
        match o.side {
            crate::orders::Side::Buy => "Buy",
            crate::orders::Side::Sell => "Sell",
        }
    } else {
        match o.side {
            crate::orders::Side::Buy => "Bought",
            crate::orders::Side::Sell => "Sold",
        }
    };
    let px = o
        .price
        .map(|p| format!(" {}", price(p)))
        .unwrap_or_default();
    format!(
        "{verb} {} {}{px}, {}",
        o.quantity,
        o.order_type.display(),
        o.tif
    )
}

/// `GET /iserver/account/order/status/{orderId}`.
pub fn order_status(shared: &Shared, order_id: &str) -> Result<Reply, Reply> {
    let book = lock(&shared.book);
    let (_, o) = find(&book, order_id)?;
    let working = o.status.is_working();
    Ok(Reply::ok(json!({
        "sub_type": null,
        "request_id": "1",
        "server_id": "0",
        "order_id": o.order_id,
        "conidex": o.conid.to_string(),
        "conid": o.conid,
        "symbol": o.symbol,
        "side": o.side.letter(),
        "contract_description_1": o.symbol,
        "listing_exchange": "ASX",
        "company_name": book.contracts.get(&o.conid).map(|c| c.company_name.clone()),
        "size": format!("{:.1}", o.remaining()),
        "total_size": format!("{:.1}", o.quantity),
        "currency": "AUD",
        "account": shared.config.account_id,
        "order_type": o.order_type.upper(),
        "limit_price": o.price.filter(|_| matches!(o.order_type, crate::orders::OrderType::Limit | crate::orders::OrderType::StopLimit)).map(price),
        "stop_price": o.stop_price().map(price),
        "cum_fill": format!("{:.1}", o.filled),
        "order_status": o.status.as_str(),
        "order_status_description": format!("Order {}", o.status.as_str()),
        "tif": o.tif,
        "order_not_editable": !working,
        "cannot_cancel_order": !working,
        "sec_type": "STK",
        "order_description": order_description(o),
        "order_description_with_contract": format!("{} {}", o.symbol, order_description(o)),
        "average_price": o.avg_price.map(price),
        "order_ref": o.coid,
        "order_time": chrono::DateTime::from_timestamp_millis(o.created_ms).map(|t| t.format("%y%m%d%H%M%S").to_string()),
    })))
}

/// `GET /iserver/account/orders[?filters=Filled,Submitted]`.
pub fn live_orders(shared: &Shared, ctx: &Ctx<'_>) -> Reply {
    let filters: Vec<&str> = ctx
        .query("filters")
        .map(|f| {
            f.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "SortByTime")
                .collect()
        })
        .unwrap_or_default();
    let book = lock(&shared.book);
    let orders: Vec<Value> = book
        .orders
        .iter()
        .rev()
        .filter(|o| {
            filters.is_empty()
                || filters
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(o.status.as_str()))
        })
        .map(|o| {
            json!({
                "acct": shared.config.account_id,
                "account": shared.config.account_id,
                "exchange": "ASX",
                "conidex": o.conid.to_string(),
                "conid": o.conid,
                "orderId": o.order_id,
                "cashCcy": "AUD",
                "sizeAndFills": format!("{}/{}", o.filled, o.quantity),
                "orderDesc": order_description(o),
                "description1": o.symbol,
                "ticker": o.symbol,
                "secType": "STK",
                "listingExchange": "ASX",
                "remainingQuantity": json_num(o.remaining()),
                "filledQuantity": json_num(o.filled),
                "totalSize": json_num(o.quantity),
                "companyName": book.contracts.get(&o.conid).map(|c| c.company_name.clone()),
                "status": o.status.as_str(),
                "order_ccp_status": o.status.as_str(),
                "origOrderType": o.order_type.upper(),
                "orderType": o.order_type.display(),
                "price": o.price.map(price),
                "auxPrice": o.aux_price.map(price),
                "stop_price": o.stop_price().map(price),
                "timeInForce": o.tif,
                "lastExecutionTime_r": o.last_execution_ms,
                "side": o.side.as_str(),
                "avgPrice": o.avg_price.map(price),
                "order_ref": o.coid,
            })
        })
        .collect();
    Reply::ok(json!({"orders": orders, "snapshot": true}))
}

/// `GET /iserver/account/trades[?days=n]`: executions of the last `days` (≤ 7; default today).
pub fn trades(shared: &Shared, ctx: &Ctx<'_>) -> Reply {
    let days: i64 = ctx
        .query("days")
        .and_then(|d| d.parse().ok())
        .unwrap_or(1)
        .clamp(1, 7);
    let since = crate::format::now_ms() - days * 86_400_000;
    let book = lock(&shared.book);
    let rows: Vec<Value> = book
        .executions
        .iter()
        .filter(|e| e.time_ms >= since)
        .map(|e| {
            let verb = match e.side {
                crate::orders::Side::Buy => "Bought",
                crate::orders::Side::Sell => "Sold",
            };
            json!({
                "execution_id": e.execution_id,
                "symbol": e.symbol,
                "side": e.side.letter(),
                "order_description": format!("{verb} {} @ {} on ASX", e.size, price(e.price)),
                "trade_time": chrono::DateTime::from_timestamp_millis(e.time_ms).map(|t| t.format("%Y%m%d-%H:%M:%S").to_string()),
                "trade_time_r": e.time_ms,
                "size": json_num(e.size),
                "price": price(e.price),
                "order_ref": e.order_ref,
                "order_id": e.order_id,
                "exchange": "ASX",
                "commission": price(e.commission),
                "net_amount": json_num(e.price * e.size),
                "account": shared.config.account_id,
                "accountCode": shared.config.account_id,
                "company_name": book.contracts.get(&e.conid).map(|c| c.company_name.clone()),
                "contract_description_1": e.symbol,
                "sec_type": "STK",
                "listing_exchange": "ASX",
                "conid": e.conid,
                "conidEx": e.conid.to_string(),
            })
        })
        .collect();
    Reply::ok(Value::Array(rows))
}

/// `DELETE /iserver/account/{acct}/order/{orderId}`.
pub fn cancel(shared: &Shared, account: &str, order_id: &str) -> Result<Reply, Reply> {
    check_account(shared, account)?;
    let mut book = lock(&shared.book);
    let (idx, _) = find(&book, order_id)?;
    let order = book
        .orders
        .get_mut(idx)
        .ok_or_else(|| Reply::error(400, &format!("OrderID {order_id} doesn't exist")))?;
    order.apply(OrderEvent::Cancel).map_err(|_| {
        Reply::error(
            400,
            &format!(
                "OrderID {order_id} is {} and cannot be cancelled",
                order.status.as_str()
            ),
        )
    })?;
    Ok(Reply::ok(json!({
        "msg": "Request was submitted",
        "order_id": order.order_id,
        "conid": order.conid,
        "account": account,
    })))
}

/// `POST /iserver/account/{acct}/order/{orderId}` with the whole ticket: new price / quantity.
pub fn modify(
    shared: &Shared,
    ctx: &Ctx<'_>,
    account: &str,
    order_id: &str,
) -> Result<Reply, Reply> {
    check_account(shared, account)?;
    let body = ctx.json()?;
    let mut book = lock(&shared.book);
    let (idx, existing) = find(&book, order_id)?;
    let existing = existing.clone();
    let ticket = parse_ticket(&body, |c| c == existing.conid).map_err(|e| Reply::error(400, &e))?;
    if ticket.side != existing.side || ticket.order_type != existing.order_type {
        return Err(Reply::error(
            400,
            "Bad Request: side and orderType cannot be modified",
        ));
    }
    if ticket.quantity < existing.filled {
        return Err(Reply::error(
            400,
            "Bad Request: quantity is below the filled quantity",
        ));
    }
    if ticket
        .coid
        .as_ref()
        .is_some_and(|c| Some(c) != existing.coid.as_ref())
    {
        return Err(Reply::error(400, "Bad Request: cOID cannot be modified"));
    }
    let Some(order) = book.orders.get_mut(idx) else {
        return Err(Reply::error(
            400,
            &format!("OrderID {order_id} doesn't exist"),
        ));
    };
    order.apply(OrderEvent::Modified).map_err(|_| {
        Reply::error(
            400,
            &format!(
                "OrderID {order_id} is {} and cannot be modified",
                order.status.as_str()
            ),
        )
    })?;
    order.quantity = ticket.quantity;
    order.price = ticket.price;
    order.aux_price = ticket.aux_price;
    order.tif = ticket.tif;
    if order.remaining() == Decimal::ZERO {
        // Quantity cut to what already filled: the order is done.
        let _ = order.apply(OrderEvent::FinalFill);
    }
    book.try_fill(idx);
    let status = book
        .orders
        .get(idx)
        .map_or("Submitted", |o| o.status.as_str());
    Ok(accepted(existing.order_id, status))
}
