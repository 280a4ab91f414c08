//! `atrium reset-password USERNAME`: writes the database directly (host-local, like Coder's),
//! so it works while the server runs and when nobody can log in. Revokes the user's sessions
//! and tokens.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use atrium_server::domain::host::Host;

/// Where the database is.
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The user whose password to reset.
    pub username: String,
    /// The server's data directory (SQLite); default: the per-user data directory.
    #[arg(long, env = "ATRIUM_DATA_DIR", conflicts_with = "postgres_url")]
    pub data_dir: Option<PathBuf>,
    /// The server's PostgreSQL database.
    #[arg(long, env = "ATRIUM_POSTGRES_URL")]
    pub postgres_url: Option<String>,
}

fn read_password(prompt: &str) -> Result<String, String> {
    rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))
}

/// Asks twice on a terminal; reads one line from a pipe.
fn new_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = read_password("Enter new password: ")?;
        let second = read_password("Confirm password: ")?;
        if first != second {
            return Err("Passwords do not match".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

pub async fn run(args: Args) -> Result<String, String> {
    let host = match &args.postgres_url {
        Some(url) => Host::open_postgres(url).await?,
        None => {
            let dir = args.data_dir.clone().unwrap_or_else(atrium_server::config::default_data_dir);
            Host::open_sqlite(&dir).await?
        }
    };
    // Refuse an unknown or non-password user before asking for a password.
    let result = match host.password_user(&args.username).await {
        Ok(_) => match new_password() {
            Ok(password) => host.reset_password(&args.username, password).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    host.close().await;
    result.map(|name| format!("Password has been reset for user {name}!"))
}
