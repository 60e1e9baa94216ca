//! What the console tells its operator about itself: the database's and the broker's health in
//! words (with the reason and since when), and the status line's notices, which expire, with a
//! log of the last hundred.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

/// How long a notice stays on the status line (an error a little longer).
const INFO_FOR: i64 = 5;
const ERROR_FOR: i64 = 10;
/// The message log keeps this many.
pub const LOG_LIMIT: usize = 100;

/// One connection the kitchen needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Not known yet (the first attempt is under way).
    Connecting,
    Up,
    Down {
        reason: String,
        since: DateTime<Utc>,
    },
}

impl Link {
    pub fn is_down(&self) -> bool {
        matches!(self, Link::Down { .. })
    }

    /// Records a new reading; says "back" only when it was down (never at start).
    fn set(
        &mut self,
        reading: Result<(), String>,
        now: DateTime<Utc>,
        what: &str,
    ) -> Option<String> {
        let was_down = self.is_down();
        match reading {
            Ok(()) => {
                *self = Link::Up;
                was_down.then(|| format!("{what} is back"))
            }
            Err(reason) => {
                let since = match self {
                    Link::Down { since, .. } => *since,
                    _ => now,
                };
                *self = Link::Down { reason, since };
                None
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// Background news (a worker started, a link is back): it never hides a fresh error.
    News,
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub at: DateTime<Utc>,
    pub level: Level,
    pub text: String,
}

/// The two links, the status line, and the message log.
#[derive(Debug, Clone)]
pub struct Health {
    pub database: Link,
    pub broker: Link,
    /// Newest last.
    pub log: VecDeque<Notice>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            database: Link::Connecting,
            broker: Link::Connecting,
            log: VecDeque::new(),
        }
    }
}

impl Health {
    pub fn database(&mut self, reading: Result<(), String>, now: DateTime<Utc>) {
        if let Some(back) = self.database.set(reading, now, "the database") {
            self.say(now, Level::News, back + "; the queue is live again");
        }
    }

    pub fn broker(&mut self, reading: Result<(), String>, now: DateTime<Utc>) {
        if let Some(back) = self.broker.set(reading, now, "the broker") {
            self.say(now, Level::News, back + "; waiting orders go out now");
        }
    }

    pub fn say(&mut self, at: DateTime<Utc>, level: Level, text: impl Into<String>) {
        self.log.push_back(Notice {
            at,
            level,
            text: text.into(),
        });
        while self.log.len() > LOG_LIMIT {
            self.log.pop_front();
        }
    }

    /// The notice the status line shows at `now`: the newest still fresh, except that news
    /// never hides a fresh error the operator has not seen to.
    pub fn current(&self, now: DateTime<Utc>) -> Option<&Notice> {
        let fresh = |n: &&Notice| {
            let ttl = match n.level {
                Level::News | Level::Info => INFO_FOR,
                Level::Error => ERROR_FOR,
            };
            now.signed_duration_since(n.at).num_seconds() < ttl
        };
        let newest = self.log.iter().rev().find(fresh)?;
        if newest.level == Level::News
            && let Some(error) = self
                .log
                .iter()
                .rev()
                .take_while(|n| n.level != Level::Info)
                .filter(fresh)
                .find(|n| n.level == Level::Error)
        {
            return Some(error);
        }
        Some(newest)
    }

    /// Esc: the status line is cleared (the log keeps it).
    pub fn dismiss(&mut self) {
        if let Some(last) = self.log.back_mut() {
            last.at = DateTime::<Utc>::MIN_UTC;
        }
    }
}

/// Why a connection failed, in the words an operator needs (refused, authentication failed,
/// timed out), from an error's text.
pub fn reason(error: &str) -> String {
    let e = error.to_lowercase();
    let kind =
        if e.contains("access_refused") || e.contains("authentication") || e.contains("password") {
            "authentication failed"
        } else if e.contains("vhost") {
            "unknown vhost"
        } else if e.contains("refused") {
            "connection refused"
        } else if e.contains("timed out") || e.contains("timeout") {
            "timed out"
        } else if e.contains("tls") || e.contains("certificate") {
            "TLS failed"
        } else if [
            "reset",
            "closed",
            "broken pipe",
            "eof",
            "end of file",
            "unexpected end",
        ]
        .iter()
        .any(|w| e.contains(w))
        {
            "connection lost"
        } else {
            "unreachable"
        };
    kind.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_named_from_the_errors_text() {
        assert_eq!(
            reason("error communicating with database: Connection refused (os error 111)"),
            "connection refused"
        );
        assert_eq!(
            reason("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN"),
            "authentication failed"
        );
        assert_eq!(
            reason("pool timed out while waiting for an open connection"),
            "timed out"
        );
    }

    #[test]
    fn back_is_said_after_an_outage_only() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let mut h = Health::default();
        h.database(Ok(()), now);
        assert!(h.log.is_empty(), "nothing at start");
        h.database(Err("connection refused".into()), now);
        h.database(Err("timed out".into()), now + chrono::Duration::seconds(5));
        assert_eq!(
            h.database,
            Link::Down {
                reason: "timed out".into(),
                since: now
            }
        );
        h.database(Ok(()), now + chrono::Duration::seconds(9));
        assert_eq!(h.log.len(), 1);
        assert!(h.current(now + chrono::Duration::seconds(10)).is_some());
        assert!(h.current(now + chrono::Duration::seconds(20)).is_none());
    }
}
