//! `Env`: a real server on 127.0.0.1:0 with a fresh database (SQLite in a temp dir, or a fresh
//! PostgreSQL database), a temp config dir for the CLI, the built `atrium` binary to run, and a
//! small HTTP client to check the server's state afterwards.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use atrium_server::config::{Config, Secret};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "SomeSecurePassword!";
pub const OWNER_EMAIL: &str = "admin@example.com";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique suffix so names never collide.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{n}{}", &Uuid::new_v4().simple().to_string()[..6])
}

/// What a run of the binary printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns standard output.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success:\n{self}");
        self.assert_clean();
        &self.stdout
    }

    /// Asserts failure (exit 1) with `needle` on standard error; returns standard error.
    #[track_caller]
    pub fn fails_with(&self, needle: &str) -> &str {
        assert_eq!(self.code, 1, "expected exit code 1:\n{self}");
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}:\n{self}");
        assert!(
            self.stderr.lines().any(|l| l.starts_with("error: ")),
            "an error line starts with `error: `:\n{self}"
        );
        self.assert_clean();
        &self.stderr
    }

    /// No Rust panic or debug text ever reaches the user.
    #[track_caller]
    pub fn assert_clean(&self) {
        for bad in ["panicked", "RUST_BACKTRACE", "Error {", "kind:", "Some(", "reqwest::"] {
            assert!(
                !self.stdout.contains(bad) && !self.stderr.contains(bad),
                "debug text {bad:?} leaked:\n{self}"
            );
        }
    }

    /// Standard output parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

use atrium_test_postgres::Database;

pub struct Env {
    pub url: String,
    pub config: Config,
    server: Option<atrium_server::RunningServer>,
    /// The PostgreSQL test database, dropped with the server (declared after it).
    database: Option<Database>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Env {
    /// A server with no users yet.
    pub async fn fresh(backend: Backend) -> Option<Env> {
        Env::fresh_with(backend, |_| {}).await
    }

    /// A server with no users yet, with `tweak` applied to its settings.
    pub async fn fresh_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Env> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path().join("data"));
        let mut database = None;
        if backend == Backend::Postgres {
            let db = Database::fresh("cli").await?;
            config.postgres_url = Some(Secret(db.url().to_owned()));
            database = Some(db);
        }
        // Tests log in many times from one address.
        config.login_rate_limit = 10_000;
        tweak(&mut config);
        let server = atrium_server::start(config.clone()).await.expect("server starts");
        let url = format!("http://{}", server.addr);
        std::fs::create_dir_all(dir.path().join("config")).expect("config dir");
        Some(Env { url, config, server: Some(server), database, dir, http: reqwest::Client::new() })
    }

    /// A server whose first owner (`admin`) was created and logged in with `atrium login`.
    pub async fn with_owner(backend: Backend) -> Option<Env> {
        let env = Env::fresh(backend).await?;
        env.atrium(&[
            "login",
            &env.url,
            "--first-user-email",
            OWNER_EMAIL,
            "--first-user-username",
            "admin",
            "--first-user-password",
            PASSWORD,
        ])
        .ok();
        Some(env)
    }

    pub async fn sqlite_with_owner() -> Env {
        Env::with_owner(Backend::Sqlite).await.expect("sqlite always runs")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.config.resolved_data_dir()
    }

    /// The session `atrium login` saved.
    pub fn owner_token(&self) -> String {
        std::fs::read_to_string(self.config_dir().join("session"))
            .expect("a saved session")
            .trim()
            .to_owned()
    }

    /// The binary with this env's config dir and none of the caller's ATRIUM_* variables.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atrium"));
        cmd.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("ATRIUM_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("ATRIUM_CONFIG_DIR", self.config_dir());
        cmd.env("NO_COLOR", "1");
        cmd
    }

    /// Runs the binary as the logged-in CLI user, standard input closed (not a terminal).
    pub fn atrium(&self, args: &[&str]) -> Run {
        run(self.command(args), None)
    }

    /// Runs the binary with `input` on standard input.
    pub fn atrium_stdin(&self, args: &[&str], input: &str) -> Run {
        run(self.command(args), Some(input))
    }

    /// Runs the binary on a pseudo-terminal (util-linux `script`), typing `input`: the
    /// interactive prompts. Output is what the terminal showed (stdout and stderr merged).
    pub fn atrium_tty(&self, args: &[&str], input: &str) -> Run {
        let line = std::iter::once(env!("CARGO_BIN_EXE_atrium"))
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut script = Command::new("script");
        script.args(["-qec", &line, "/dev/null"]);
        for (k, _) in std::env::vars() {
            if k.starts_with("ATRIUM_") {
                script.env_remove(k);
            }
        }
        script.env("ATRIUM_CONFIG_DIR", self.config_dir());
        run(script, Some(input))
    }

    /// Runs the binary as another user through ATRIUM_URL and ATRIUM_SESSION_TOKEN.
    pub fn atrium_as(&self, token: &str, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.env("ATRIUM_URL", &self.url).env("ATRIUM_SESSION_TOKEN", token);
        // Nothing saved: the environment alone must do.
        cmd.env("ATRIUM_CONFIG_DIR", self.dir.path().join("nobody"));
        run(cmd, None)
    }

    /// One API call; `(status, body)`.
    pub async fn api(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            request = request.header("Coder-Session-Token", t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// GET as the owner, asserting 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.api(Some(&self.owner_token()), Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Status of a GET as the owner.
    pub async fn status_of(&self, path: &str) -> StatusCode {
        self.api(Some(&self.owner_token()), Method::GET, path, None).await.0
    }

    /// Logs in over HTTP; the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .api(
                None,
                Method::POST,
                "/api/v2/users/login",
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "login {email}: {body}");
        body["session_token"].as_str().expect("session_token").to_owned()
    }

    /// A password user created by the owner over HTTP with site `roles`, logged in: (token,
    /// username).
    pub async fn user(&self, roles: &[&str]) -> (String, String) {
        let name = unique("u");
        let owner = self.owner_token();
        let (status, body) = self
            .api(
                Some(&owner),
                Method::POST,
                "/api/v2/users",
                Some(json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create user: {body}");
        if !roles.is_empty() {
            let (status, body) = self
                .api(
                    Some(&owner),
                    Method::PUT,
                    &format!("/api/v2/users/{name}/roles"),
                    Some(json!({"roles": roles})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "set roles: {body}");
        }
        (self.login(&format!("{name}@example.com"), PASSWORD).await, name)
    }

    /// Stops the server but keeps its database, for replicas that carry on without it.
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        self.stop_server().await;
        if let Some(db) = self.database.take() {
            db.drop_now().await;
        }
    }
}

fn run(mut cmd: Command, input: Option<&str>) -> Run {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("the atrium binary runs");
    if let Some(text) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("the atrium binary finishes");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The names in a JSON array of objects (`key` field), sorted.
pub fn field_list(v: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|e| e[key].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// Writes files into a new temp dir (a template module).
pub fn module_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path: &Path = name.as_ref();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(dir.path().join(parent)).expect("mkdir");
        }
        std::fs::write(dir.path().join(name), text).expect("write module file");
    }
    dir
}
