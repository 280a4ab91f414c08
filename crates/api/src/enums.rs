//! The closed sets of values some wire fields take, for the OpenAPI document: the fields stay
//! `String`s (Coder's JSON carries them as strings and the domain owns their parsing), and
//! point their schema here with `#[schema(value_type = ...)]` so clients and fuzzers see the
//! enum. Each list is exactly what the server sends or accepts, no more: the browser-free
//! check is `scripts/schemathesis`, which fails on a response value outside its enum.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// A user's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Dormant,
    Suspended,
}

/// The status a new user may start in (`dormant` when absent).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitialUserStatus {
    #[serde(rename = "")]
    Default,
    Active,
    Dormant,
}

/// How a user or an API key logs in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginType {
    Password,
    Github,
    Oidc,
    Token,
    None,
}

/// The login types `POST /users` accepts (empty means `password`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreateUserLoginType {
    #[serde(rename = "")]
    Default,
    Password,
    None,
    Oidc,
}

/// What an API key may do (empty means `all` on creation).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    All,
    ApplicationConnect,
}

/// The scopes `POST /users/{user}/keys/tokens` accepts (empty means `all`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreateTokenScope {
    #[serde(rename = "")]
    Default,
    All,
    ApplicationConnect,
}

/// What a workspace build does.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceTransition {
    Start,
    Stop,
    Delete,
}

/// Why a workspace build was started.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BuildReason {
    Initiator,
    Autostart,
    Autostop,
    Dormancy,
    Suspended,
}

/// A workspace's status, from its latest build and that build's job.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceStatus {
    Pending,
    Starting,
    Running,
    Stopping,
    Stopped,
    Failed,
    Canceling,
    Canceled,
    Deleting,
    Deleted,
}

/// A provisioner job's state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionerJobStatus {
    Pending,
    Running,
    Succeeded,
    Canceling,
    Canceled,
    Failed,
}

/// What a provisioner job does.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionerJobType {
    TemplateVersionImport,
    WorkspaceBuild,
    TemplateVersionDryRun,
}

/// Where a group's membership comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupSource {
    User,
    Oidc,
}

/// A provisioner log line's level.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Who wrote a provisioner log line.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    Provisioner,
    ProvisionerDaemon,
}

/// How a template version's files are stored (only uploaded files).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StorageMethod {
    File,
}

/// Which provisioner runs a template's jobs.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionerType {
    Echo,
    Terraform,
}
