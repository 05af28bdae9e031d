//! [`Market`]: the scriptable exchange and the order book behind it.
//!
//! Tests and the demo script the market (contracts, quotes, halts, scanner rows, history,
//! announcements) and the sim fills orders against it: every [`Market::set_quote`] re-evaluates
//! the working orders of that contract. Fill rules:
//! - MKT fills at once at the ask (BUY) / bid (SELL), or the last price when there is no quote side.
//! - LMT BUY fills when the ask (or, without an ask, the last) is at or below the limit, at that
//!   price; LMT SELL symmetric with the bid.
//! - STP SELL triggers when last ≤ stop and fills at the last; STP BUY when last ≥ stop.
//!   STOP_LIMIT triggers the same way on `auxPrice`, then works as a LMT at `price`.
//! - Nothing fills while a contract is halted.
//! - [`FillMode::Partial`]: an order's first execution fills only `first_fill_qty`; the rest
//!   fills on the next market update.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;

use crate::format::now_ms;
use crate::lock;
use crate::orders::{OrderEvent, OrderStatus, OrderType, Side, SimOrder, Ticket};

/// A listed ASX stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub conid: u64,
    pub symbol: String,
    pub company_name: String,
}

/// The top of book and day statistics of one contract. `last: None` means no trade today (the
/// snapshot then shows the prior close with a `C` prefix).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quote {
    pub last: Option<Decimal>,
    pub bid: Option<Decimal>,
    pub ask: Option<Decimal>,
    pub high: Option<Decimal>,
    pub low: Option<Decimal>,
    pub open: Option<Decimal>,
    pub prior_close: Option<Decimal>,
    pub volume: Option<Decimal>,
}

/// One scanner result row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRow {
    pub conid: u64,
    pub symbol: String,
    pub company_name: String,
    /// The gap in percent (`12.31` is rendered `"+12.31%"`).
    pub gap_pct: Decimal,
}

/// One historical bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Bar start, ms since the epoch.
    pub t_ms: i64,
    pub o: Decimal,
    pub h: Decimal,
    pub l: Decimal,
    pub c: Decimal,
    pub v: Decimal,
}

/// One row of the ASX announcements page.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAnnouncement {
    pub ticker: String,
    /// As the page prints it, e.g. `"10:02 am"`.
    pub time: String,
    pub price_sensitive: bool,
    pub headline: String,
    pub pages: u32,
}

/// How executions are sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FillMode {
    /// Each fill takes the whole remaining quantity.
    #[default]
    Full,
    /// An order's first execution fills only `first_fill_qty`; the rest on the next market update.
    Partial { first_fill_qty: u64 },
}

/// One execution (a fill or part of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub execution_id: String,
    pub order_id: u64,
    pub conid: u64,
    pub symbol: String,
    pub side: Side,
    pub size: Decimal,
    pub price: Decimal,
    pub time_ms: i64,
    /// The order's `cOID`.
    pub order_ref: Option<String>,
    pub commission: Decimal,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Position {
    pub qty: Decimal,
    pub avg_price: Decimal,
    pub realized_pnl: Decimal,
}

/// A ticket waiting for the client to confirm its questions.
#[derive(Debug, Clone)]
pub(crate) struct PendingOrder {
    pub ticket: Ticket,
    /// Questions not yet asked, (message id, text).
    pub questions: VecDeque<(String, String)>,
}

/// Everything the exchange and the account hold.
#[derive(Debug)]
pub(crate) struct Book {
    pub contracts: BTreeMap<u64, Contract>,
    pub quotes: HashMap<u64, Quote>,
    pub sizes: HashMap<u64, (Decimal, Decimal)>,
    pub halted: HashSet<u64>,
    pub scanner: Vec<ScanRow>,
    pub history: HashMap<u64, Vec<Bar>>,
    pub announcements: Vec<SimAnnouncement>,
    /// The date the announcements page shows; `None` = today in Sydney (real time). Tests and
    /// the demo set it to their simulated trading day.
    pub announcements_date: Option<chrono::NaiveDate>,
    pub fill_mode: FillMode,
    pub commission: Decimal,
    pub questions: Vec<(String, String)>,
    pub suppressed: HashSet<String>,
    pub pending: HashMap<String, PendingOrder>,
    pub coids: HashSet<String>,
    pub orders: Vec<SimOrder>,
    pub executions: Vec<Execution>,
    pub positions: BTreeMap<u64, Position>,
    pub cash: Decimal,
    next_order_id: u64,
    next_execution: u64,
    pub orders_placed: u64,
    pub short_positions_seen: u64,
}

/// The question every new order gets by default.
pub const DEFAULT_QUESTION: (&str, &str) = (
    "o163",
    "The following order exceeds the price percentage limit of 3%.\nAre you sure you want to submit this order?",
);

impl Book {
    pub fn new(starting_cash: Decimal) -> Self {
        Self {
            contracts: BTreeMap::new(),
            quotes: HashMap::new(),
            sizes: HashMap::new(),
            halted: HashSet::new(),
            scanner: Vec::new(),
            history: HashMap::new(),
            announcements: Vec::new(),
            announcements_date: None,
            fill_mode: FillMode::Full,
            commission: Decimal::new(500, 2),
            questions: vec![(DEFAULT_QUESTION.0.to_owned(), DEFAULT_QUESTION.1.to_owned())],
            suppressed: HashSet::new(),
            pending: HashMap::new(),
            coids: HashSet::new(),
            orders: Vec::new(),
            executions: Vec::new(),
            positions: BTreeMap::new(),
            cash: starting_cash,
            next_order_id: 1_780_000_001,
            next_execution: 1,
            orders_placed: 0,
            short_positions_seen: 0,
        }
    }

    /// The questions a new ticket must answer, minus the suppressed ones.
    pub fn questions_for_new_order(&self) -> VecDeque<(String, String)> {
        self.questions
            .iter()
            .filter(|(id, _)| !self.suppressed.contains(id))
            .cloned()
            .collect()
    }

    /// Places a confirmed ticket, evaluates it against the current quote, and returns its id.
    pub fn place(&mut self, ticket: Ticket) -> u64 {
        let order_id = self.next_order_id;
        self.next_order_id += 1;
        let symbol = self
            .contracts
            .get(&ticket.conid)
            .map(|c| c.symbol.clone())
            .unwrap_or_default();
        let status = match ticket.order_type {
            OrderType::Stop | OrderType::StopLimit => OrderStatus::PreSubmitted,
            OrderType::Market | OrderType::Limit => OrderStatus::Submitted,
        };
        self.orders.push(SimOrder {
            order_id,
            coid: ticket.coid,
            conid: ticket.conid,
            symbol,
            side: ticket.side,
            order_type: ticket.order_type,
            quantity: ticket.quantity,
            price: ticket.price,
            aux_price: ticket.aux_price,
            tif: ticket.tif,
            outside_rth: ticket.outside_rth,
            status,
            filled: Decimal::ZERO,
            avg_price: None,
            triggered: false,
            created_ms: now_ms(),
            last_execution_ms: None,
        });
        self.orders_placed += 1;
        let idx = self.orders.len() - 1;
        self.try_fill(idx);
        order_id
    }

    pub fn order_index(&self, order_id: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.order_id == order_id)
    }

    /// Re-evaluates every working order of a contract (after a market update).
    pub fn evaluate_conid(&mut self, conid: u64) {
        let indices: Vec<usize> = self
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.conid == conid && o.status.is_working())
            .map(|(i, _)| i)
            .collect();
        for idx in indices {
            self.try_fill(idx);
        }
    }

    /// At most one execution per evaluation.
    pub fn try_fill(&mut self, idx: usize) {
        let Some(order) = self.orders.get(idx) else {
            return;
        };
        if !order.status.is_working() || self.halted.contains(&order.conid) {
            return;
        }
        let Some(quote) = self.quotes.get(&order.conid).cloned() else {
            return;
        };
        let (side, order_type) = (order.side, order.order_type);
        if let (Some(stop), false) = (order.stop_price(), order.triggered) {
            let Some(last) = quote.last else { return };
            let hit = match side {
                Side::Sell => last <= stop,
                Side::Buy => last >= stop,
            };
            if !hit {
                return;
            }
            if let Some(order) = self.orders.get_mut(idx) {
                order.triggered = true;
                if order.apply(OrderEvent::Triggered).is_err() {
                    return;
                }
            }
        }
        let Some(order) = self.orders.get(idx) else {
            return;
        };
        let price = match (order_type, side) {
            (OrderType::Market, Side::Buy) => quote.ask.or(quote.last),
            (OrderType::Market, Side::Sell) => quote.bid.or(quote.last),
            (OrderType::Stop, _) => quote.last,
            (OrderType::Limit | OrderType::StopLimit, Side::Buy) => {
                quote.ask.or(quote.last).filter(|p| Some(*p) <= order.price)
            }
            (OrderType::Limit | OrderType::StopLimit, Side::Sell) => quote
                .bid
                .or(quote.last)
                .filter(|p| order.price.is_some_and(|limit| *p >= limit)),
        };
        let Some(price) = price else { return };
        let remaining = order.remaining();
        let qty = match self.fill_mode {
            FillMode::Partial { first_fill_qty }
                if order.filled.is_zero()
                    && first_fill_qty > 0
                    && Decimal::from(first_fill_qty) < remaining =>
            {
                Decimal::from(first_fill_qty)
            }
            _ => remaining,
        };
        self.execute(idx, qty, price);
    }

    fn execute(&mut self, idx: usize, qty: Decimal, price: Decimal) {
        let commission = self.commission;
        let now = now_ms();
        let Some(order) = self.orders.get_mut(idx) else {
            return;
        };
        let event = if qty >= order.remaining() {
            OrderEvent::FinalFill
        } else {
            OrderEvent::PartialFill
        };
        if order.apply(event).is_err() {
            return;
        }
        let prior_value = order.avg_price.unwrap_or_default() * order.filled;
        order.filled += qty;
        order.avg_price = Some(((prior_value + price * qty) / order.filled).round_dp(6));
        order.last_execution_ms = Some(now);
        let execution = Execution {
            execution_id: format!(
                "{:08x}.{:08x}.01.01",
                order.order_id & 0xffff_ffff,
                self.next_execution
            ),
            order_id: order.order_id,
            conid: order.conid,
            symbol: order.symbol.clone(),
            side: order.side,
            size: qty,
            price,
            time_ms: now,
            order_ref: order.coid.clone(),
            commission,
        };
        self.next_execution += 1;
        let side = order.side;
        let conid = order.conid;
        let value = price * qty;
        match side {
            Side::Buy => self.cash -= value + commission,
            Side::Sell => self.cash += value - commission,
        }
        let went_short = {
            let pos = self.positions.entry(conid).or_default();
            apply_to_position(pos, side, qty, price)
        };
        if went_short {
            self.short_positions_seen += 1;
        }
        self.executions.push(execution);
    }

    /// The price used to value a position: last, else prior close, else its cost.
    pub fn mark_price(&self, conid: u64) -> Option<Decimal> {
        self.quotes
            .get(&conid)
            .and_then(|q| q.last.or(q.prior_close))
    }
}

/// Updates a position with one execution; returns whether it is now (more) short.
fn apply_to_position(pos: &mut Position, side: Side, qty: Decimal, price: Decimal) -> bool {
    let signed = match side {
        Side::Buy => qty,
        Side::Sell => -qty,
    };
    let before = pos.qty;
    let after = before + signed;
    let same_direction =
        before.is_zero() || (before.is_sign_positive() == signed.is_sign_positive());
    if same_direction {
        pos.avg_price = (pos.avg_price * before.abs() + price * qty) / after.abs();
    } else {
        let closed = qty.min(before.abs());
        let per_share = if before.is_sign_positive() {
            price - pos.avg_price
        } else {
            pos.avg_price - price
        };
        pos.realized_pnl += per_share * closed;
        if after.is_zero() {
            pos.avg_price = Decimal::ZERO;
        } else if after.is_sign_positive() != before.is_sign_positive() {
            pos.avg_price = price;
        }
    }
    pos.qty = after;
    after.is_sign_negative() && !after.is_zero()
}

/// Handle for scripting the simulated market; cheap to clone, every method is sync.
#[derive(Debug, Clone)]
pub struct Market {
    pub(crate) book: Arc<Mutex<Book>>,
}

impl Market {
    /// Lists a stock on the ASX. Symbol search also answers a non-ASX listing of the same
    /// symbol, so clients must pick `STK` on `ASX`.
    pub fn add_contract(&self, symbol: &str, conid: u64, company_name: &str) {
        lock(&self.book).contracts.insert(
            conid,
            Contract {
                conid,
                symbol: symbol.to_owned(),
                company_name: company_name.to_owned(),
            },
        );
    }

    /// Replaces a contract's quote and re-evaluates its working orders.
    pub fn set_quote(&self, conid: u64, quote: Quote) {
        let mut book = lock(&self.book);
        book.quotes.insert(conid, quote);
        book.evaluate_conid(conid);
    }

    /// The current quote of a contract.
    pub fn quote(&self, conid: u64) -> Option<Quote> {
        lock(&self.book).quotes.get(&conid).cloned()
    }

    /// Halts or resumes trading (the snapshot's last price gets an `H` prefix; nothing fills).
    pub fn set_halted(&self, conid: u64, halted: bool) {
        let mut book = lock(&self.book);
        if halted {
            book.halted.insert(conid);
        } else {
            book.halted.remove(&conid);
            book.evaluate_conid(conid);
        }
    }

    /// Bid and ask sizes shown by the snapshot (fields 88 and 85). Default 1,000 / 1,000.
    pub fn set_sizes(&self, conid: u64, bid_size: Decimal, ask_size: Decimal) {
        lock(&self.book).sizes.insert(conid, (bid_size, ask_size));
    }

    pub fn set_scanner_results(&self, rows: Vec<ScanRow>) {
        lock(&self.book).scanner = rows;
    }

    pub fn set_history(&self, conid: u64, bars: Vec<Bar>) {
        lock(&self.book).history.insert(conid, bars);
    }

    pub fn set_announcements(&self, announcements: Vec<SimAnnouncement>) {
        lock(&self.book).announcements = announcements;
    }

    /// Dates the announcements page (`None`: today in Sydney by the real clock), so a
    /// simulated trading day sees its own announcements as today's.
    pub fn set_announcements_date(&self, date: Option<chrono::NaiveDate>) {
        lock(&self.book).announcements_date = date;
    }

    pub fn set_fill_mode(&self, mode: FillMode) {
        lock(&self.book).fill_mode = mode;
    }

    /// Commission charged per execution (AUD; default 5.00).
    pub fn set_commission(&self, commission: Decimal) {
        lock(&self.book).commission = commission;
    }

    /// The questions each new order must confirm, `(message id, text)`, in order. Default: one
    /// `o163` price-percentage question. An empty list places orders at once.
    pub fn set_reply_questions(&self, questions: Vec<(String, String)>) {
        lock(&self.book).questions = questions;
    }

    /// Sets the account's cash balance (AUD).
    pub fn set_cash(&self, cash: Decimal) {
        lock(&self.book).cash = cash;
    }

    /// Every order placed (confirmed), in placement order.
    pub fn orders(&self) -> Vec<SimOrder> {
        lock(&self.book).orders.clone()
    }

    /// Open positions `(conid, quantity, average price)`; zero positions are left out.
    pub fn positions(&self) -> Vec<(u64, Decimal, Decimal)> {
        lock(&self.book)
            .positions
            .iter()
            .filter(|(_, p)| !p.qty.is_zero())
            .map(|(conid, p)| (*conid, p.qty, p.avg_price))
            .collect()
    }

    /// Every execution, oldest first.
    pub fn executions(&self) -> Vec<Execution> {
        lock(&self.book).executions.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_average_and_realise() {
        let mut p = Position::default();
        assert!(!apply_to_position(
            &mut p,
            Side::Buy,
            Decimal::from(100),
            Decimal::from(2)
        ));
        assert!(!apply_to_position(
            &mut p,
            Side::Buy,
            Decimal::from(100),
            Decimal::from(4)
        ));
        assert_eq!(p.avg_price, Decimal::from(3));
        assert!(!apply_to_position(
            &mut p,
            Side::Sell,
            Decimal::from(50),
            Decimal::from(5)
        ));
        assert_eq!(p.realized_pnl, Decimal::from(100));
        assert_eq!(p.qty, Decimal::from(150));
        assert!(apply_to_position(
            &mut p,
            Side::Sell,
            Decimal::from(200),
            Decimal::from(5)
        ));
        assert_eq!(p.qty, Decimal::from(-50));
        assert_eq!(p.avg_price, Decimal::from(5));
    }
}
