//! The engine's one integration-test binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test should fail loudly"
)]

mod accounts;
mod assignment;
mod custom_roles;
mod decisions;
mod filter;
mod restrictions;
mod rules;
