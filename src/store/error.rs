//! The store's one error type, and the one place its errors are classified as worth retrying.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Worth retrying: the database could not be reached or asked us to try again.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The first connection at start-up failed; the cause in plain words.
    #[error("{0}")]
    Connect(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The embedded database belongs to one process at a time (CONTRACT §2).
    #[error(
        "it is in use by another restaurant-tui process{} (only one process may use the \
         embedded database; stop that one first, or point this one elsewhere with --config)",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked { path: PathBuf, pid: Option<u32> },
    #[error("cannot prepare {}: {source}", path.display())]
    Files {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_transient(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Database(e)
        }
    }
}

/// The one place store errors are classified (CONTRACT §5): transient errors are those after
/// which the same transaction can be tried again without writing twice — the connection was
/// lost, refused or never had (I/O, TLS, a byte stream cut mid-message: a protocol error, a
/// pool that timed out or closed), or the server rolled the transaction back (serialization
/// failure, deadlock, an administrator's shutdown, too many connections, SQLite busy/locked).
/// Everything else — a constraint, a type, a bad value — is permanent.
fn is_transient(e: &sqlx::Error) -> bool {
    /// SQLSTATE class 08: the connection failed or was lost.
    const PG_CONNECTION_EXCEPTION: &str = "08";
    /// serialization_failure, deadlock_detected, admin_shutdown, crash_shutdown,
    /// cannot_connect_now, too_many_connections.
    const PG_TRY_AGAIN: [&str; 6] = ["40001", "40P01", "57P01", "57P02", "57P03", "53300"];
    /// SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT (result codes).
    const SQLITE_TRY_AGAIN: [&str; 4] = ["5", "6", "261", "517"];
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let code = code.as_ref();
            code.starts_with(PG_CONNECTION_EXCEPTION)
                || PG_TRY_AGAIN.contains(&code)
                || SQLITE_TRY_AGAIN.contains(&code)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_or_garbled_connection_is_transient_and_bad_data_is_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_transient(&io));
        assert!(is_transient(&sqlx::Error::Protocol(
            "unexpected response from SSLRequest".into()
        )));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
