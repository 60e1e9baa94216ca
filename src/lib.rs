//! restaurant-tui: a restaurant kitchen's order system in one crate.
//!
//! Where to look:
//! - [`domain`] — pure order rules: validation, money, statuses, order numbers, message bodies.
pub mod domain;
pub mod store;
