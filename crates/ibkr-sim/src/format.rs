//! IBKR's string formats: prices, sizes with thousands separators, volumes with K/M suffixes,
//! and JSON numbers from exact decimals.

use rust_decimal::Decimal;
use serde_json::Value;

/// A price as IBKR prints it: at least two decimals, trailing zeros beyond that dropped
/// (`2.3` → `"2.30"`, `0.085` → `"0.085"`).
pub fn price(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

/// An integer size with thousands separators: `1300` → `"1,300"`.
pub fn size(d: Decimal) -> String {
    let whole = d.trunc().abs().to_string();
    let mut out = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if d.is_sign_negative() && !d.trunc().is_zero() {
        out.insert(0, '-');
    }
    out
}

/// Volume with a K/M suffix like field `87`: `950` → `"950"`, `12345` → `"12.3K"`,
/// `1234567` → `"1.23M"`.
pub fn volume_short(d: Decimal) -> String {
    let thousand = Decimal::from(1_000);
    let million = Decimal::from(1_000_000);
    if d >= million {
        format!("{}M", (d / million).round_dp(2).normalize())
    } else if d >= thousand {
        format!("{}K", (d / thousand).round_dp(1).normalize())
    } else {
        d.trunc().to_string()
    }
}

/// An exact decimal as a JSON number (IBKR sends floats for these fields).
pub fn json_num(d: Decimal) -> Value {
    d.normalize()
        .to_string()
        .parse::<serde_json::Number>()
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn formats_match_ibkr() {
        assert_eq!(price(d("2.3")), "2.30");
        assert_eq!(price(d("0.0850")), "0.085");
        assert_eq!(price(d("12")), "12.00");
        assert_eq!(size(d("1300")), "1,300");
        assert_eq!(size(d("1234567")), "1,234,567");
        assert_eq!(size(d("999")), "999");
        assert_eq!(volume_short(d("950")), "950");
        assert_eq!(volume_short(d("12345")), "12.3K");
        assert_eq!(volume_short(d("1234567")), "1.23M");
        assert_eq!(json_num(d("1.50")).to_string(), "1.5");
    }
}
