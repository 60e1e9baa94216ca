//! Where the configuration points: the database and the broker it names, derived once at start
//! (the file and environment layers are read in `config.rs`). TLS settings ride along.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use super::{Config, ConfigError, DatabaseConfig, Secret, data_dir};
use crate::store::DatabaseTarget;

impl Config {
    /// Where the orders live: PostgreSQL if a URL or host names it, else the embedded SQLite file.
    pub fn database_target(&self, origin: &str) -> Result<DatabaseTarget, ConfigError> {
        let db = &self.database;
        let (options, display) = if let Some(url) = db.url.as_deref().filter(|u| !u.is_empty()) {
            if let Some(path) = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                return Ok(DatabaseTarget::Sqlite {
                    path: PathBuf::from(path),
                });
            }
            postgres_url(url, origin)?
        } else if let Some(host) = db.host.as_deref().filter(|h| !h.is_empty()) {
            postgres_block(db, host)
        } else {
            let path = data_dir()
                .ok_or_else(|| {
                    ConfigError::new(
                        origin,
                        "database: no home directory for the embedded database; set database.url",
                    )
                })?
                .join("restaurant.db");
            return Ok(DatabaseTarget::Sqlite { path });
        };
        Ok(DatabaseTarget::Postgres {
            options: Box::new(with_ca_file(options, db, origin)?),
            display,
            max_connections: db.max_connections.unwrap_or(8),
        })
    }
}

/// A `postgres://` URL's options, and `host:port/database` to show.
fn postgres_url(url: &str, origin: &str) -> Result<(PgConnectOptions, String), ConfigError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::new(
            origin,
            format!(
                "database.url: {} is neither postgres:// nor sqlite://",
                redact_url(url)
            ),
        ));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| ConfigError::new(origin, format!("database.url: {}: {e}", redact_url(url))))?;
    let options = loopback_in_the_clear(options, url.contains("sslmode="));
    let display = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    Ok((options, display))
}

/// The old wheres-my-pizza block (host, port, user, password, database) as options.
fn postgres_block(db: &DatabaseConfig, host: &str) -> (PgConnectOptions, String) {
    let port = db.port.unwrap_or(5432);
    let database = db.database.clone().unwrap_or_else(|| "restaurant".into());
    let mut options = PgConnectOptions::new()
        .host(host)
        .port(port)
        .username(db.user.as_deref().unwrap_or("postgres"))
        .database(&database);
    if let Some(p) = &db.password {
        options = options.password(p.expose());
    }
    let options = loopback_in_the_clear(options, false);
    (options, format!("{host}:{port}/{database}"))
}

/// Where RabbitMQ is, when configured.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerTarget {
    /// With credentials; never logged.
    pub uri: String,
    /// `host:port/vhost`, for messages.
    pub display: String,
    pub prefix: String,
    /// Certificate authorities (PEM) to trust for `amqps://`, beyond webpki's.
    pub ca_pem: Option<String>,
}

impl fmt::Debug for BrokerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerTarget")
            .field("display", &self.display)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Config {
    /// RabbitMQ if a URL or host names it; `None` means the in-process bus.
    pub fn broker_target(&self, origin: &str) -> Result<Option<BrokerTarget>, ConfigError> {
        let r = &self.rabbitmq;
        // A prefix is a namespace: `eastside` names `eastside.orders_topic`, never
        // `eastsideorders_topic`. One that already ends in a separator is kept as it is.
        let mut prefix = r.prefix.clone().unwrap_or_default();
        if !prefix.is_empty() && !prefix.ends_with(['.', '_', '-', ':']) {
            prefix.push('.');
        }
        let uri = if let Some(url) = r.url.as_deref().filter(|u| !u.is_empty()) {
            if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
                return Err(ConfigError::new(
                    origin,
                    format!("rabbitmq.url: {} is not an amqp:// URL", redact_url(url)),
                ));
            }
            url.to_string()
        } else if let Some(host) = r.host.as_deref().filter(|h| !h.is_empty()) {
            format!(
                "amqp://{}:{}@{}:{}/{}",
                encode(r.user.as_deref().unwrap_or("guest")),
                encode(r.password.as_ref().map_or("guest", Secret::expose)),
                host,
                r.port.unwrap_or(5672),
                encode(r.vhost.as_deref().unwrap_or("/")),
            )
        } else {
            return Ok(None);
        };
        // AMQP heartbeats let a half-open link be noticed within seconds.
        let uri = if uri.contains("heartbeat=") {
            uri
        } else if uri.contains('?') {
            format!("{uri}&heartbeat=10")
        } else {
            format!("{uri}?heartbeat=10")
        };
        let display = redact_url(&uri)
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let ca_pem = r
            .ca_file
            .as_deref()
            .map(|path| {
                std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new(
                        origin,
                        format!("rabbitmq.ca_file: cannot read {}: {e}", path.display()),
                    )
                })
            })
            .transpose()?;
        Ok(Some(BrokerTarget {
            uri,
            display,
            prefix,
            ca_pem,
        }))
    }
}

/// Without an `sslmode` of its own, a database on this machine is reached without TLS (there
/// is no wire to protect, and it costs every query); elsewhere PostgreSQL's default, `prefer`,
/// stands. An explicit `sslmode` is always honoured.
fn loopback_in_the_clear(options: PgConnectOptions, explicit: bool) -> PgConnectOptions {
    let host = options.get_host();
    let local = host == "localhost"
        || host.starts_with('/')
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if local && !explicit {
        options.ssl_mode(sqlx::postgres::PgSslMode::Disable)
    } else {
        options
    }
}

/// Trusts the configured CA file too (the URL's `sslmode` decides whether TLS is required and
/// how the server is verified; `verify-ca`/`verify-full` check against webpki's roots and it).
fn with_ca_file(
    options: PgConnectOptions,
    db: &DatabaseConfig,
    origin: &str,
) -> Result<PgConnectOptions, ConfigError> {
    let Some(path) = db.ca_file.as_deref() else {
        return Ok(options);
    };
    std::fs::metadata(path).map_err(|e| {
        ConfigError::new(
            origin,
            format!("database.ca_file: cannot read {}: {e}", path.display()),
        )
    })?;
    Ok(options.ssl_root_cert(path))
}

/// Percent-encodes a URL component (user, password, vhost).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        // Not a URL the parser reads: everything up to the last `@` of its authority may be a
        // secret, so none of it is shown.
        Err(_) => match raw.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => raw.to_string(),
            },
            None => "(not a URL)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn a_password_never_shows_in_a_redacted_url() {
        assert_eq!(
            redact_url("postgres://user:secret@host:5432/db"),
            "postgres://user:***@host:5432/db"
        );
        // An unescaped @ in the password: the parser finds the host by the last one.
        let said = redact_url("amqp://guest:p@ss@mq.local:5672/%2f");
        assert!(!said.contains("ss@") && !said.contains("p@"), "{said}");
        assert_eq!(
            redact_url("amqp://mq.local:5672/%2f"),
            "amqp://mq.local:5672/%2f"
        );
        assert!(!redact_url("post gres://u:hidden@h").contains("hidden"));
    }
}
