//! Migrations embedded in the binary by `sqlx::migrate!` (it reads `migrations/` at build time
//! and needs no database), so `restaurant-tui` migrates wherever it runs. One folder per dialect;
//! the files of both are numbered alike.

use sqlx::migrate::Migrator;

pub static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

pub static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
