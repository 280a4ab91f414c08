//! Where the CLI keeps its login: a `url` and a `session` file in the user's config directory
//! (as Coder does), `ATRIUM_CONFIG_DIR` overriding it. Every client command also reads
//! `--url`/`ATRIUM_URL` and `--token`/`ATRIUM_SESSION_TOKEN`, which win over the files, so
//! scripts need no login step.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use crate::client::Client;
use crate::error::{CliError, CliResult};

/// The connection flags every client command takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConnArgs {
    /// The deployment URL (default: the one saved by `atrium login`).
    #[arg(long, env = "ATRIUM_URL", global = true, value_name = "URL")]
    pub url: Option<String>,
    /// A session token or API token (default: the one saved by `atrium login`).
    #[arg(long, env = "ATRIUM_SESSION_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
}

/// The CLI's config directory: `$ATRIUM_CONFIG_DIR`, else `$XDG_CONFIG_HOME/atrium`, else
/// `~/.config/atrium` (`%APPDATA%\atrium` on Windows).
pub fn config_dir() -> CliResult<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("ATRIUM_CONFIG_DIR") {
        return Ok(dir);
    }
    if let Some(xdg) = var("XDG_CONFIG_HOME") {
        return Ok(xdg.join("atrium"));
    }
    if cfg!(windows)
        && let Some(appdata) = var("APPDATA")
    {
        return Ok(appdata.join("atrium"));
    }
    match var("HOME") {
        Some(home) => Ok(home.join(".config").join("atrium")),
        None => Err(CliError::msg(
            "cannot find a config directory: set ATRIUM_CONFIG_DIR (or HOME) to keep the login",
        )),
    }
}

fn read(name: &str) -> CliResult<Option<String>> {
    let path = config_dir()?.join(name);
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::msg(format!("cannot read {}: {e}", path.display()))),
    }
}

fn write(name: &str, contents: &str) -> CliResult<()> {
    let dir = config_dir()?;
    fs::create_dir_all(&dir)
        .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(name);
    let fail = |e: std::io::Error| CliError::msg(format!("cannot write {}: {e}", path.display()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The session is a credential: only its owner may read it.
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(fail)?;
    file.write_all(contents.as_bytes()).map_err(fail)?;
    Ok(())
}

/// Saves a login.
pub fn save_login(url: &str, token: &str) -> CliResult<()> {
    write("url", url)?;
    write("session", token)
}

/// Forgets the saved session (keeps the URL, as Coder does). Whether there was one.
pub fn remove_session() -> CliResult<bool> {
    let path = config_dir()?.join("session");
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CliError::msg(format!("cannot remove {}: {e}", path.display()))),
    }
}

/// The deployment URL with a scheme and without a trailing slash (`localhost:3000` becomes
/// `http://localhost:3000`, other bare hosts `https://...`).
pub fn normalize_url(raw: &str) -> CliResult<String> {
    let raw = raw.trim().trim_end_matches('/');
    if raw.is_empty() {
        return Err(CliError::msg("the deployment URL is empty"));
    }
    let url = if raw.starts_with("http://") || raw.starts_with("https://") {
        raw.to_owned()
    } else if raw.contains("://") {
        return Err(CliError::msg(format!("`{raw}` is not an http:// or https:// URL")));
    } else if raw.starts_with("localhost") || raw.starts_with("127.") || raw.starts_with("[::1]") {
        format!("http://{raw}")
    } else {
        format!("https://{raw}")
    };
    Ok(url)
}

impl ConnArgs {
    /// The URL from the flag, the environment or the saved login.
    pub fn url(&self) -> CliResult<Option<String>> {
        match &self.url {
            Some(u) if !u.trim().is_empty() => normalize_url(u).map(Some),
            _ => read("url")?.map(|u| normalize_url(&u)).transpose(),
        }
    }

    fn token(&self) -> CliResult<Option<String>> {
        match &self.token {
            Some(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_owned())),
            _ => read("session"),
        }
    }

    /// A client with a session; fails with [`CliError::NotLoggedIn`] without one.
    pub fn client(&self) -> CliResult<Client> {
        let (Some(url), Some(token)) = (self.url()?, self.token()?) else {
            return Err(CliError::NotLoggedIn);
        };
        Client::new(&url, Some(token))
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn urls_get_a_scheme() {
        assert_eq!(normalize_url("localhost:3000/").ok().as_deref(), Some("http://localhost:3000"));
        assert_eq!(normalize_url("127.0.0.1:1").ok().as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(
            normalize_url("atrium.example.com").ok().as_deref(),
            Some("https://atrium.example.com")
        );
        assert_eq!(normalize_url("http://x:1").ok().as_deref(), Some("http://x:1"));
        assert!(normalize_url("ftp://x").is_err());
        assert!(normalize_url(" ").is_err());
    }
}
