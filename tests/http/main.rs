//! The HTTP API on both stores, its connections, and TLS.
//! One test binary per concern; every file shares `tests/common`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job

#[path = "../common/mod.rs"]
mod common;

mod api;
mod connections;
mod tls;
