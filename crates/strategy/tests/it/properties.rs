//! Properties over generated inputs: sizing limits, prices on the step, limits above the
//! last, stops below the entry, quantities that never go negative, calendar arithmetic, and
//! parsers that never panic.

use chrono::{Days, NaiveDate, NaiveTime};
use proptest::prelude::*;
use rust_decimal::Decimal;
use strategy::asx::{
    is_on_step, round_down_to_step, round_up_to_step, sydney_date, sydney_time, sydney_to_utc,
};
use strategy::{
    BookState, Calendar, EntryDecision, EntryOrderType, OpeningRange, OrderPurpose, PositionEvent,
    PositionState, Price, Quantity, Quote, StrategySettings, entry_decision, entry_limit_price,
    position_size, protective_stop_order, raise_stop,
};

use crate::support::{candidate, date, sydney, ticker};

/// Prices from 0.001 to 100 000.000 in thousandths, denser at the low end.
fn any_price() -> impl Strategy<Value = Price> {
    prop_oneof![
        (1i64..2_500).prop_map(|n| Decimal::new(n, 3)),
        (1i64..100_000).prop_map(|n| Decimal::new(n, 3)),
        (1i64..100_000_000).prop_map(|n| Decimal::new(n, 3)),
        (1i64..10_000_000).prop_map(|n| Decimal::new(n, 6)),
    ]
    .prop_map(|d| Price::new(d).expect("positive"))
}

fn any_settings() -> impl Strategy<Value = StrategySettings> {
    (
        1i64..200_000,
        1u64..20_000,
        0i64..500,
        0u32..5,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(value, shares, slippage_bp, buffer, market, trail)| StrategySettings {
                max_position_value: Decimal::from(value),
                max_shares: shares,
                limit_slippage_pct: Decimal::new(slippage_bp, 2),
                breakout_buffer: buffer,
                order_type: if market {
                    EntryOrderType::Market
                } else {
                    EntryOrderType::Limit
                },
                trail_stop_to_low_of_day: trail,
                min_price: Decimal::new(1, 3),
                ..Default::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sizes_never_exceed_the_limits_and_are_the_largest_that_fit(p in any_price(), s in any_settings()) {
        match position_size(p, &s) {
            Some(q) => {
                let n = q.get();
                prop_assert!(n <= s.max_shares);
                prop_assert!(Decimal::from(n) * p.value() <= s.max_position_value);
                prop_assert!(n == s.max_shares || Decimal::from(n + 1) * p.value() > s.max_position_value);
            }
            None => prop_assert!(p.value() > s.max_position_value),
        }
    }

    #[test]
    fn rounding_lands_on_the_step_on_the_right_side(p in any_price()) {
        let up = round_up_to_step(p.value());
        prop_assert!(is_on_step(up));
        prop_assert!(up >= p.value());
        let down = round_down_to_step(p.value());
        prop_assert!(down <= p.value());
        prop_assert!(down.is_zero() || is_on_step(down));
        if p.is_on_step() {
            prop_assert_eq!(up, p.value());
            prop_assert_eq!(down, p.value());
        }
    }

    #[test]
    fn a_buy_limit_is_on_step_and_at_least_the_last(
        last in any_price(), ask in proptest::option::of(any_price()), s in any_settings()
    ) {
        let limit = entry_limit_price(&Quote { last: Some(last), bid: None, ask }, &s).expect("a limit");
        prop_assert!(limit.is_on_step());
        prop_assert!(limit >= last);
        if let Some(a) = ask { prop_assert!(limit >= a); }
    }

    #[test]
    fn every_buy_is_on_step_within_limits_with_the_stop_below(
        low in any_price(), width in 0u32..50, jump in 1u32..50, s in any_settings(), minute in 0u32..330,
    ) {
        let low = Price::new(round_up_to_step(low.value())).expect("positive");
        let mut high = low.value();
        for _ in 0..width { high += strategy::asx::price_step(high); }
        let range = OpeningRange::new(Price::new(high).expect("positive"), low).expect("high ≥ low");
        let last = Price::new(strategy::asx::add_steps(high, s.breakout_buffer + jump)).expect("positive");
        let now = sydney(date(2026, 12, 3), 10, 0, 0) + chrono::TimeDelta::minutes(i64::from(minute));
        let quote = Quote { last: Some(last), bid: None, ask: None };
        let d = entry_decision(now, &Calendar::default(), &candidate("ABC"), &range, &quote, &BookState::default(), &s);
        if let EntryDecision::Buy { order, stop } = d {
            prop_assert!(stop.is_on_step());
            prop_assert!(stop < last);
            prop_assert!(stop <= range.low());
            prop_assert!(order.quantity().get() <= s.max_shares);
            let reference = entry_limit_price(&quote, &s).expect("limit");
            prop_assert!(Decimal::from(order.quantity().get()) * reference.value() <= s.max_position_value);
            if let Some(limit) = order.limit_price() {
                prop_assert!(limit.is_on_step());
                prop_assert!(limit >= last);
                prop_assert!(stop < limit);
            }
        } else {
            // The only skips possible here: after the cutoff, or too expensive.
            let after_cutoff = sydney_time(now) >= s.entry_cutoff;
            prop_assert!(after_cutoff || matches!(d, EntryDecision::Skip(strategy::SkipReason::TooExpensive)), "{:?}", d);
        }
    }

    #[test]
    fn stops_only_rise_and_stay_on_step(current in any_price(), low in any_price(), s in any_settings()) {
        let current = match current.round_down_to_step() { Some(c) => c, None => return Ok(()) };
        let next = raise_stop(current, low, &s);
        prop_assert!(next >= current);
        prop_assert!(next.is_on_step());
        prop_assert!(next == current || next <= low);
    }

    #[test]
    fn no_sequence_of_events_makes_a_quantity_negative(
        ordered in 1u64..500,
        events in proptest::collection::vec(any_event(), 0..40),
    ) {
        let mut state = PositionState::pending(ticker("ABC"), 1, date(2026, 11, 30), Quantity::new(ordered).expect("q"), Price::new(Decimal::new(4300, 2)).expect("p"));
        let mut bought = 0u64;
        let mut sold = 0u64;
        for event in events {
            let before = state.clone();
            match state.clone().transition(event) {
                Ok(next) => {
                    match event {
                        PositionEvent::EntryFill { quantity, .. } => bought += quantity.get(),
                        PositionEvent::ExitFill { quantity, .. } => sold += quantity.get(),
                        _ => {}
                    }
                    state = next;
                }
                Err(e) => {
                    prop_assert!(e.is_lifecycle(), "{}", e);
                    prop_assert_eq!(&state, &before);
                }
            }
            prop_assert!(bought <= ordered);
            prop_assert!(sold <= bought);
            prop_assert_eq!(state.shares_held(), if state.is_closed() { 0 } else { bought - sold });
            if let Some(p) = state.position() {
                prop_assert!(p.sold() < p.bought().get());
                prop_assert!(p.bought() <= p.ordered());
                prop_assert_eq!(p.remaining().get(), bought - sold);
            }
            if let Some(stp) = protective_stop_order(&state) {
                prop_assert_eq!(stp.quantity().get(), state.shares_held());
                prop_assert!(stp.stop_price().is_some_and(|p| p.is_on_step()));
            }
        }
    }

    #[test]
    fn trading_day_arithmetic_round_trips(offset in 0u64..3_000, n in 0u32..60) {
        let cal = Calendar::new(vec![date(2026, 3, 10)], vec![]);
        let start = date(2024, 1, 1).checked_add_days(Days::new(offset)).expect("date");
        let end = cal.add_trading_days(start, n).expect("date");
        prop_assert!(n == 0 || cal.is_trading_day(end));
        prop_assert_eq!(cal.trading_days_between(start, end), i64::from(n));
        prop_assert_eq!(cal.trading_days_between(end, start), -i64::from(n));
        let next = cal.next_trading_day(start).expect("date");
        prop_assert!(next > start && cal.is_trading_day(next));
        prop_assert_eq!(cal.trading_days_between(start, next), 1);
        let prev = cal.prev_trading_day(next).expect("date");
        prop_assert!(prev < next && cal.is_trading_day(prev));
    }

    #[test]
    fn sydney_wall_clock_round_trips(offset in 0u64..4_000, secs in 0u32..86_400) {
        let day: NaiveDate = date(2024, 1, 1).checked_add_days(Days::new(offset)).expect("date");
        let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).expect("time");
        if let Some(utc) = sydney_to_utc(day, time) {
            prop_assert_eq!(sydney_date(utc), day);
            // Only the repeated hour at the end of daylight saving may map back differently.
            prop_assert!(sydney_time(utc) == time || (2..3).contains(&(secs / 3600)));
        } else {
            // Only the skipped hour at the start of daylight saving has no instant.
            prop_assert_eq!(secs / 3600, 2);
        }
    }

    #[test]
    fn the_announcements_parser_never_panics(html in ".{0,400}") {
        let _ = strategy::asx::parse_announcements(&html);
    }

    #[test]
    fn the_announcements_parser_never_panics_on_table_soup(
        parts in proptest::collection::vec(prop_oneof![
            Just("<table>"), Just("</table>"), Just("<tr>"), Just("</tr>"), Just("<th>ASX Code</th>"),
            Just("<th>Date</th>"), Just("<th>Price sens.</th>"), Just("<th>Headline</th>"), Just("<td>"),
            Just("</td>"), Just("BHP"), Just("04/12/2026"), Just("10:02 am"), Just("<br>"),
            Just("<img class=\"pricesens\">"), Just("<a href=\"/x\">"), Just("</a>"), Just("3 pages"),
            Just("<thead>"), Just("<tbody>"), Just("&nbsp;"), Just("13:99 pm"), Just("31/02/2026"),
        ], 0..60)
    ) {
        let html: String = parts.concat();
        if let Ok(anns) = strategy::asx::parse_announcements(&html) {
            for a in anns {
                prop_assert!(!a.headline.is_empty());
            }
        }
    }

    #[test]
    fn gap_parsing_never_panics(text in ".{0,20}") {
        let _ = strategy::GapPct::parse(&text);
    }
}

fn any_event() -> impl Strategy<Value = PositionEvent> {
    let q = (1u64..300).prop_map(|n| Quantity::new(n).expect("q"));
    let p = (1i64..10_000).prop_map(|n| Price::new(Decimal::new(n, 2)).expect("p"));
    let purpose = prop_oneof![
        Just(OrderPurpose::Entry),
        Just(OrderPurpose::ProtectiveStop),
        Just(OrderPurpose::HalfExit),
        Just(OrderPurpose::TrailExit),
        Just(OrderPurpose::StopBackstop),
    ];
    prop_oneof![
        (q.clone(), p.clone())
            .prop_map(|(quantity, price)| PositionEvent::EntryFill { quantity, price }),
        Just(PositionEvent::EntryCancelled),
        Just(PositionEvent::EntryRejected),
        (q, p.clone(), purpose).prop_map(|(quantity, price, purpose)| PositionEvent::ExitFill {
            quantity,
            price,
            purpose
        }),
        Just(PositionEvent::HalfExitWaived),
        p.prop_map(|stop| PositionEvent::StopRaised { stop }),
    ]
}
