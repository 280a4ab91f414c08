//! The `atrium` binary.

mod authz;
mod reset_password;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Atrium: a self-hosted control plane for cloud development environments.
#[derive(Parser)]
#[command(name = "atrium", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Atrium server (embedded SQLite by default, or PostgreSQL).
    ///
    /// Example: atrium server --address 127.0.0.1:3000 --data-dir ./atrium-data
    Server(atrium_server::config::Config),
    /// Reset a user's password by writing the database directly (run it on the server's host).
    ///
    /// Asks twice on a terminal, or reads one line from standard input. Revokes the user's
    /// sessions and tokens. Example: echo 'N3w-Secret!pass' | atrium reset-password alice
    ResetPassword(reset_password::Args),
    /// Authorization tools.
    #[command(subcommand)]
    Authz(AuthzCommand),
}

#[derive(Subcommand)]
enum AuthzCommand {
    /// Decide a JSON array of requests with the engine, offline.
    ///
    /// Prints one `{"allowed": bool, "reasons": [...]}` line per request, in order. Exit code 2
    /// on bad input, naming the request index and the field.
    ///
    /// Example: echo '[{"subject":{"id":"00000000-0000-0000-0000-000000000001","roles":[{"name":"owner"}]},"action":"read","object":{"type":"workspace"}}]' | atrium authz check -
    Check {
        /// File holding the JSON array (`-` for standard input).
        file: PathBuf,
        /// Print each decision and its reasons in plain words instead of JSON.
        #[arg(long)]
        explain: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Server(config) => server(config),
        Command::ResetPassword(args) => block_on(reset_password::run(args)),
        Command::Authz(AuthzCommand::Check { file, explain }) => match authz::check(&file, explain)
        {
            Ok(lines) => {
                for line in lines {
                    println!("{line}");
                }
                ExitCode::SUCCESS
            }
            Err(authz::InputError(message)) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
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
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
