//! The store and the order service, on SQLite and PostgreSQL.
//! One test binary per concern; every file shares `tests/common`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job

#[path = "../common/mod.rs"]
mod common;

mod service;
mod store_contract;
