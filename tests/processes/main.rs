//! The real binary as an operator runs it: serve, the console in tmux, every way out and back,
//! and what an operator scrapes and reads.
//! One test binary per concern; every file shares `tests/common`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job

#[path = "../common/mod.rs"]
mod common;

mod console;
mod lifecycle;
mod observability;
mod serve;
