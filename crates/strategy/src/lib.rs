//! # strategy — skim's trading rules as pure functions
//!
//! Everything skim decides lives here, over plain data: no IO, no clock reads, no async. The
//! caller passes `now` (a `DateTime<Utc>`), prices and state; the functions return decisions
//! ([`EntryDecision`], [`ExitAction`], [`OrderIntent`]) that the daemon records and sends.
//! Prices and money are [`rust_decimal::Decimal`]; every price in an [`OrderIntent`] is on the
//! ASX price step.
//!
//! ## Map
//!
//! | module | what | main items |
//! |---|---|---|
//! | [`types`] | valid-once-built domain types | [`Ticker`], [`Price`], [`Quantity`], [`GapPct`], [`OpeningRange`], [`OrderIntent`] ([`Side`], [`OrderType`], [`OrderPurpose`]), [`Quote`], [`Bar`] |
//! | [`settings`] | `[strategy]` settings with defaults | [`StrategySettings`] (`Default`, `validate`), [`EntryOrderType`] |
//! | [`asx`] | ASX knowledge | price step: [`asx::price_step`], [`asx::round_up_to_step`] (buy limits), [`asx::round_down_to_step`] (sell stops), [`asx::is_on_step`]; calendar: [`Calendar`] (`new(extra_closures, extra_early_closes)`, `is_trading_day`, `next_trading_day`, `prev_trading_day`, `add_trading_days`, `trading_days_between`, `close_time`, `is_early_close`), [`asx::holidays`]; session: [`asx::sydney_date`], [`asx::sydney_time`], [`asx::sydney_to_utc`], `Calendar::market_open_utc`, `market_close_utc`, `session_phase`, `is_continuous_trading`; announcements: [`asx::parse_announcements`] → [`Announcement`] |
//! | [`scan`] | IBKR scanner rows → gap hits | [`ScanContract`] (input), [`parse_scan`] → [`ScanHit`] |
//! | [`candidates`] | gap ∧ price ∧ price-sensitive news today | [`select_candidates`] → [`Candidate`] |
//! | [`range`] | the opening range (10:00 + N minutes) | [`opening_range`] (day high/low at completion), [`opening_range_from_bars`], [`opening_range_end_utc`] |
//! | [`entry`] | the ORH breakout entry | [`entry_decision`] → [`EntryDecision`] (`Buy { order, stop }` / `Skip(`[`SkipReason`]`)`), [`BookState`], [`position_size`], [`entry_limit_price`], [`initial_stop`], [`breakout_level`] |
//! | [`exit`] | stop, day-3 half, SMA trail | [`exit_decision`] → [`ExitAction`], [`stop_exit`], [`half_exit`], [`half_exit_date`], [`trail_exit`], [`sma`], [`raise_stop`], [`protective_stop_order`] |
//! | [`position`] | the position lifecycle | [`PositionState::transition`] over [`PositionEvent`]: PendingEntry → Open → HalfExited → Closed; [`Position`], [`PendingEntry`], [`ClosedPosition`], [`CloseReason`] |
//! | [`error`] | one error enum | [`StrategyError`] (`is_page_format_changed`, `is_lifecycle`, `is_invalid_input`); aliases [`ParseError`], [`LifecycleError`] |
//!
//! ## A trading day, in calls
//!
//! 1. `scan` (10:00:30): [`parse_scan`] the scanner contracts, [`asx::parse_announcements`] the
//!    ASX page (an error means the page changed: report it, do not trade on an empty list),
//!    then [`select_candidates`] for today's Sydney date ([`asx::sydney_date`]).
//! 2. `track-ranges` (10:00 + `opening_range_minutes`): [`opening_range`] per candidate;
//!    `None` = not traded yet (no range, no trade).
//! 3. `trade` (every 30 s): [`entry_decision`]; on `Buy`, record the order, create
//!    [`PositionState::pending`], send it, feed fills as [`PositionEvent`]s, and place
//!    [`protective_stop_order`] at the broker.
//! 4. `manage` (every 30 s): [`stop_exit`] as the backstop; optionally [`raise_stop`] and
//!    [`PositionEvent::StopRaised`].
//! 5. `exits` (15:50): [`exit_decision`] with the daily closes: the trail after the half exit,
//!    the half exit on day 3.
//!
//! ```
//! use chrono::{NaiveDate, NaiveTime};
//! use rust_decimal::Decimal;
//! use strategy::*;
//!
//! let settings = StrategySettings::default();
//! let calendar = Calendar::new(vec![], vec![]);
//! let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
//! let at = |h, m| asx::sydney_to_utc(day, NaiveTime::from_hms_opt(h, m, 0).unwrap()).unwrap();
//! let px = |s: &str| Price::new(s.parse::<Decimal>().unwrap()).unwrap();
//!
//! let hits = parse_scan(&[ScanContract {
//!     conid: 8644,
//!     symbol: "ABC".into(),
//!     scan_data: Some("+6.20%".into()),
//!     ..Default::default()
//! }]);
//! let html = r#"<table><tr><th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th></tr>
//!   <tr><td>ABC</td><td>03/12/2026<br>9:12 am</td><td><img class="pricesens"></td>
//!   <td><a href="/a">Maiden Resource</a><br>4 pages</td></tr></table>"#;
//! let announcements = asx::parse_announcements(html)?;
//! let candidates = select_candidates(&hits, &announcements, day, &settings);
//! assert_eq!(candidates.len(), 1);
//!
//! let range = opening_range(at(10, 5), Some(px("45.00")), Some(px("43.00")), Some(px("44.80")), &settings)
//!     .expect("traded in the first five minutes");
//! let quote = Quote { last: Some(px("45.10")), bid: None, ask: Some(px("45.12")) };
//! let decision = entry_decision(at(10, 30), &calendar, &candidates[0], &range, &quote,
//!     &BookState::default(), &settings);
//! let EntryDecision::Buy { order, stop } = decision else { panic!("{decision:?}") };
//! assert_eq!(order.limit_price(), Some(px("45.58"))); // 45.12 × 1.01, up to the 1c step
//! assert_eq!(order.quantity().get(), 109);             // floor(5000 / 45.58)
//! assert_eq!(stop, px("43.00"));
//!
//! let position = PositionState::pending(order.ticker().clone(), order.conid(), day, order.quantity(), stop)
//!     .transition(PositionEvent::EntryFill { quantity: order.quantity(), price: px("45.13") })?;
//! assert_eq!(stop_exit(&position, px("42.99")).map(|o| o.quantity().get()), Some(109));
//! # Ok::<(), StrategyError>(())
//! ```

pub mod asx;
pub mod candidates;
pub mod entry;
pub mod error;
pub mod exit;
pub mod position;
pub mod range;
pub mod scan;
pub mod settings;
pub mod types;

pub use asx::{Announcement, Calendar};
pub use candidates::{Candidate, select_candidates};
pub use entry::{
    BookState, EntryDecision, SkipReason, breakout_level, entry_decision, entry_limit_price,
    initial_stop, position_size,
};
pub use error::{LifecycleError, ParseError, StrategyError};
pub use exit::{
    ExitAction, exit_decision, half_exit, half_exit_date, protective_stop_order, raise_stop, sma,
    stop_exit, trail_exit,
};
pub use position::{
    CloseReason, ClosedPosition, PendingEntry, Position, PositionEvent, PositionState,
};
pub use range::{opening_range, opening_range_end_utc, opening_range_from_bars};
pub use scan::{ScanContract, ScanHit, parse_scan};
pub use settings::{EntryOrderType, StrategySettings};
pub use types::{
    Bar, GapPct, OpeningRange, OrderIntent, OrderPurpose, OrderType, Price, Quantity, Quote, Side,
    Ticker,
};
