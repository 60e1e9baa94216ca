//! Opening the embedded file: this process's alone, private to the user, migrated, and cleared
//! of what a process that is gone left behind.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::SqliteStore;
use crate::store::StoreError;
use crate::store::lock::DataLock;
use crate::store::migrations::SQLITE;

impl SqliteStore {
    /// Opens (creating if needed, with its folder) the database file, takes it for this
    /// process alone, and migrates it.
    ///
    /// Holding the file alone means that no other process can be running a worker on it: any
    /// worker the file still shows as online or processing died with its process, and is marked
    /// offline here, so its name can be registered again at once.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        fn files(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
            move |source| StoreError::Files {
                path: path.to_path_buf(),
                source,
            }
        }
        let mut tightened = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tightened.extend(crate::files::private_dir(dir).map_err(files(dir))?);
        }
        let lock = DataLock::acquire(path)?;
        tightened.extend(crate::files::private_file(path).map_err(files(path))?);
        for p in tightened {
            tracing::warn!(action = "permissions_tightened", path = %p.display(), "others could read the embedded data; now only this user can");
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // The file is never "away"; a wait here is lock contention, bounded by busy_timeout.
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        SQLITE.run(&pool).await?;
        let stale = sqlx::query("UPDATE workers SET status = 'offline' WHERE status <> 'offline'")
            .execute(&pool)
            .await?
            .rows_affected();
        // Likewise every relay that leased outbox rows is gone: its rows are free at once.
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE sent_at IS NULL",
        )
        .execute(&pool)
        .await?;
        if stale > 0 {
            tracing::info!(
                action = "stale_workers_offline",
                count = stale,
                "workers left online by a process that is gone are marked offline"
            );
        }
        Ok(SqliteStore {
            pool,
            _lock: Arc::new(lock),
        })
    }
}
