//! Settings: defaults, loading, validation.

use rust_decimal_macros::dec;
use strategy::{EntryOrderType, StrategySettings};

#[test]
fn defaults_are_the_documented_ones() {
    let s = StrategySettings::default();
    assert_eq!(s.gap_threshold_pct, dec!(3.0));
    assert_eq!(s.min_price, dec!(0.20));
    assert_eq!(s.min_volume, 50_000);
    assert_eq!(s.opening_range_minutes, 5);
    assert_eq!(s.breakout_buffer, 0);
    assert_eq!(s.entry_cutoff.to_string(), "15:30:00");
    assert_eq!(s.max_positions, 5);
    assert_eq!(s.max_position_value, dec!(5000));
    assert_eq!(s.max_shares, 1000);
    assert_eq!(s.max_daily_loss, dec!(500));
    assert_eq!(s.order_type, EntryOrderType::Limit);
    assert_eq!(s.limit_slippage_pct, dec!(1.0));
    assert!(s.broker_stop);
    assert!(!s.trail_stop_to_low_of_day);
    assert_eq!(s.half_exit_after_days, 3);
    assert_eq!(s.trail_sma_days, 10);
    assert_eq!(s.validate(), Ok(()));
}

/// The `[strategy]` section of `config/default.toml`, as JSON (keys, numbers, strings, bools).
fn default_toml_strategy_section() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.toml");
    let text = std::fs::read_to_string(path).expect("config/default.toml");
    let mut map = serde_json::Map::new();
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line == "[strategy]";
            continue;
        }
        if !in_section || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        let value: serde_json::Value =
            serde_json::from_str(value.trim()).expect("a JSON-compatible TOML value");
        map.insert(key.trim().to_owned(), value);
    }
    serde_json::Value::Object(map)
}

#[test]
fn config_default_toml_loads_into_the_same_defaults() {
    let section = default_toml_strategy_section();
    assert!(
        section.as_object().is_some_and(|m| m.len() >= 16),
        "{section}"
    );
    let loaded: StrategySettings = serde_json::from_value(section).expect("loads");
    assert_eq!(loaded, StrategySettings::default());
}

#[test]
fn strings_numbers_and_times_load() {
    let loaded: StrategySettings = serde_json::from_value(serde_json::json!({
        "gap_threshold_pct": "4.5",
        "min_price": 0.1,
        "max_position_value": 2500,
        "entry_cutoff": "14:45",
        "order_type": "market",
    }))
    .expect("loads");
    assert_eq!(loaded.gap_threshold_pct, dec!(4.5));
    assert_eq!(loaded.min_price, dec!(0.1));
    assert_eq!(loaded.max_position_value, dec!(2500));
    assert_eq!(loaded.entry_cutoff.to_string(), "14:45:00");
    assert_eq!(loaded.order_type, EntryOrderType::Market);
    assert_eq!(
        loaded.max_shares, 1000,
        "unspecified keys keep their defaults"
    );
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    for bad in [
        serde_json::json!({"gap_treshold_pct": 3.0}),
        serde_json::json!({"entry_cutoff": "half past three"}),
        serde_json::json!({"order_type": "stop"}),
        serde_json::json!({"min_price": "twenty cents"}),
    ] {
        assert!(
            serde_json::from_value::<StrategySettings>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn validate_names_the_bad_setting() {
    let cases: Vec<(&str, StrategySettings)> = vec![
        (
            "gap_threshold_pct",
            StrategySettings {
                gap_threshold_pct: dec!(0),
                ..Default::default()
            },
        ),
        (
            "min_price",
            StrategySettings {
                min_price: dec!(-1),
                ..Default::default()
            },
        ),
        (
            "opening_range_minutes",
            StrategySettings {
                opening_range_minutes: 0,
                ..Default::default()
            },
        ),
        (
            "max_positions",
            StrategySettings {
                max_positions: 0,
                ..Default::default()
            },
        ),
        (
            "max_position_value",
            StrategySettings {
                max_position_value: dec!(0),
                ..Default::default()
            },
        ),
        (
            "max_shares",
            StrategySettings {
                max_shares: 0,
                ..Default::default()
            },
        ),
        (
            "max_daily_loss",
            StrategySettings {
                max_daily_loss: dec!(0),
                ..Default::default()
            },
        ),
        (
            "limit_slippage_pct",
            StrategySettings {
                limit_slippage_pct: dec!(-0.5),
                ..Default::default()
            },
        ),
        (
            "half_exit_after_days",
            StrategySettings {
                half_exit_after_days: 0,
                ..Default::default()
            },
        ),
        (
            "trail_sma_days",
            StrategySettings {
                trail_sma_days: 0,
                ..Default::default()
            },
        ),
    ];
    for (name, settings) in cases {
        let err = settings.validate().expect_err(name);
        assert!(
            err.to_string().contains(&format!("strategy.{name}")),
            "{err}"
        );
    }
}
