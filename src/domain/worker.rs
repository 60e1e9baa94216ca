//! Kitchen workers (CONTRACT §1 "Workers").

use std::fmt;
use std::str::FromStr;

use super::order::{OrderType, UnknownValue};

/// The longest worker name (CONTRACT §1).
pub const MAX_WORKER_NAME_CHARS: usize = 64;

/// A worker name is 1–64 characters of ASCII letters, digits, `_`, `-` and `.` (CONTRACT §1):
/// it reaches terminals, logs and queue tags, so nothing that could steer a terminal or hide
/// (a control character, a right-to-left override) gets in. `Err` says what is wrong.
pub fn check_worker_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a worker needs a name".into());
    }
    let count = name.chars().count();
    if count > MAX_WORKER_NAME_CHARS {
        return Err(format!(
            "a worker name has at most {MAX_WORKER_NAME_CHARS} characters ({count} given)"
        ));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        Some(c) => Err(format!(
            "a worker name may hold only letters, digits, _, - and . (found {})",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatus {
    Online,
    /// Cooking an order.
    Processing,
    /// Stopped cleanly, or silent for twice its heartbeat interval.
    Offline,
}

impl std::str::FromStr for WorkerStatus {
    type Err = super::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            WorkerStatus::Online,
            WorkerStatus::Processing,
            WorkerStatus::Offline,
        ]
        .into_iter()
        .find(|w| w.as_str() == s)
        .ok_or_else(|| super::UnknownValue(s.to_string()))
    }
}

impl WorkerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerStatus::Online => "online",
            WorkerStatus::Processing => "processing",
            WorkerStatus::Offline => "offline",
        }
    }
}

impl fmt::Display for WorkerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The order types a worker cooks; empty means every type ("general").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Specialty(Vec<OrderType>);

impl Specialty {
    pub fn general() -> Specialty {
        Specialty(Vec::new())
    }

    pub fn only(types: impl IntoIterator<Item = OrderType>) -> Specialty {
        let mut v: Vec<OrderType> = Vec::new();
        for t in types {
            if !v.contains(&t) {
                v.push(t);
            }
        }
        v.sort_by_key(|t| t.as_str());
        Specialty(v)
    }

    pub fn cooks(&self, t: OrderType) -> bool {
        self.0.is_empty() || self.0.contains(&t)
    }

    /// The types it cooks, all three for a general worker.
    pub fn types(&self) -> Vec<OrderType> {
        if self.0.is_empty() {
            OrderType::ALL.to_vec()
        } else {
            self.0.clone()
        }
    }
}

/// `general`, or the types joined by commas (the `workers.type` column).
impl fmt::Display for Specialty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("general");
        }
        let names: Vec<&str> = self.0.iter().map(|t| t.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

/// Parses `dine_in,takeout`; empty, `general` or `all` is every type.
impl FromStr for Specialty {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s == "general" || s == "all" {
            return Ok(Specialty::general());
        }
        let types = s
            .split(',')
            .map(|p| p.trim().parse::<OrderType>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Specialty::only(types))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_names_are_short_plain_and_visible() {
        for good in ["chef_1", "chef-mario.2", "A", &"x".repeat(64)] {
            assert_eq!(check_worker_name(good), Ok(()), "{good}");
        }
        assert!(check_worker_name("").is_err());
        assert!(
            check_worker_name(&"x".repeat(65))
                .unwrap_err()
                .contains("65")
        );
        let rlo = check_worker_name("chef\u{202e}1").unwrap_err();
        assert!(rlo.contains("\\u{202e}"), "{rlo}");
        assert!(check_worker_name("chef 1").is_err());
        assert!(check_worker_name("chef\x1b[2J").is_err());
    }

    #[test]
    fn specialties_round_trip_and_decide_what_a_worker_cooks() {
        let s: Specialty = "takeout, dine_in,dine_in".parse().unwrap();
        assert_eq!(s.to_string(), "dine_in,takeout");
        assert!(s.cooks(OrderType::DineIn) && !s.cooks(OrderType::Delivery));
        let g: Specialty = "".parse().unwrap();
        assert_eq!(g.to_string(), "general");
        assert!(OrderType::ALL.iter().all(|t| g.cooks(*t)));
        assert!("pizza".parse::<Specialty>().is_err());
    }
}
