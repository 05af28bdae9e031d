//! Lenient readers for IBKR's loosely typed JSON: numbers sent as numbers or strings, with
//! thousands separators (`"1,300"`), magnitude suffixes (`"1.2M"`, `"7.5K"`), a `%` sign, or a
//! placeholder for "no value" (`""`, `"-"`, `"N/A"`). Used with `#[serde(deserialize_with)]`.
//!
//! A JSON number arrives as `f64` (serde_json without `arbitrary_precision`); it is converted
//! through its shortest round-trip text, so `1.005` becomes exactly `Decimal 1.005`.

use std::str::FromStr as _;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

/// Parses a decimal from IBKR text; `Ok(None)` for the no-value placeholders.
pub fn parse_decimal_text(text: &str) -> Result<Option<Decimal>, String> {
    let t = text.trim();
    if t.is_empty()
        || matches!(
            t,
            "-" | "--" | "N/A" | "n/a" | "NA" | "NaN" | "nan" | "null"
        )
    {
        return Ok(None);
    }
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let (digits, multiplier) = match t.as_bytes().last() {
        Some(b'K' | b'k') => (&t[..t.len() - 1], Decimal::from(1_000)),
        Some(b'M' | b'm') => (&t[..t.len() - 1], Decimal::from(1_000_000)),
        Some(b'B' | b'b') => (&t[..t.len() - 1], Decimal::from(1_000_000_000)),
        _ => (t, Decimal::ONE),
    };
    let digits: String = digits.chars().filter(|&c| c != ',').collect();
    let value = Decimal::from_str_exact(&digits)
        .or_else(|_| Decimal::from_scientific(&digits))
        .map_err(|_| format!("{text:?} is not a number"))?;
    value
        .checked_mul(multiplier)
        .map(|v| Some(v.normalize()))
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// A JSON number as an exact decimal (through its shortest round-trip text).
pub fn number_to_decimal(n: &Number) -> Result<Decimal, String> {
    if let Some(i) = n.as_i64() {
        return Ok(Decimal::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(Decimal::from(u));
    }
    let text = n.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(|d| d.normalize())
        .map_err(|_| format!("{text} does not fit a decimal"))
}

/// Any JSON value as an optional decimal.
pub fn value_to_decimal(v: &Value) -> Result<Option<Decimal>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => number_to_decimal(n).map(Some),
        Value::String(s) => parse_decimal_text(s),
        other => Err(format!("expected a number, got {}", kind(other))),
    }
}

/// Any JSON value as an integer (a number, or a string holding one).
pub fn value_to_i64(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| format!("{n} is not an integer")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .replace(',', "")
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{s:?} is not an integer")),
        other => Err(format!("expected an integer, got {}", kind(other))),
    }
}

/// Any scalar as text (IBKR sends ids as numbers in one place and strings in another).
pub fn value_to_string(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!("expected text, got {}", kind(other))),
    }
}

/// A boolean as `true`, `"true"`, `1` or `"1"`.
pub fn value_to_bool(v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) => Ok(Some(n.as_f64().is_some_and(|f| f != 0.0))),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" | "" => Ok(Some(false)),
            _ => Err(format!("{s:?} is not a boolean")),
        },
        other => Err(format!("expected a boolean, got {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn decimal_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let v = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    value_to_decimal(&v).map_err(serde::de::Error::custom)
}

pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    decimal_opt(d)?.ok_or_else(|| serde::de::Error::custom("a required number is missing"))
}

pub fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    value_to_i64(&v).map_err(serde::de::Error::custom)
}

pub fn i64_req<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    i64_opt(d)?.ok_or_else(|| serde::de::Error::custom("a required integer is missing"))
}

pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    value_to_string(&v).map_err(serde::de::Error::custom)
}

pub fn string_req<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string_opt(d)?.ok_or_else(|| serde::de::Error::custom("a required text field is missing"))
}

pub fn bool_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Option::<Value>::deserialize(d)?.unwrap_or(Value::Null);
    value_to_bool(&v)
        .map(|b| b.unwrap_or(false))
        .map_err(serde::de::Error::custom)
}

/// `null` or a missing list reads as an empty list.
pub fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decimal_text_quirks() {
        let table: &[(&str, Option<&str>)] = &[
            ("1.23", Some("1.23")),
            (" 1,300 ", Some("1300")),
            ("1.2M", Some("1200000")),
            ("7.5K", Some("7500")),
            ("2B", Some("2000000000")),
            ("12.31%", Some("12.31")),
            ("+0.5", Some("0.5")),
            ("-0.5", Some("-0.5")),
            ("1e-3", Some("0.001")),
            ("", None),
            ("-", None),
            ("N/A", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_decimal_text(text).unwrap(), want.map(d), "{text:?}");
        }
        for bad in ["abc", "1.2.3", "K", "1,2x"] {
            assert!(parse_decimal_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_numbers_are_exact() {
        let v: Value = serde_json::from_str("1.005").unwrap();
        assert_eq!(value_to_decimal(&v).unwrap(), Some(d("1.005")));
        let v: Value = serde_json::from_str("0.1").unwrap();
        assert_eq!(value_to_decimal(&v).unwrap(), Some(d("0.1")));
        let v: Value = serde_json::from_str("123456789").unwrap();
        assert_eq!(value_to_decimal(&v).unwrap(), Some(d("123456789")));
        assert!(value_to_decimal(&serde_json::json!([1])).is_err());
    }

    #[test]
    fn integers_and_bools() {
        assert_eq!(
            value_to_i64(&serde_json::json!("265598")).unwrap(),
            Some(265598)
        );
        assert_eq!(
            value_to_i64(&serde_json::json!(265598)).unwrap(),
            Some(265598)
        );
        assert_eq!(value_to_i64(&serde_json::json!(3.0)).unwrap(), Some(3));
        assert!(value_to_i64(&serde_json::json!(3.5)).is_err());
        assert!(value_to_i64(&serde_json::json!("x")).is_err());
        assert_eq!(
            value_to_bool(&serde_json::json!("true")).unwrap(),
            Some(true)
        );
        assert_eq!(value_to_bool(&serde_json::json!(0)).unwrap(), Some(false));
        assert!(value_to_bool(&serde_json::json!("maybe")).is_err());
    }
}
