//! The `atrium` binary: the server, host-local tools (`reset-password`, `authz check`), and the
//! client commands, each a thin HTTP client over `/api/v2`.

mod authz;
mod client;
mod commands;
mod config;
mod error;
mod logstream;
mod output;
mod progress;
mod prompt;
mod reset_password;
mod tarball;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{explain, groups, login, orgs, roles, templates, tokens, users, workspaces};
use crate::error::CliError;

/// Atrium: a self-hosted control plane for cloud development environments.
///
/// Client commands read the deployment from --url / ATRIUM_URL and the session from --token /
/// ATRIUM_SESSION_TOKEN, else from `atrium login` (kept in ATRIUM_CONFIG_DIR, default
/// ~/.config/atrium).
#[derive(Parser)]
#[command(
    name = "atrium",
    version,
    about,
    after_help = "Examples:\n  atrium server\n  atrium login http://127.0.0.1:3000\n  atrium users list\n  atrium templates push docker -d ./docker --yes\n  atrium create dev --template docker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per run; the server's flags are many")]
enum Command {
    /// Run the Atrium server (embedded SQLite by default, or PostgreSQL).
    #[command(
        after_help = "Example:\n  atrium server --address 127.0.0.1:3000 --data-dir ./atrium-data"
    )]
    Server(atrium_server::config::Config),
    /// Reset a user's password by writing the database directly (run it on the server's host).
    ///
    /// Asks twice on a terminal, or reads one line from standard input. Revokes the user's
    /// sessions and tokens. Works while the server runs.
    #[command(
        after_help = "Example:\n  echo 'N3w-Secret!pass' | atrium reset-password alice --data-dir ./atrium-data"
    )]
    ResetPassword(reset_password::Args),
    /// Authorization tools.
    #[command(
        subcommand,
        after_help = "Examples:\n  atrium authz check requests.json --explain\n  atrium authz explain --user bob --action create --resource workspace"
    )]
    Authz(AuthzCommand),
    /// Log in to a deployment.
    Login(login::LoginArgs),
    /// Log out: end the session and forget it.
    Logout(login::LogoutArgs),
    /// Show who you are logged in as.
    Whoami(login::WhoamiArgs),
    /// Manage users.
    #[command(visible_alias = "user")]
    Users(users::UsersArgs),
    /// Manage organizations, their members and roles.
    #[command(visible_aliases = ["organization", "org", "orgs"])]
    Organizations(orgs::OrgsArgs),
    /// Manage groups.
    #[command(visible_alias = "group")]
    Groups(groups::GroupsArgs),
    /// Manage site-wide roles: built-in ones, and custom or restriction roles (owners).
    #[command(visible_alias = "role")]
    Roles(roles::SiteRolesArgs),
    /// Manage API tokens (yours, or with --user a headless account's).
    #[command(visible_alias = "token")]
    Tokens(tokens::TokensArgs),
    /// Manage templates and who may use them.
    Templates(templates::TemplatesArgs),
    /// Create a workspace from a template (yours, or OWNER/NAME on someone's behalf) and
    /// show its first build.
    Create(workspaces::CreateArgs),
    /// List workspaces (yours unless --all or --search says otherwise).
    ///
    /// Columns: workspace, id, owner, name, organization id, organization name, template,
    /// status, healthy, last built, current version, outdated, created at, last used at
    /// (default: workspace, template, status, last built, outdated).
    #[command(visible_alias = "ls")]
    List(workspaces::ListArgs),
    /// Show a workspace.
    ///
    /// Columns as for `list` (default: workspace, organization name, template, status, last
    /// built, current version, outdated).
    Show(workspaces::ShowArgs),
    /// Start a workspace, showing the build's log; exits non-zero when the build fails.
    Start(workspaces::StartArgs),
    /// Stop a workspace (asks first), showing the build's log; exits non-zero when the build
    /// fails.
    #[command(after_help = "Examples:\n  atrium stop dev --yes\n  atrium stop alice/dev")]
    Stop(workspaces::ConfirmedArgs),
    /// Delete a workspace (asks first): a delete build, whose log is shown; exits non-zero
    /// when the build fails.
    #[command(
        visible_alias = "rm",
        after_help = "Examples:\n  atrium delete dev --yes\n  atrium delete alice/dev --yes"
    )]
    Delete(workspaces::ConfirmedArgs),
}

#[derive(Subcommand)]
enum AuthzCommand {
    /// Decide a JSON array of requests with the engine, offline.
    ///
    /// Prints one `{"allowed": bool, "reasons": [...]}` line per request, in order. Exit code 2
    /// on bad input, naming the request index and the field.
    #[command(
        after_help = "Example:\n  echo '[{\"subject\":{\"id\":\"00000000-0000-0000-0000-000000000001\",\"roles\":[{\"name\":\"owner\"}]},\"action\":\"read\",\"object\":{\"type\":\"workspace\"}}]' | atrium authz check -"
    )]
    Check {
        /// File holding the JSON array (`-` for standard input).
        file: PathBuf,
        /// Print each decision and its reasons in plain words instead of JSON.
        #[arg(long)]
        explain: bool,
    },
    /// Ask the server why a user may or may not do something.
    Explain(explain::ExplainArgs),
}

fn main() -> ExitCode {
    // No Rust panic text reaches the user: a bug is reported in one plain line.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("error: atrium hit an internal error (a bug; please report it): {what}");
    }));
    let cli = Cli::parse();
    match cli.command {
        Command::Server(config) => server(config),
        Command::ResetPassword(args) => block_on(reset_password::run(args)),
        Command::Authz(AuthzCommand::Check { file, explain }) => match authz::check(&file, explain)
        {
            Ok(lines) => {
                for line in lines {
                    output::out(&line);
                }
                ExitCode::SUCCESS
            }
            Err(authz::InputError(message)) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        Command::Authz(AuthzCommand::Explain(args)) => client(explain::run(args)),
        Command::Login(args) => client(login::login(args)),
        Command::Logout(args) => client(login::logout(args)),
        Command::Whoami(args) => client(login::whoami(args)),
        Command::Users(args) => client(users::run(args)),
        Command::Organizations(args) => client(orgs::run(args)),
        Command::Groups(args) => client(groups::run(args)),
        Command::Roles(args) => client(roles::run_site(args)),
        Command::Tokens(args) => client(tokens::run(args)),
        Command::Templates(args) => client(templates::run(args)),
        Command::Create(args) => client(workspaces::create(args)),
        Command::List(args) => client(workspaces::list(args)),
        Command::Show(args) => client(workspaces::show(args)),
        Command::Start(args) => client(workspaces::start(args)),
        Command::Stop(args) => client(workspaces::stop(args)),
        Command::Delete(args) => client(workspaces::delete(args)),
    }
}

/// Runs a client command; its error goes to standard error and the exit code is 1.
fn client(task: impl std::future::Future<Output = Result<(), CliError>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn server(config: atrium_server::config::Config) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATRIUM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(atrium_server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn block_on(task: impl std::future::Future<Output = Result<String, String>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(message) => {
            output::out(&message);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command documents itself with an example.
    #[test]
    fn every_command_has_help_with_an_example() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_name() != "help" {
                let help = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
                if !help.contains("Example") {
                    missing.push(path.clone());
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "commands without an example: {missing:?}");
        super::Cli::command().debug_assert();
    }
}
