//! The CLI's one integration-test binary: a real server on port 0 in this process, the built
//! `atrium` binary run against it with a temp config dir, and every command checked by what
//! it printed and by the server's state afterwards (over HTTP).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test should fail loudly"
)]

mod common;

mod errors;
mod explain;
mod groups;
mod login;
mod oidc;
mod org_settings;
mod orgs;
mod prompts;
mod replica_kill;
mod templates;
mod tokens;
mod users;
mod workspaces;
