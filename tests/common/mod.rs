//! Helpers shared by the integration test binaries. Tests that need PostgreSQL fail with a clear
//! message when it is not reachable; they never skip.
#![allow(dead_code)]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use restaurant_tui::store::{DatabaseTarget, Store, open};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// The server tests create their databases on; override with `TEST_DATABASE_URL`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty PostgreSQL database for one test, dropped (with its connections) afterwards.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let admin = admin_url();
        let name = format!("rt_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnectOptions::from_str(&admin)
            .expect("TEST_DATABASE_URL is a valid PostgreSQL URL")
            .connect()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "this test needs PostgreSQL at {admin} (set TEST_DATABASE_URL to point elsewhere, \
                     or start it: pg_ctlcluster 15 main start): {e}"
                )
            });
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = match admin.rfind('/') {
            Some(i) => format!("{}/{name}", &admin[..i]),
            None => panic!("TEST_DATABASE_URL has no database path: {admin}"),
        };
        TestDatabase { name, url }
    }

    pub fn target(&self) -> DatabaseTarget {
        DatabaseTarget::Postgres {
            options: PgConnectOptions::from_str(&self.url).expect("valid url"),
            display: self.name.clone(),
            max_connections: 8,
        }
    }

    pub async fn connect(&self) -> sqlx::PgConnection {
        PgConnectOptions::from_str(&self.url)
            .expect("valid url")
            .connect()
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime we can borrow; a short-lived one does the async work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnectOptions::from_str(&admin_url())
                    .ok()?
                    .connect()
                    .await
                    .ok()?;
                sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A store plus whatever keeps its database alive for the test.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    _pg: Option<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::ops::Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        self.store.as_ref()
    }
}

pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("restaurant.db");
    let store = open(&DatabaseTarget::Sqlite { path: path.clone() })
        .await
        .expect("open sqlite store");
    TestStore {
        store,
        backend: Backend::Sqlite(path),
        _pg: None,
        _dir: Some(dir),
    }
}

pub async fn pg_store() -> TestStore {
    let db = TestDatabase::create().await;
    let store = open(&db.target()).await.expect("open postgres store");
    TestStore {
        store,
        backend: Backend::Postgres(db.url.clone()),
        _pg: Some(db),
        _dir: None,
    }
}
