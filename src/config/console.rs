//! The console's settings: its station name, the new-order bell, the menu, and the target
//! times that colour a ticket (CONTRACT §7), written in minutes and seconds as a kitchen says
//! them (`"12:00"`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::PriceText;
use crate::domain::OrderType;

/// The console's menu, its ticket colours and who it is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The name its own actions carry as `changed_by`; empty means the host name.
    pub station: String,
    /// Ring the terminal's bell when a new order arrives.
    pub bell: bool,
    pub targets: TicketTargets,
    /// The new-order form's menu; empty means the built-in one.
    pub menu: Vec<MenuEntry>,
    /// Replaced by `targets`; a file that still sets them gets an error that says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_after: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub very_late_after: Option<f32>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            station: String::new(),
            bell: true,
            targets: TicketTargets::default(),
            menu: Vec::new(),
            late_after: None,
            very_late_after: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MenuEntry {
    pub name: String,
    /// Written as `12.50` or `"12.50"`; checked to be exact cents when the file is read.
    pub price: PriceText,
}

/// When a ticket turns late (amber) and very late (red): per order type from its arrival, and
/// for a ready order from the moment it reached the pass (`window`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TicketTargets {
    pub dine_in: Target,
    pub takeout: Target,
    pub delivery: Target,
    pub window: Target,
}

impl Default for TicketTargets {
    /// What a busy line works to: a table's mains in about 12 minutes, takeout sooner,
    /// delivery later; a plate should not sit at the pass for more than 2 minutes.
    fn default() -> Self {
        let t = |late: u64, very_late: u64| Target {
            late: MinSec(Duration::from_secs(late)),
            very_late: MinSec(Duration::from_secs(very_late)),
        };
        TicketTargets {
            dine_in: t(12 * 60, 18 * 60),
            takeout: t(8 * 60, 12 * 60),
            delivery: t(15 * 60, 25 * 60),
            window: t(2 * 60, 5 * 60),
        }
    }
}

impl TicketTargets {
    pub fn for_type(&self, t: OrderType) -> Target {
        match t {
            OrderType::DineIn => self.dine_in,
            OrderType::Takeout => self.takeout,
            OrderType::Delivery => self.delivery,
        }
    }

    /// The first target that is not late < very late, by its key.
    pub fn check(&self) -> Result<(), String> {
        for (key, t) in [
            ("dine_in", self.dine_in),
            ("takeout", self.takeout),
            ("delivery", self.delivery),
            ("window", self.window),
        ] {
            if t.late.0.is_zero() || t.very_late.0 <= t.late.0 {
                return Err(format!(
                    "console.targets.{key}: late must be above 0:00 and very_late after it \
                     (got {} and {})",
                    t.late, t.very_late
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub late: MinSec,
    pub very_late: MinSec,
}

/// A duration written `m:ss` (`"12:00"`, `"0:45"`, up to `"999:59"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MinSec(pub Duration);

impl fmt::Display for MinSec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        write!(f, "{}:{:02}", s / 60, s % 60)
    }
}

impl std::str::FromStr for MinSec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wrong = || format!("{text:?} is not minutes and seconds like \"12:00\"");
        let (m, s) = text.trim().split_once(':').ok_or_else(wrong)?;
        let ok = |p: &str, max: usize| {
            !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
        };
        if !ok(m, 3) || s.len() != 2 || !ok(s, 2) {
            return Err(wrong());
        }
        let (m, s): (u64, u64) = (
            m.parse().map_err(|_| wrong())?,
            s.parse().map_err(|_| wrong())?,
        );
        if s > 59 {
            return Err(wrong());
        }
        Ok(MinSec(Duration::from_secs(m * 60 + s)))
    }
}

impl Serialize for MinSec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MinSec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_seconds_read_as_a_kitchen_writes_them() {
        assert_eq!("12:00".parse(), Ok(MinSec(Duration::from_secs(720))));
        assert_eq!("0:45".parse(), Ok(MinSec(Duration::from_secs(45))));
        for bad in ["12", "1:5", "1:60", "-1:00", "a:00", "1:00:00", ""] {
            assert!(bad.parse::<MinSec>().is_err(), "{bad}");
        }
        assert_eq!(MinSec(Duration::from_secs(725)).to_string(), "12:05");
    }

    #[test]
    fn the_defaults_are_in_order() {
        assert_eq!(TicketTargets::default().check(), Ok(()));
    }
}
