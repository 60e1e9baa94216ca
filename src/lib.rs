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
//! - [`files`] — folders and files of personal data, private to the user.
//! - [`kitchen`] — the worker: registration, heartbeats, one `process_one` step.
//! - [`metrics`] — the Prometheus series: names, the recorder, gauges read when scraped.
//! - [`dead_letters`] — `dead-letters list | replay | purge`: an operator's hands on poison messages.
//! - [`notifications`] — status updates as lines, and the `notify` printer.
//! - [`assembly`] — builds the kitchen for a mode and stops it, in order, on one token.
//! - [`supervisor`] — background tasks that are restarted or stop the process, never lost.
//! - [`tui`] — the console: state and messages, the event loop, one file per pane.
//! - [`signals`] — SIGINT, SIGTERM and SIGHUP as one stream: graceful first, at once second.
//! - [`cli`] and [`startup`] — the command line, and which assembly each mode runs.
//!
//! `docs/ARCHITECTURE.md` follows one order through these modules.

pub mod api;
pub mod assembly;
pub mod broker;
pub mod cli;
pub mod config;
pub mod dead_letters;
pub mod domain;
pub mod files;
pub mod kitchen;
pub mod metrics;
pub mod notifications;
pub mod relay;
pub mod service;
pub mod signals;
pub mod startup;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod tui;
