//! Server configuration: one value built by clap from flags and `ATRIUM_*` variables, passed
//! into the server (no globals, so every test builds its own).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A value whose `Debug` hides it (database URLs carry passwords).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// `atrium server` flags.
#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ATRIUM_ADDRESS", default_value = "127.0.0.1:3000")]
    pub address: SocketAddr,

    /// Directory for the embedded SQLite database (default: the per-user data directory,
    /// `$XDG_DATA_HOME/atrium` or `~/.local/share/atrium`).
    #[arg(long, env = "ATRIUM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Use this PostgreSQL database instead of SQLite (`postgres://user:pass@host/db`).
    #[arg(long, env = "ATRIUM_POSTGRES_URL")]
    pub postgres_url: Option<Secret>,

    /// The URL users reach the server at (default: `http://<address>`).
    #[arg(long, env = "ATRIUM_ACCESS_URL")]
    pub access_url: Option<String>,

    /// Users with no activity for this long become dormant (e.g. `90d`, `12h`, `4s`).
    #[arg(long, env = "ATRIUM_USER_DORMANCY_PERIOD", default_value = "90d", value_parser = parse_duration)]
    pub user_dormancy_period: Duration,

    /// How often the dormancy sweep runs.
    #[arg(long, env = "ATRIUM_USER_DORMANCY_INTERVAL", default_value = "15m", value_parser = parse_duration)]
    pub user_dormancy_interval: Duration,

    /// Suspend accounts with no activity for this long (e.g. `180d`; counted from the last
    /// sign-in or use, or from creation for users never seen) and stop their workspaces. Never
    /// owners, never headless accounts (login type `none`). Off unless set.
    #[arg(long, env = "ATRIUM_DORMANT_SUSPEND_AFTER", value_parser = parse_duration)]
    pub dormant_suspend_after: Option<Duration>,

    /// New templates give the Everyone group no access unless asked (zero trust).
    #[arg(long, env = "ATRIUM_TEMPLATES_CLOSED_BY_DEFAULT")]
    pub templates_closed_by_default: bool,

    /// Lifetime of a login session.
    #[arg(long, env = "ATRIUM_SESSION_DURATION", default_value = "24h", value_parser = parse_duration)]
    pub session_duration: Duration,

    /// Longest lifetime an API token may ask for.
    #[arg(long, env = "ATRIUM_MAX_TOKEN_LIFETIME", default_value = "30d", value_parser = parse_duration)]
    pub max_token_lifetime: Duration,

    /// Built-in provisioner workers (jobs run at once); 0 queues jobs without running them.
    #[arg(long, env = "ATRIUM_PROVISIONER_DAEMONS", default_value_t = 3)]
    pub provisioner_daemons: usize,

    /// Most provisioner jobs one organization may run at once, so one organization's burst
    /// leaves workers for the others (default: one less than --provisioner-daemons, at
    /// least 1). Jobs are claimed fairly: the organization running the fewest goes first.
    #[arg(long, env = "ATRIUM_PROVISIONER_ORG_MAX_JOBS")]
    pub provisioner_org_max_jobs: Option<u32>,

    /// Longest a provisioner job may run; past it the job fails and its processes are killed.
    #[arg(long, env = "ATRIUM_PROVISIONER_JOB_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub provisioner_job_timeout: Duration,

    /// How terraform jobs are isolated from the server: `bwrap` (bubblewrap: a fresh mount,
    /// PID, network and user namespace that sees only the job's own directory) or `none`
    /// (UNSAFE: template code runs with the server's view of the host).
    #[arg(long, env = "ATRIUM_PROVISIONER_SANDBOX", value_enum, default_value = "bwrap")]
    pub provisioner_sandbox: SandboxMode,

    /// The OS user terraform jobs run as when the server runs as root (a name or `uid:gid`).
    #[arg(long, env = "ATRIUM_PROVISIONER_USER", default_value = "nobody")]
    pub provisioner_user: String,

    /// A host directory every terraform job may write, bound read-write at the same path
    /// inside the sandbox and passed to templates as `atrium_workspaces_dir` (the
    /// local-dir example keeps its workspaces there). Unset: jobs write only their own
    /// working directory.
    #[arg(long, env = "ATRIUM_PROVISIONER_WORKSPACES_DIR")]
    pub provisioner_workspaces_dir: Option<PathBuf>,

    /// A terraform provider mirror directory (`terraform providers mirror` layout), bound
    /// read-only into the sandbox. Sandboxed jobs have no network, so providers other than
    /// terraform's built-ins must come from here.
    #[arg(long, env = "ATRIUM_PROVISIONER_TERRAFORM_MIRROR")]
    pub provisioner_terraform_mirror: Option<PathBuf>,

    /// Login attempts allowed per client address per minute, on this replica (each replica
    /// counts its own: with N replicas behind a load balancer, set the rate / N).
    #[arg(long, env = "ATRIUM_LOGIN_RATE_LIMIT", default_value_t = 10)]
    pub login_rate_limit: u32,

    /// Time a connection has to send a complete request head, from connecting or from the end
    /// of its previous response (so also how long a kept-alive connection may sit idle).
    #[arg(long, env = "ATRIUM_HTTP_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_header_read_timeout: Duration,

    /// A connection on which no byte moves either way for this long is closed (a client that
    /// stops reading its response or sending its body). Keep it above the 60 s request timeout.
    #[arg(long, env = "ATRIUM_HTTP_IDLE_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    pub http_idle_timeout: Duration,

    /// Most connections open at once; further clients wait until one closes (default: three
    /// quarters of the open-file limit, at most 10,000).
    #[arg(long, env = "ATRIUM_HTTP_MAX_CONNECTIONS")]
    pub http_max_connections: Option<usize>,

    /// Sign-in through an OpenID Connect identity provider (`--oidc-*`).
    #[command(flatten)]
    pub oidc: crate::oidc_config::OidcConfig,
}

/// `--provisioner-sandbox`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxMode {
    /// bubblewrap (`bwrap` on PATH); terraform jobs fail if it is missing.
    Bwrap,
    /// No sandbox: the operator accepts that template code runs on the host.
    None,
}

/// Every `ATRIUM_*` variable the server reads; others draw a warning (a typo guard).
pub const KNOWN_ENV: &[&str] = &[
    "ATRIUM_ADDRESS",
    "ATRIUM_DATA_DIR",
    "ATRIUM_POSTGRES_URL",
    "ATRIUM_ACCESS_URL",
    "ATRIUM_USER_DORMANCY_PERIOD",
    "ATRIUM_USER_DORMANCY_INTERVAL",
    "ATRIUM_DORMANT_SUSPEND_AFTER",
    "ATRIUM_TEMPLATES_CLOSED_BY_DEFAULT",
    "ATRIUM_SESSION_DURATION",
    "ATRIUM_MAX_TOKEN_LIFETIME",
    "ATRIUM_LOGIN_RATE_LIMIT",
    "ATRIUM_PROVISIONER_DAEMONS",
    "ATRIUM_HTTP_HEADER_READ_TIMEOUT",
    "ATRIUM_HTTP_IDLE_TIMEOUT",
    "ATRIUM_HTTP_MAX_CONNECTIONS",
    "ATRIUM_PROVISIONER_ORG_MAX_JOBS",
    "ATRIUM_PROVISIONER_JOB_TIMEOUT",
    "ATRIUM_PROVISIONER_SANDBOX",
    "ATRIUM_PROVISIONER_USER",
    "ATRIUM_PROVISIONER_WORKSPACES_DIR",
    "ATRIUM_PROVISIONER_TERRAFORM_MIRROR",
    "ATRIUM_LOG",
    // Client-side variables of the same binary.
    "ATRIUM_URL",
    "ATRIUM_SESSION_TOKEN",
    "ATRIUM_CONFIG_DIR",
];

impl Config {
    /// A configuration for tests and embedding: an ephemeral port and the given data dir.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Config {
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: Some(data_dir),
            postgres_url: None,
            access_url: None,
            user_dormancy_period: Duration::from_secs(90 * 86_400),
            user_dormancy_interval: Duration::from_secs(15 * 60),
            dormant_suspend_after: None,
            templates_closed_by_default: false,
            session_duration: Duration::from_secs(86_400),
            max_token_lifetime: Duration::from_secs(30 * 86_400),
            login_rate_limit: 10,
            provisioner_daemons: 3,
            http_header_read_timeout: Duration::from_secs(10),
            http_idle_timeout: Duration::from_secs(120),
            http_max_connections: None,
            provisioner_org_max_jobs: None,
            provisioner_job_timeout: Duration::from_secs(30 * 60),
            provisioner_sandbox: SandboxMode::Bwrap,
            provisioner_user: "nobody".to_owned(),
            provisioner_workspaces_dir: None,
            provisioner_terraform_mirror: None,
            oidc: crate::oidc_config::OidcConfig::off(),
        }
    }

    /// The most jobs one organization may run at once (`--provisioner-org-max-jobs`).
    pub fn org_max_jobs(&self) -> u32 {
        self.provisioner_org_max_jobs.unwrap_or_else(|| {
            u32::try_from(self.provisioner_daemons.saturating_sub(1)).unwrap_or(u32::MAX).max(1)
        })
    }

    /// The data directory, falling back to the per-user default.
    pub fn resolved_data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        default_data_dir()
    }

    /// Unknown `ATRIUM_*` variables in the environment.
    pub fn unknown_env() -> Vec<String> {
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("ATRIUM_") && !k.starts_with("ATRIUM_TEST_"))
            .filter(|k| {
                !KNOWN_ENV.contains(&k.as_str())
                    && !crate::oidc_config::OIDC_ENV.contains(&k.as_str())
            })
            .collect()
    }
}

/// `$XDG_DATA_HOME/atrium`, else `~/.local/share/atrium`, else `./atrium-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("atrium");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/atrium"),
        None => PathBuf::from("atrium-data"),
    }
}

/// Human durations: a sequence of `<number><unit>` with units `ms`, `s`, `m`, `h`, `d`
/// (`90d`, `1h30m`, `4s`).
/// A duration as `parse_duration` reads it, in its largest whole unit (`180d`, `12h`, `90s`).
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs >= size && secs.is_multiple_of(size) {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration `{s}`: expected a number"));
        }
        let n: u64 = rest[..digits].parse().map_err(|e| format!("invalid duration `{s}`: {e}"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            other => {
                return Err(format!(
                    "invalid duration `{s}`: unknown unit `{other}` (use ms, s, m, h, d)"
                ));
            }
        };
        rest = &rest[unit_len..];
        let part =
            unit.checked_mul(u32::try_from(n).map_err(|_| format!("duration `{s}` is too long"))?);
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| format!("duration `{s}` is too long"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse_duration("4s"), Ok(Duration::from_secs(4)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
