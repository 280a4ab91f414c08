//! The provisioner sandbox: how a terraform job's processes are started so that template code
//! (a `local-exec`, a provider plugin) cannot read or change the server's database, data
//! directory, configuration or environment.
//!
//! Every job gets its own directory ([`JobDir`]): `src/` (the unpacked template, terraform's
//! working directory), `home/`, `plugin-cache/`, and `conf/terraformrc`, the CLI
//! configuration the server writes (read-only inside the sandbox). Then:
//!
//! - **Environment.** The process starts from an empty environment plus an allow-list
//!   ([`job_env`]): no `ATRIUM_*`, no database URL, nothing the server inherited.
//! - **User.** When the server runs as root, the job runs as `--provisioner-user` (default
//!   `nobody`) and its directory is handed to that user; the data directory (0700) and the
//!   database files (0600) are not theirs to open.
//! - **Namespaces** (`--provisioner-sandbox=bwrap`, the default). bubblewrap gives the job a
//!   fresh mount namespace holding only `/usr` (and the `/bin`, `/lib*` links), a few files of
//!   `/etc` (users, groups, CA certificates), a private `/tmp`, `/proc` and `/dev`, and its own
//!   directory read-write; plus, if configured, the shared workspaces directory (read-write)
//!   and a provider mirror (read-only). It also gets new PID, IPC, UTS, cgroup, user and
//!   network namespaces (no network at all: not even PostgreSQL on loopback), no
//!   capabilities, and a new session; it dies with its parent. Killing bwrap kills
//!   everything in the job's PID namespace.
//! - **Process group.** Jobs start in their own process group, killed when the job ends or is
//!   dropped (canceled, timed out), so nothing a job starts outlives it even unsandboxed.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::Failure;
use super::terraform::find_on_path;
use crate::config::{Config, SandboxMode};

/// Jobs start through bash, which closes every descriptor above 2 and then execs bwrap (or the
/// program): a server started with descriptors open without close-on-exec (a supervisor's
/// pipe, say) would otherwise hand them to template code, since bwrap passes open descriptors
/// on. Marking them close-on-exec in-process would need unsafe code.
const BASH: &str = "/bin/bash";
const CLOSE_INHERITED_FDS: &str = r#"for fd in /proc/self/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done; exec "$@""#;

/// What the server can do to isolate jobs, settled once at start-up.
#[derive(Debug)]
pub struct Sandbox {
    /// bwrap's path, when sandboxing and found.
    bwrap: Option<PathBuf>,
    /// The user and group jobs run as (only when the server runs as root).
    user: Option<(u32, u32)>,
    workspaces_dir: Option<PathBuf>,
    mirror: Option<PathBuf>,
    /// Why terraform jobs cannot run, if they cannot (they fail with this).
    problem: Option<String>,
}

impl Sandbox {
    /// Resolves the configuration; problems are logged and make terraform jobs fail with a
    /// clear error, rather than stopping a server that may only run echo jobs.
    pub fn from_config(config: &Config) -> Sandbox {
        let mut problem = None;
        let bwrap = match config.provisioner_sandbox {
            SandboxMode::Bwrap => {
                let found = find_on_path("bwrap");
                if found.is_none() {
                    problem = Some(
                        "the provisioner sandbox needs bubblewrap, and there is no `bwrap` on \
                         the server's PATH: install it (apt-get install bubblewrap), or run the \
                         server with --provisioner-sandbox=none to run template code unsandboxed"
                            .to_owned(),
                    );
                }
                found
            }
            SandboxMode::None => {
                tracing::warn!(
                    "--provisioner-sandbox=none: terraform templates run unsandboxed and can read \
                     and change anything the server's OS user can"
                );
                None
            }
        };
        let user = if is_root() {
            match resolve_user(&config.provisioner_user) {
                Ok(ids) => Some(ids),
                Err(e) => {
                    problem.get_or_insert(e);
                    None
                }
            }
        } else {
            None
        };
        if let Some(dir) = &config.provisioner_workspaces_dir
            && let Err(e) = shared_dir(dir, user)
        {
            problem.get_or_insert(format!(
                "cannot prepare --provisioner-workspaces-dir {}: {e}",
                dir.display()
            ));
        }
        if let Some(p) = &problem {
            tracing::error!(problem = %p, "terraform jobs cannot run");
        }
        Sandbox {
            bwrap,
            user,
            workspaces_dir: config.provisioner_workspaces_dir.clone(),
            mirror: config.provisioner_terraform_mirror.clone(),
            problem,
        }
    }

    /// The shared workspaces directory, if configured.
    pub fn workspaces_dir(&self) -> Option<&Path> {
        self.workspaces_dir.as_deref()
    }

    /// Writes the job's CLI configuration and hands its directory to the job's user. Call
    /// once the source is unpacked, before the first command.
    pub fn prepare(&self, job: &JobDir) -> Result<(), Failure> {
        if let Some(p) = &self.problem {
            return Err(Failure::job(p.clone()));
        }
        let fail =
            |e: std::io::Error| Failure::job(format!("cannot prepare the job directory: {e}"));
        for dir in [job.home(), job.plugin_cache(), job.conf()] {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        std::fs::write(job.cli_config(), self.cli_config(job)).map_err(fail)?;
        if let Some((uid, gid)) = self.user {
            // The job's user owns what it writes; the directory itself and the configuration
            // stay the server's (the job may pass through and read, not replace them).
            use std::os::unix::fs::PermissionsExt;
            let traverse = std::fs::Permissions::from_mode(0o711);
            std::fs::set_permissions(job.root(), traverse).map_err(fail)?;
            for dir in [job.src(), job.home(), job.plugin_cache()] {
                chown_tree(&dir, uid, gid).map_err(fail)?;
            }
        }
        Ok(())
    }

    /// terraform's CLI configuration for a job: providers from the mirror (if any) or the
    /// registry, never from the implied local directories (`terraform.d/plugins` in the
    /// template, `~/.terraform.d`), which an explicit `provider_installation` turns off.
    fn cli_config(&self, job: &JobDir) -> String {
        let mut out = String::from("disable_checkpoint = true\n");
        out.push_str(&format!("plugin_cache_dir = {}\n", hcl_string(job.plugin_cache())));
        out.push_str("provider_installation {\n");
        if let Some(mirror) = &self.mirror {
            out.push_str(&format!(
                "  filesystem_mirror {{\n    path = {}\n  }}\n",
                hcl_string(mirror)
            ));
        }
        if self.mirror.is_none() || self.bwrap.is_none() {
            out.push_str("  direct {}\n");
        }
        out.push_str("}\n");
        out
    }

    /// A command running `program args` for the job in `job.src()`, sandboxed as configured,
    /// with only the allow-listed environment plus `extra` (the template's `TF_VAR_*`).
    pub fn command(
        &self,
        job: &JobDir,
        program: &Path,
        args: &[&str],
        extra: &[(String, String)],
    ) -> Command {
        let launcher = self.bwrap.as_deref().unwrap_or(program);
        let mut cmd = if Path::new(BASH).is_file() {
            let mut cmd = Command::new(BASH);
            cmd.args(["-c", CLOSE_INHERITED_FDS, "atrium-job"]).arg(launcher);
            cmd
        } else {
            Command::new(launcher)
        };
        if self.bwrap.is_some() {
            cmd.args(self.bwrap_args(job, program)).arg("--").arg(program);
        }
        cmd.args(args)
            .current_dir(job.src())
            .env_clear()
            .envs(job_env(job))
            .envs(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .process_group(0);
        if let Some((uid, gid)) = self.user {
            // std drops the supplementary groups when root changes user.
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn bwrap_args(&self, job: &JobDir, program: &Path) -> Vec<std::ffi::OsString> {
        let mut a = Args::default();
        a.flags(&["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]);
        a.flags(&["--hostname", "atrium-job"]);
        a.bind("--ro-bind", Path::new("/usr"));
        for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            let path = Path::new(top);
            match std::fs::read_link(path) {
                Ok(target) => {
                    a.flags(&["--symlink"]);
                    a.path(&target);
                    a.path(path);
                }
                Err(_) if path.is_dir() => a.bind("--ro-bind", path),
                Err(_) => {}
            }
        }
        for file in [
            "/etc/passwd",
            "/etc/group",
            "/etc/nsswitch.conf",
            "/etc/localtime",
            "/etc/ssl/certs",
            "/etc/ca-certificates",
            "/etc/pki/tls/certs",
        ] {
            a.bind("--ro-bind-try", Path::new(file));
        }
        if !program.starts_with("/usr") {
            a.bind("--ro-bind", program);
        }
        if let Some(mirror) = &self.mirror {
            a.bind("--ro-bind", mirror);
        }
        a.flags(&["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]);
        a.bind("--bind", job.root());
        a.bind("--ro-bind", &job.conf());
        if let Some(dir) = &self.workspaces_dir {
            a.bind("--bind", dir);
        }
        a.flags(&["--chdir"]);
        a.path(&job.src());
        a.0
    }
}

#[derive(Default)]
struct Args(Vec<std::ffi::OsString>);

impl Args {
    fn flags(&mut self, flags: &[&str]) {
        self.0.extend(flags.iter().map(Into::into));
    }
    fn path(&mut self, path: &Path) {
        self.0.push(path.as_os_str().to_owned());
    }
    /// `flag path path`: the host path at the same place inside.
    fn bind(&mut self, flag: &str, path: &Path) {
        self.flags(&[flag]);
        self.path(path);
        self.path(path);
    }
}

/// The whole environment a job's processes start with.
fn job_env(job: &JobDir) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME", job.home().into_os_string()),
        ("TMPDIR", "/tmp".into()),
        ("LANG", "C.UTF-8".into()),
        ("TF_IN_AUTOMATION", "1".into()),
        ("TF_INPUT", "0".into()),
        ("CHECKPOINT_DISABLE", "1".into()),
        ("TF_CLI_CONFIG_FILE", job.cli_config().into_os_string()),
        ("TF_PLUGIN_CACHE_DIR", job.plugin_cache().into_os_string()),
    ]
}

/// A job's directory; removed when dropped.
pub struct JobDir {
    root: tempfile::TempDir,
}

impl JobDir {
    /// A fresh, empty job directory with an empty `src/`.
    pub fn new() -> std::io::Result<JobDir> {
        let root = tempfile::Builder::new().prefix("atrium-job-").tempdir()?;
        std::fs::create_dir(root.path().join("src"))?;
        Ok(JobDir { root })
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }
    /// The template source: terraform's working directory.
    pub fn src(&self) -> PathBuf {
        self.root().join("src")
    }
    fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    fn plugin_cache(&self) -> PathBuf {
        self.root().join("plugin-cache")
    }
    fn conf(&self) -> PathBuf {
        self.root().join("conf")
    }
    fn cli_config(&self) -> PathBuf {
        self.conf().join("terraformrc")
    }
}

/// A quoted HCL string.
fn hcl_string(path: impl AsRef<Path>) -> String {
    let text = path.as_ref().display().to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"").replace("${", "$${"))
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `name` (from /etc/passwd) or `uid:gid` to ids; root is refused.
fn resolve_user(spec: &str) -> Result<(u32, u32), String> {
    let ids = if let Some((u, g)) = spec.split_once(':')
        && let (Ok(u), Ok(g)) = (u.parse::<u32>(), g.parse::<u32>())
    {
        Some((u, g))
    } else {
        std::fs::read_to_string("/etc/passwd").ok().and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                (f.len() >= 4 && f[0] == spec)
                    .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                    .flatten()
            })
        })
    };
    match ids {
        Some((0, _)) => Err(format!(
            "--provisioner-user {spec} is root: terraform jobs must run as an unprivileged user"
        )),
        Some(ids) => Ok(ids),
        None => Err(format!(
            "--provisioner-user {spec}: no such user (give a user name from /etc/passwd or \
             `uid:gid`)"
        )),
    }
}

/// Creates the shared workspaces directory and gives it to the job user.
fn shared_dir(dir: &Path, user: Option<(u32, u32)>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// `chown -R`, without following links.
fn chown_tree(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if path.symlink_metadata()?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Kills a job's process group when dropped: whatever the job started, in the background or
/// not, ends with it.
pub struct GroupKiller(Option<rustix::process::Pid>);

impl GroupKiller {
    /// For a child started with `process_group(0)` (its group id is its pid).
    pub fn new(pid: Option<u32>) -> Self {
        let pid = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1);
        GroupKiller(pid.and_then(rustix::process::Pid::from_raw))
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            // ESRCH (nothing left in the group) is the usual, fine outcome.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_by_name_or_ids() {
        assert_eq!(resolve_user("1000:1001"), Ok((1000, 1001)));
        assert!(resolve_user("0:0").unwrap_err().contains("root"));
        assert!(resolve_user("root").unwrap_err().contains("root"));
        assert!(resolve_user("no-such-user-here").unwrap_err().contains("no such user"));
    }

    /// A descriptor the server holds without close-on-exec never reaches the job.
    #[tokio::test]
    async fn jobs_do_not_inherit_open_descriptors() {
        let held = tempfile::tempfile().unwrap();
        rustix::io::fcntl_setfd(&held, rustix::io::FdFlags::empty()).unwrap();
        let held_fd = std::os::fd::AsRawFd::as_raw_fd(&held).to_string();
        let mut config = Config::for_data_dir(std::env::temp_dir());
        config.provisioner_sandbox = SandboxMode::None;
        let sandbox = Sandbox::from_config(&config);
        let job = JobDir::new().unwrap();
        let out = sandbox
            .command(&job, Path::new("/bin/ls"), &["/proc/self/fd"], &[])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let fds: Vec<String> =
            String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
        assert!(fds.contains(&"0".to_owned()), "{fds:?}");
        assert!(!fds.contains(&held_fd), "fd {held_fd} leaked into the job: {fds:?}");
    }

    #[test]
    fn hcl_strings_are_quoted() {
        assert_eq!(hcl_string("/a \"b\"\\${c}"), r#""/a \"b\"\\$${c}""#);
    }
}
