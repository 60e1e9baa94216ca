//! Configuration: built-in defaults, then the YAML file (`--config PATH`, else `config.yaml` in the
//! user's config directory), then `DATABASE_URL`/`AMQP_URL`, then `RESTAURANT_<SECTION>__<KEY>`
//! variables. Reading it has no side effects. A bad value is an error naming the file and key.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};
use serde::{Deserialize, Serialize};

use crate::domain::OrderType;

mod console;
mod report;
mod targets;

pub use console::{ConsoleConfig, MenuEntry, MinSec, Target, TicketTargets};
pub use targets::{BrokerTarget, redact_url};

const SECTIONS: [&str; 5] = ["server", "database", "rabbitmq", "kitchen", "console"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub rabbitmq: RabbitConfig,
    pub kitchen: KitchenConfig,
    pub console: ConsoleConfig,
    /// Kitchen workers that `serve` and the console start in their own process.
    pub workers: Vec<WorkerConfig>,
}

/// One entry of the `workers:` list (CONTRACT §8).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    pub name: String,
    /// The types it cooks (`[dine_in, takeout]`); empty or absent: all of them.
    #[serde(default)]
    pub order_types: Vec<String>,
    /// Orders cooked at once.
    #[serde(default = "one")]
    pub prefetch: u16,
}

fn one() -> u16 {
    1
}

impl WorkerConfig {
    pub fn specialty(&self) -> Result<crate::domain::Specialty, String> {
        self.order_types
            .join(",")
            .parse()
            .map_err(|e| format!("{e}; use dine_in, takeout, delivery"))
    }
}

/// A price as the YAML file writes it: YAML numbers arrive as floats, so they are turned back
/// into their shortest decimal text and then parsed exactly (a value that needs more than two
/// decimals is refused, not rounded).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum PriceText {
    Text(String),
    Number(serde_json::Number),
}

impl PriceText {
    pub fn money(&self) -> Result<crate::domain::Money, crate::domain::MoneyError> {
        match self {
            PriceText::Text(t) => t.parse(),
            PriceText::Number(n) => n.to_string().parse(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// Order creations in flight at once; beyond it the API answers 503 at once.
    pub max_concurrent: usize,
    pub body_limit_bytes: usize,
    /// Requests per second per client; 0 turns the limit off (benchmarks).
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// Bearer token for the mutating routes; required when bound beyond loopback.
    pub token: Option<String>,
    /// For a request's headers, and how long an idle keep-alive connection waits for its next
    /// request (a connection that never sends a byte too).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// For a request's body, read before the request takes an order-creation place; past it,
    /// 408.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Open connections at once (lowered to fit the process's open-file limit).
    pub max_connections: usize,
    /// The largest request head (request line and headers).
    pub max_header_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 3000,
            max_concurrent: 50,
            body_limit_bytes: 64 * 1024,
            rate_limit_per_second: 100,
            rate_limit_burst: 200,
            token: None,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            max_header_bytes: 64 * 1024,
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("max_concurrent", &self.max_concurrent)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_header_bytes", &self.max_header_bytes)
            .finish()
    }
}

/// Either a `url` (`postgres://…`, `sqlite://PATH`) or the old wheres-my-pizza block
/// (host, port, user, password, database). With neither, the embedded SQLite file.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: Option<String>,
    pub max_connections: Option<u32>,
    /// A PEM file of certificate authorities to trust beyond webpki's (with `sslmode` in the URL).
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("max_connections", &self.max_connections)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// The broker (used by the kitchen); the old block shape or a `url`, plus a name prefix.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RabbitConfig {
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub vhost: Option<String>,
    pub prefix: Option<String>,
    /// A PEM file of certificate authorities to trust beyond webpki's (for `amqps://`).
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("vhost", &self.vhost)
            .field("prefix", &self.prefix)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KitchenConfig {
    pub cook_time: CookTimes,
    /// How long a stopping worker may finish the order in hand before handing it back.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

impl Default for KitchenConfig {
    fn default() -> Self {
        KitchenConfig {
            cook_time: CookTimes::default(),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Simulated cooking per order type (CONTRACT §1); `0s` is allowed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct CookTimes {
    #[serde(with = "humantime_serde")]
    pub dine_in: Duration,
    #[serde(with = "humantime_serde")]
    pub takeout: Duration,
    #[serde(with = "humantime_serde")]
    pub delivery: Duration,
}

impl Default for CookTimes {
    fn default() -> Self {
        CookTimes {
            dine_in: Duration::from_secs(8),
            takeout: Duration::from_secs(10),
            delivery: Duration::from_secs(12),
        }
    }
}

impl CookTimes {
    pub fn for_type(&self, t: OrderType) -> Duration {
        match t {
            OrderType::DineIn => self.dine_in,
            OrderType::Takeout => self.takeout,
            OrderType::Delivery => self.delivery,
        }
    }
}

/// A configuration that cannot be used, with where it came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration error ({origin}): {message}")]
pub struct ConfigError {
    pub origin: String,
    pub message: String,
}

impl ConfigError {
    fn new(origin: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: origin.to_string(),
            message: message.into(),
        }
    }
}

/// The file read, if any, for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
}

/// What `server.host` binds to: an IP address, or every address a host name resolves to
/// (`localhost`: its loopback addresses).
fn bind_addresses(host: &str) -> Result<Vec<IpAddr>, String> {
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

impl Config {
    /// Reads the layers described at the top of this module from the process environment.
    pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
        Config::load_from(explicit, default_file().as_deref())
    }

    /// [`Config::load`] with the default file's place given, for tests.
    pub fn load_from(
        explicit: Option<&Path>,
        default: Option<&Path>,
    ) -> Result<Loaded, ConfigError> {
        let file = match explicit {
            Some(p) if !p.is_file() => {
                return Err(ConfigError::new(
                    &p.display().to_string(),
                    "the file does not exist or is not readable",
                ));
            }
            Some(p) => Some(p.to_path_buf()),
            None => default.filter(|p| p.is_file()).map(Path::to_path_buf),
        };
        let text = match &file {
            Some(f) => Some(std::fs::read_to_string(f).map_err(|e| {
                ConfigError::new(&f.display().to_string(), format!("cannot be read: {e}"))
            })?),
            None => None,
        };
        if let (Some(f), Some(t)) = (&file, &text)
            && let Some((place, why)) = report::syntax_error(t)
        {
            return Err(ConfigError::new(&report::origin(f, Some(place)), why));
        }
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = &file {
            figment = figment.merge(Yaml::file_exact(f));
        }
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(url) = get("DATABASE_URL") {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        if let Some(url) = get("AMQP_URL") {
            figment = figment.merge(Serialized::default("rabbitmq.url", url));
        }
        let env = Env::prefixed("RESTAURANT_").split("__").filter(|k| {
            let k = k.as_str().to_ascii_lowercase();
            SECTIONS.iter().any(|s| k.starts_with(&format!("{s}.")))
        });
        figment = figment.merge(env);
        let origin = file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "environment".into());
        let located = |key: &str| match (&file, &text) {
            (Some(f), Some(t)) => report::origin(f, report::locate(t, key)),
            _ => origin.clone(),
        };
        let config: Config = figment.extract().map_err(|e| {
            let key = report::key_of(&e.path);
            let said = report::message(&e.kind);
            let message = if key.is_empty() {
                said
            } else {
                format!("{key}: {said}")
            };
            let from_file = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .is_some_and(|s| s.file_path().is_some());
            let place = match key.as_str() {
                _ if from_file => located(&key),
                "database.url" => "environment variable DATABASE_URL".into(),
                "rabbitmq.url" => "environment variable AMQP_URL".into(),
                _ if key.is_empty() => origin.clone(),
                _ => format!("environment variable {}", report::variable_of(&key)),
            };
            ConfigError::new(&place, message)
        })?;
        // A rule broken by a value in the file names the value's line.
        config.check(&origin).map_err(|mut e| {
            let key = e.message.split([':', ' ']).next().unwrap_or_default();
            if file.is_some() && !key.is_empty() {
                e.origin = located(key);
            }
            e
        })?;
        Ok(Loaded { config, file })
    }

    /// Checks values that each parse alone but make no sense (or no safety) together.
    pub fn check(&self, origin: &str) -> Result<(), ConfigError> {
        let s = &self.server;
        let host = bind_addresses(&s.host)
            .map_err(|why| ConfigError::new(origin, format!("server.host: {:?} {why}", s.host)))?;
        let beyond_loopback = host.iter().find(|ip| !ip.is_loopback());
        if let Some(host) = beyond_loopback
            && s.token.as_deref().is_none_or(str::is_empty)
        {
            return Err(ConfigError::new(
                origin,
                format!(
                    "server.token: binding to {host} (beyond loopback) needs a bearer token \
                     (set RESTAURANT_SERVER__TOKEN)"
                ),
            ));
        }
        // Every number is bounded here, before anything is opened: a value past what the
        // program can hold (a queue of 2^64 places, a cook of 10^9 hours) is an error naming its
        // key, never a panic later.
        let within = |key: &str, value: u128, min: u128, max: u128| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::new(
                    origin,
                    format!("{key}: must be between {min} and {max} (got {value})"),
                ))
            }
        };
        within("server.max_concurrent", s.max_concurrent as u128, 1, 10_000)?;
        within(
            "server.body_limit_bytes",
            s.body_limit_bytes as u128,
            256,
            16 << 20,
        )?;
        within(
            "server.rate_limit_per_second",
            s.rate_limit_per_second.into(),
            0,
            1_000_000,
        )?;
        if s.rate_limit_per_second > 0 {
            within(
                "server.rate_limit_burst",
                s.rate_limit_burst.into(),
                1,
                1_000_000,
            )?;
        }
        within(
            "server.max_connections",
            s.max_connections as u128,
            1,
            1_000_000,
        )?;
        within(
            "server.max_header_bytes",
            s.max_header_bytes as u128,
            8 << 10,
            1 << 20,
        )?;
        let minute = 60 * 1000;
        within(
            "server.header_read_timeout (in milliseconds)",
            s.header_read_timeout.as_millis(),
            100,
            10 * minute,
        )?;
        within(
            "server.body_read_timeout (in milliseconds)",
            s.body_read_timeout.as_millis(),
            100,
            10 * minute,
        )?;
        if let Some(n) = self.database.max_connections {
            within("database.max_connections", n.into(), 1, 1_000)?;
        }
        let k = &self.kitchen;
        let day = 24 * 3600 * 1000;
        for (key, d) in [
            ("kitchen.cook_time.dine_in", k.cook_time.dine_in),
            ("kitchen.cook_time.takeout", k.cook_time.takeout),
            ("kitchen.cook_time.delivery", k.cook_time.delivery),
        ] {
            within(&format!("{key} (in milliseconds)"), d.as_millis(), 0, day)?;
        }
        within(
            "kitchen.shutdown_timeout (in milliseconds)",
            k.shutdown_timeout.as_millis(),
            0,
            3600 * 1000,
        )?;
        let c = &self.console;
        if c.late_after.is_some() || c.very_late_after.is_some() {
            return Err(ConfigError::new(
                origin,
                "console.late_after and console.very_late_after are no longer read: a ticket's \
                 colours come from console.targets (late and very_late per order type, as m:ss)",
            ));
        }
        c.targets.check().map_err(|e| ConfigError::new(origin, e))?;
        if c.station.chars().count() > 64 || c.station.chars().any(char::is_control) {
            return Err(ConfigError::new(
                origin,
                "console.station: at most 64 characters, no control characters",
            ));
        }
        for (i, m) in c.menu.iter().enumerate() {
            let price = m
                .price
                .money()
                .map_err(|e| ConfigError::new(origin, format!("console.menu[{i}].price: {e}")))?;
            if m.name.trim().is_empty()
                || m.name.chars().count() > crate::domain::MAX_ITEM_NAME_CHARS
            {
                return Err(ConfigError::new(
                    origin,
                    format!("console.menu[{i}].name: must be 1 to 50 characters"),
                ));
            }
            if !crate::domain::price_in_range(price) {
                return Err(ConfigError::new(
                    origin,
                    format!(
                        "console.menu[{i}].price: {}",
                        crate::domain::price_range_rule()
                    ),
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, w) in self.workers.iter().enumerate() {
            let key = format!("workers[{i}]");
            crate::domain::check_worker_name(&w.name)
                .map_err(|why| ConfigError::new(origin, format!("{key}.name: {why}")))?;
            if !names.insert(w.name.as_str()) {
                return Err(ConfigError::new(
                    origin,
                    format!("{key}.name: {:?} is listed twice", w.name),
                ));
            }
            w.specialty()
                .map_err(|why| ConfigError::new(origin, format!("{key}.order_types: {why}")))?;
            within(&format!("{key}.prefetch"), w.prefetch.into(), 1, 1000)?;
        }
        self.database_target(origin)?;
        self.broker_target(origin).map(|_| ())
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "restaurant-tui")
}

/// The per-user data directory (embedded database, console logs).
pub fn data_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().to_path_buf())
}

fn default_file() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.yaml"))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
