//! Exact money: two-decimal amounts kept as `rust_decimal::Decimal`, never binary floating point
//! (CONTRACT §1 "Money is exact decimal everywhere").

use std::fmt;
use std::ops::{Add, Mul};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money with exactly two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a price text is not an acceptable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a number")]
    NotANumber,
    #[error("must have at most two decimals")]
    TooManyDecimals,
    #[error("is too large")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Builds an amount from cents, e.g. `Money::from_cents(1250)` is 12.50.
    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, 2))
    }

    /// Parses the text of a JSON number (`12.5`, `1.500`, `1e2`) exactly. A value with more than
    /// two significant decimals (`1.005`) is refused, trailing zeros are not significant.
    pub fn parse_exact(text: &str) -> Result<Money, MoneyError> {
        let text = text.trim();
        // Counted on the text itself: the decimal type would round a value with more digits
        // than it holds (0.009999999999999999999999999999 → 0.01) instead of refusing it.
        if fraction_digits(text).ok_or(MoneyError::NotANumber)? > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        let value = if text.contains(['e', 'E']) {
            Decimal::from_scientific(text)
        } else if text.contains('.') {
            // Trailing zeros carry no value, and would overflow the type's scale.
            Decimal::from_str_exact(text.trim_end_matches('0').trim_end_matches('.'))
        } else {
            Decimal::from_str_exact(text)
        }
        .map_err(|_| MoneyError::TooLarge)?;
        Ok(Money::from_decimal(value))
    }

    /// Wraps a decimal read from storage, rounded to cents.
    pub fn from_decimal(value: Decimal) -> Money {
        let mut v = value.round_dp(2);
        v.rescale(2);
        Money(v)
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }
}

/// How many decimals a number's text really has (`1.500` → 1, `125e-2` → 2, `1.5e3` → 0);
/// `None` when it is not a number in JSON's grammar.
fn fraction_digits(text: &str) -> Option<u64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e).parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !digits(int)
        || !digits(frac)
        || (mantissa.contains('.') && frac.is_empty())
    {
        return None;
    }
    let significant = frac.trim_end_matches('0').len() as i64;
    Some(u64::try_from(significant.saturating_sub(exponent)).unwrap_or(0))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse_exact(s)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Mul<u32> for Money {
    type Output = Money;
    fn mul(self, rhs: u32) -> Money {
        Money(self.0 * Decimal::from(rhs))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// Serialised as a JSON *number* with two decimals (`12.50`), written from the decimal text so no
/// float ever stands in between (CONTRACT §6: `total_amount` is a JSON number).
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Read from the number's own text (or a decimal string), so no float rounds it on the way in.
/// Works with `serde_json::from_str`/`from_slice`, which is how messages are read.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => inner,
            None => text,
        };
        Money::parse_exact(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zeros_are_not_decimals() {
        assert_eq!(Money::parse_exact("1.500"), Ok(Money::from_cents(150)));
        assert_eq!(
            Money::parse_exact("1.005"),
            Err(MoneyError::TooManyDecimals)
        );
    }

    #[test]
    fn exponent_notation_is_exact() {
        assert_eq!(Money::parse_exact("1e2"), Ok(Money::from_cents(10_000)));
        assert_eq!(Money::parse_exact("1.25E1"), Ok(Money::from_cents(1250)));
        assert_eq!(Money::parse_exact("1e-3"), Err(MoneyError::TooManyDecimals));
    }

    #[test]
    fn garbage_is_not_a_number() {
        assert_eq!(Money::parse_exact("abc"), Err(MoneyError::NotANumber));
        assert_eq!(
            Money::parse_exact("0.009999999999999999999999999999"),
            Err(MoneyError::TooManyDecimals),
            "refused, not rounded to 0.01"
        );
        assert_eq!(Money::parse_exact("125e-2"), Ok(Money::from_cents(125)));
        assert_eq!(Money::parse_exact("1.5E+1"), Ok(Money::from_cents(1500)));
        assert_eq!(
            Money::parse_exact("12.50000000000000000000000000000000"),
            Ok(Money::from_cents(1250))
        );
        assert_eq!(Money::parse_exact("1e40"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse_exact("1."), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse_exact(""), Err(MoneyError::NotANumber));
    }

    #[test]
    fn three_dimes_and_a_fifth_make_half() {
        let total: Money = [10, 10, 10, 20].into_iter().map(Money::from_cents).sum();
        assert_eq!(total.to_string(), "0.50");
    }

    #[test]
    fn serialises_as_json_number_with_two_decimals() {
        let json = serde_json::to_string(&Money::from_cents(1250)).unwrap();
        assert_eq!(json, "12.50");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v.is_number());
    }
}
