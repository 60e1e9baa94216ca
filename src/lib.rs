//! restaurant-tui: a restaurant kitchen's order system in one crate.
//!
//! Where to look:
//! - [`domain`] — pure order rules: validation, money, statuses, order numbers, message bodies.
//! - [`store`] — the storage trait and its PostgreSQL and SQLite adapters, with migrations.
//! - [`service`] — the operations the API and the console share (place, look up, transition).
//! - [`broker`] — messaging: the trait, the in-process bus, RabbitMQ.
//! - [`relay`] — publishes committed outbox rows and marks them sent.
//! - [`api`] — the HTTP API: router, handlers, one error type mapped to HTTP.
//! - [`config`] — YAML file + environment overrides, checked before anything starts.
//! - [`telemetry`] — the JSON log line of the contract, to stdout or a file.
//! - [`cli`] and [`startup`] — the command line and how a run is assembled and stopped.
//!
//! `docs/ARCHITECTURE.md` follows one order through these modules.

pub mod api;
pub mod broker;
pub mod cli;
pub mod config;
pub mod domain;
pub mod kitchen;
pub mod notifications;
pub mod relay;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tui;
