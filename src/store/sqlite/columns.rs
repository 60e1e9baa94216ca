//! Values as the embedded file keeps them: times as fixed-width text, money as decimal text;
//! and a row's columns read back as the store's types.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::domain::Money;
use crate::store::StoreError;
use crate::store::rows::Columns;

/// Times are stored as fixed-width RFC 3339 UTC text so that text order is time order.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

pub(super) fn parse_money(s: &str) -> Result<Money, StoreError> {
    Decimal::from_str(s)
        .map(Money::from_decimal)
        .map_err(|e| StoreError::Corrupt(format!("amount {s:?}: {e}")))
}

impl Columns for SqliteRow {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn money(&self, col: &str) -> Result<Money, StoreError> {
        parse_money(&self.text(col)?)
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_text(col)?.as_deref().map(parse_ts).transpose()
    }
    fn flag(&self, col: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(col)?)
    }
}
