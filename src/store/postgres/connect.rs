//! Connecting: the pools' waits, and the first connection's failure in an operator's words.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

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
