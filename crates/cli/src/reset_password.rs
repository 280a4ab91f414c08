//! `atrium reset-password USERNAME`: writes the database directly (host-local, like Coder's),
//! so it works while the server runs and when nobody can log in. Revokes the user's sessions
//! and tokens.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use atrium_engine::password::validate_password;
use atrium_store::{DbTime, LoginType, Store, api_keys, users};

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
    let store = match &args.postgres_url {
        Some(url) => Store::open_postgres(url).await,
        None => {
            let dir = args.data_dir.clone().unwrap_or_else(atrium_server::config::default_data_dir);
            if !dir.join("atrium.db").exists() {
                return Err(format!("no Atrium database in {}", dir.display()));
            }
            Store::open_sqlite(&dir).await
        }
    }
    .map_err(|e| e.to_string())?;
    let user = users::get_by_username(&store, &args.username)
        .await
        .map_err(|_| format!("user \"{}\" not found", args.username))?;
    if user.login_type != LoginType::Password {
        return Err(format!(
            "user \"{}\" has login type \"{}\"; only password users have a password",
            user.username,
            user.login_type.as_str()
        ));
    }
    let password = new_password()?;
    validate_password(&password).map_err(|e| format!("password not strong enough: {e}"))?;
    let hashed = atrium_server::passwords::hash(password).await.map_err(|e| e.body.message)?;
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    users::update_password(&mut tx, user.id, Some(&hashed), DbTime::now())
        .await
        .map_err(|e| e.to_string())?;
    api_keys::delete_by_user(&mut tx, user.id).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    store.close().await;
    Ok(format!("Password has been reset for user {}!", user.username))
}
