//! The console (CONTRACT §7): state and messages in [`app`], drawing in [`view`], the event
//! loop and its effects in [`run`].

pub mod app;
mod feeds;
pub mod form;
pub mod health;
mod input;
mod keys;
pub mod queue;
pub mod run;
pub mod view;

#[cfg(test)]
#[path = "view_tests.rs"]
mod view_tests;
