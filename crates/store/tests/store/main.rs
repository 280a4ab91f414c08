//! The store's integration tests: one binary, every test on SQLite and on PostgreSQL
//! (`store_test!` makes a `::sqlite` and a `::postgres` variant of each).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test should fail loudly, helpers included"
)]

mod common;

mod crash;
mod differential;
mod fixtures;

mod api_keys;
mod audit;
mod constraints;
mod durability;
mod files;
mod groups;
mod jobs;
mod locks;
mod migrations;
mod orgs;
mod roles;
mod subject_facts;
mod templates;
mod time;
mod transactions;
mod triggers;
mod users;
mod workspaces;
