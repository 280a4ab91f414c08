//! The `atrium` binary.

mod authz;

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
