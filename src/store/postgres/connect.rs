//! Connecting: the pools' waits, and the first connection's failure in an operator's words.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use super::PgStore;
use crate::store::StoreError;
use crate::store::migrations::POSTGRES;

/// How long a request waits for a pooled connection before it answers 503 (CONTRACT §6: with
/// the database unreachable, about two seconds at most). Background work retries on its own.
pub(super) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the first connection at start-up may take before the start fails.
pub(super) const CONNECT_PROBE: Duration = Duration::from_secs(10);

/// Why PostgreSQL refused the first connection, in an operator's words (SQLSTATE classes 28
/// and 3D are named; the rest keep the server's own message).
pub(super) fn connect_cause(e: &sqlx::Error, options: &PgConnectOptions) -> String {
    let (host, port) = (options.get_host(), options.get_port());
    let user = options.get_username();
    let database = options.get_database().unwrap_or(user);
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "connection refused at {host}:{port} (is PostgreSQL running there, on that port?)"
        ),
        sqlx::Error::Io(io) => format!("cannot reach {host}:{port}: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS with {host}:{port} failed: {tls}"),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => format!(
                "authentication failed for user {user:?} (check the password in DATABASE_URL \
                 or database.password)"
            ),
            Some(c) if c.starts_with("28") => format!(
                "user {user:?} may not connect: {} (check the user in DATABASE_URL or \
                 database.user)",
                db.message()
            ),
            Some("3D000") => format!(
                "the database {database:?} does not exist on {host}:{port} (create it: \
                 createdb -h {host} -p {port} -U {user} {database})"
            ),
            _ => db.message().to_string(),
        },
        other => other.to_string(),
    }
}

impl PgStore {
    /// Connects with a small pool (the counter row serialises creations anyway; more
    /// connections only queue on it) and applies pending migrations.
    pub async fn connect(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        // One connection first, on its own: a pool only says "timed out", and an operator
        // needs the cause (refused, authentication, no such database).
        match tokio::time::timeout(CONNECT_PROBE, options.connect()).await {
            Ok(Ok(probe)) => {
                let _ = probe.close().await;
            }
            Ok(Err(e)) => return Err(StoreError::Connect(connect_cause(&e, &options))),
            Err(_) => {
                return Err(StoreError::Connect(format!(
                    "no answer from {}:{} within {} s",
                    options.get_host(),
                    options.get_port(),
                    CONNECT_PROBE.as_secs()
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        POSTGRES.run(&pool).await?;
        let outbox_pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.clone().options([("synchronous_commit", "off")]));
        Ok(PgStore {
            pool,
            outbox_pool,
            options,
        })
    }

    /// Through the pool; when the pool is only busy (every connection in use), a connection of
    /// its own tells whether the database itself answers.
    pub(super) async fn probe(&self) -> Result<(), StoreError> {
        match sqlx::query("SELECT 1").execute(&self.pool).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::PoolTimedOut) => {
                let probe = async {
                    let mut conn = self.options.connect().await?;
                    sqlx::query("SELECT 1").execute(&mut conn).await?;
                    conn.close().await
                };
                match tokio::time::timeout(ACQUIRE_TIMEOUT * 2, probe).await {
                    Ok(result) => Ok(result?),
                    Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}
