//! Configuration: built-in defaults, then the YAML file (`--config PATH`, else `config.yaml` in the
//! user's config directory), then `DATABASE_URL`/`AMQP_URL`, then `RESTAURANT_<SECTION>__<KEY>`
//! variables. Reading it has no side effects. A bad value is an error naming the file and key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};
use serde::{Deserialize, Serialize};

use crate::domain::OrderType;

mod check;
mod console;
mod env;
mod report;
mod secret;
mod targets;

pub use console::{ConsoleConfig, MenuEntry, MinSec, Target, TicketTargets};
pub use secret::Secret;
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    pub token: Option<Secret>,
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

/// Either a `url` (`postgres://…`, `sqlite://PATH`) or the old wheres-my-pizza block
/// (host, port, user, password, database). With neither, the embedded SQLite file.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<Secret>,
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
            .field("password", &self.password)
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
    pub password: Option<Secret>,
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
            .field("password", &self.password)
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
    /// Overrides from `dine_in=8s,takeout=250ms` (the `--cook-time` flag), in plain words when
    /// it cannot.
    pub fn set_from(&mut self, text: &str) -> Result<(), String> {
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (kind, value) = part.split_once('=').ok_or_else(|| {
                format!("{:?} is not TYPE=DURATION, as in dine_in=8s", part.trim())
            })?;
            let (kind, value) = (kind.trim(), value.trim());
            // humantime's own words ("expected number at 0") say nothing to a cook.
            let d = humantime::parse_duration(value)
                .map_err(|_| format!("{kind}={value:?} needs a duration like 8s or 250ms"))?;
            match kind.parse::<OrderType>() {
                Ok(OrderType::DineIn) => self.dine_in = d,
                Ok(OrderType::Takeout) => self.takeout = d,
                Ok(OrderType::Delivery) => self.delivery = d,
                Err(_) => {
                    return Err(format!(
                        "unknown order type {kind:?}; use dine_in, takeout or delivery"
                    ));
                }
            }
        }
        Ok(())
    }

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
        let source = report::Source::read(explicit, default)?;
        let config: Config = layers(source.file.as_deref())
            .extract_lossy()
            .map_err(|e| source.explain(&e))?;
        // A rule broken by a value in the file names the value's line.
        config
            .check(&source.origin)
            .map_err(|e| source.place_of(e))?;
        Ok(Loaded {
            config,
            file: source.file,
        })
    }
}

/// Defaults, then the file, then `DATABASE_URL`/`AMQP_URL`, then `RESTAURANT_*` variables.
fn layers(file: Option<&Path>) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(f) = file {
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
    figment.merge(env::TextEnv(env))
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
