//! Migrations embedded in the binary, so `restaurant-tui` migrates wherever it runs without the
//! `migrations/` folder beside it and without compile-time macros.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

#[derive(Debug, Clone, Copy)]
pub struct Embedded(&'static [(i64, &'static str, &'static str)]);

pub const POSTGRES: Embedded = Embedded(&[
    (
        1,
        "orders",
        include_str!("../../migrations/postgres/0001_orders.sql"),
    ),
    (
        2,
        "outbox leases",
        include_str!("../../migrations/postgres/0002_outbox_leases.sql"),
    ),
    (
        3,
        "estimated completion",
        include_str!("../../migrations/postgres/0003_estimated_completion.sql"),
    ),
    (
        4,
        "placement keys",
        include_str!("../../migrations/postgres/0004_placement_keys.sql"),
    ),
    (
        5,
        "ticket notes",
        include_str!("../../migrations/postgres/0005_ticket_notes.sql"),
    ),
    (
        6,
        "outbox pruning",
        include_str!("../../migrations/postgres/0006_outbox_pruning.sql"),
    ),
]);

pub const SQLITE: Embedded = Embedded(&[
    (
        1,
        "orders",
        include_str!("../../migrations/sqlite/0001_orders.sql"),
    ),
    (
        2,
        "outbox leases",
        include_str!("../../migrations/sqlite/0002_outbox_leases.sql"),
    ),
    (
        3,
        "estimated completion",
        include_str!("../../migrations/sqlite/0003_estimated_completion.sql"),
    ),
    (
        4,
        "placement keys",
        include_str!("../../migrations/sqlite/0004_placement_keys.sql"),
    ),
    (
        5,
        "ticket notes",
        include_str!("../../migrations/sqlite/0005_ticket_notes.sql"),
    ),
    (
        6,
        "outbox pruning",
        include_str!("../../migrations/sqlite/0006_outbox_pruning.sql"),
    ),
]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

pub async fn migrator(source: Embedded) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(source).await
}
