//! The rules a configuration must meet beyond its shape, checked before anything opens: every
//! number bounded (a value past what the program can hold is an error naming its key, never a
//! panic later), a bind beyond loopback only with a token, the console's menu and targets, the
//! `workers:` list, and the database and broker targets.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{
    Config, ConfigError, ConsoleConfig, KitchenConfig, Secret, ServerConfig, WorkerConfig,
};

/// What `server.host` binds to: an IP address, or every address a host name resolves to
/// (`localhost`: its loopback addresses).
pub(super) fn bind_addresses(host: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    use std::net::ToSocketAddrs;
    let resolved: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| {
            format!("is neither an IP address nor a host name this machine can resolve ({e})")
        })?
        .map(|a| a.ip())
        .collect();
    if resolved.is_empty() {
        return Err("resolves to no address".into());
    }
    Ok(resolved)
}

/// The errors of one check, all naming the same origin.
struct Rules<'a> {
    origin: &'a str,
}

const MINUTE_MS: u128 = 60 * 1000;
const DAY_MS: u128 = 24 * 60 * MINUTE_MS;

impl Rules<'_> {
    fn fail(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.origin, message)
    }

    fn within(&self, key: &str, value: u128, min: u128, max: u128) -> Result<(), ConfigError> {
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(self.fail(format!(
                "{key}: must be between {min} and {max} (got {value})"
            )))
        }
    }

    fn server(&self, s: &ServerConfig) -> Result<(), ConfigError> {
        let host = bind_addresses(&s.host)
            .map_err(|why| self.fail(format!("server.host: {:?} {why}", s.host)))?;
        if let Some(ip) = host.iter().find(|ip| !ip.is_loopback())
            && s.token.as_ref().is_none_or(Secret::is_empty)
        {
            return Err(self.fail(format!(
                "server.token: binding to {ip} (beyond loopback) needs a bearer token \
                 (set RESTAURANT_SERVER__TOKEN)"
            )));
        }
        self.within("server.max_concurrent", s.max_concurrent as u128, 1, 10_000)?;
        self.within(
            "server.body_limit_bytes",
            s.body_limit_bytes as u128,
            256,
            16 << 20,
        )?;
        let rate = s.rate_limit_per_second;
        self.within("server.rate_limit_per_second", rate.into(), 0, 1_000_000)?;
        if rate > 0 {
            self.within(
                "server.rate_limit_burst",
                s.rate_limit_burst.into(),
                1,
                1_000_000,
            )?;
        }
        self.within(
            "server.max_connections",
            s.max_connections as u128,
            1,
            1_000_000,
        )?;
        self.within(
            "server.max_header_bytes",
            s.max_header_bytes as u128,
            8 << 10,
            1 << 20,
        )?;
        for (key, d) in [
            ("server.header_read_timeout", s.header_read_timeout),
            ("server.body_read_timeout", s.body_read_timeout),
        ] {
            let key = format!("{key} (in milliseconds)");
            self.within(&key, d.as_millis(), 100, 10 * MINUTE_MS)?;
        }
        Ok(())
    }

    fn kitchen(&self, k: &KitchenConfig) -> Result<(), ConfigError> {
        for (key, d) in [
            ("kitchen.cook_time.dine_in", k.cook_time.dine_in),
            ("kitchen.cook_time.takeout", k.cook_time.takeout),
            ("kitchen.cook_time.delivery", k.cook_time.delivery),
        ] {
            self.within(
                &format!("{key} (in milliseconds)"),
                d.as_millis(),
                0,
                DAY_MS,
            )?;
        }
        let stop = k.shutdown_timeout.as_millis();
        self.within(
            "kitchen.shutdown_timeout (in milliseconds)",
            stop,
            0,
            60 * MINUTE_MS,
        )
    }

    fn console(&self, c: &ConsoleConfig) -> Result<(), ConfigError> {
        if c.late_after.is_some() || c.very_late_after.is_some() {
            return Err(self.fail(
                "console.late_after and console.very_late_after are no longer read: a ticket's \
                 colours come from console.targets (late and very_late per order type, as m:ss)",
            ));
        }
        c.targets.check().map_err(|e| self.fail(e))?;
        if c.station.chars().count() > 64 || c.station.chars().any(char::is_control) {
            return Err(self.fail("console.station: at most 64 characters, no control characters"));
        }
        for (i, m) in c.menu.iter().enumerate() {
            let key = format!("console.menu[{i}]");
            let price = m
                .price
                .money()
                .map_err(|e| self.fail(format!("{key}.price: {e}")))?;
            let max = crate::domain::MAX_ITEM_NAME_CHARS;
            if m.name.trim().is_empty() || m.name.chars().count() > max {
                return Err(self.fail(format!("{key}.name: must be 1 to {max} characters")));
            }
            if !crate::domain::price_in_range(price) {
                let rule = crate::domain::price_range_rule();
                return Err(self.fail(format!("{key}.price: {rule}")));
            }
        }
        Ok(())
    }

    fn workers(&self, workers: &[WorkerConfig]) -> Result<(), ConfigError> {
        let mut names = HashSet::new();
        for (i, w) in workers.iter().enumerate() {
            let key = format!("workers[{i}]");
            crate::domain::check_worker_name(&w.name)
                .map_err(|why| self.fail(format!("{key}.name: {why}")))?;
            if !names.insert(w.name.as_str()) {
                let name = &w.name;
                return Err(self.fail(format!("{key}.name: {name:?} is listed twice")));
            }
            w.specialty()
                .map_err(|why| self.fail(format!("{key}.order_types: {why}")))?;
            self.within(&format!("{key}.prefetch"), w.prefetch.into(), 1, 1000)?;
        }
        Ok(())
    }
}

impl Config {
    /// Checks values that each parse alone but make no sense (or no safety) together.
    pub fn check(&self, origin: &str) -> Result<(), ConfigError> {
        let rules = Rules { origin };
        rules.server(&self.server)?;
        if let Some(n) = self.database.max_connections {
            rules.within("database.max_connections", n.into(), 1, 1_000)?;
        }
        rules.kitchen(&self.kitchen)?;
        rules.console(&self.console)?;
        rules.workers(&self.workers)?;
        self.database_target(origin)?;
        self.broker_target(origin).map(|_| ())
    }
}
