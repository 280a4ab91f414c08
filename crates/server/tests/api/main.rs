//! The server's one integration-test binary: a real server on port 0, a fresh database per
//! test, HTTP like any client, each test on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test should fail loudly"
)]

mod common;

mod accounts;
mod audit;
mod auth;
mod authcheck;
mod cached_reads;
mod clients;
mod dashboard;
mod dashboard_account;
mod dashboard_client;
mod dashboard_groups;
mod dashboard_idp_sync;
mod dashboard_orgs;
mod dashboard_templates;
#[allow(dead_code, reason = "shared helpers; some callers land with their routes")]
mod fixtures;
mod go_flows;
mod groups;
mod hardening;
mod headless;
mod idp_role_sync_field;
mod idp_sync;
mod idp_sync_flags;
mod idp_sync_login;
mod lifecycle;
mod log_sockets;
mod matrix;
mod member_removal_roles;
mod members;
mod mock_idp;
mod oidc;
mod oidc_provider;
mod openapi;
mod orgs;
mod reads;
mod refusals;
mod replicas;
mod restriction_roles;
mod roles;
mod sandbox;
mod sessions;
mod sign_in_redirects;
mod story;
mod system;
mod template_patch;
mod template_variables;
mod templates;
mod users;
mod validation;
mod views;
mod webreads;
mod workspace_acl_shapes;
mod workspace_races;
mod workspace_rules;
mod workspaces;
mod zip_uploads;
