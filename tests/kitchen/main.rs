//! The kitchen: the broker contract, the worker step by step, workers as processes, the one
//! assembly, and outages made by fault proxies.
//! One test binary per concern; every file shares `tests/common`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job

#[path = "../common/mod.rs"]
mod common;

mod assembly;
mod broker_contract;
mod kitchen;
mod kitchen_processes;
mod outages;
