//! The console (CONTRACT §7). State and messages in [`app`], one part per concern: [`orders`]
//! (the queue in [`queue`]), [`workers`], [`feed`], [`overlay`] (with the forms in [`form`]) and
//! [`health`] (the links and the status line). Keys in [`keys`], drawing in [`view`], the event
//! loop and its effects in [`run`], fed by the background readers in [`sources`].

pub mod app;
mod effects;
pub mod feed;
pub mod form;
pub mod health;
mod input;
mod keymap;
mod keys;
pub mod orders;
pub mod overlay;
pub mod queue;
pub mod run;
mod sources;
pub mod view;
pub mod workers;

#[cfg(test)]
#[path = "view_tests.rs"]
mod view_tests;
