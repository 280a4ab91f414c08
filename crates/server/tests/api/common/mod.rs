//! `TestServer`: a real server on 127.0.0.1:0 with a fresh database (SQLite in a temp dir, or
//! a fresh PostgreSQL database), and a small HTTP client that speaks like any Coder client.

pub mod logs;

use std::sync::atomic::{AtomicU32, Ordering};

use atrium_api::users::{CreateFirstUserRequest, CreateFirstUserResponse, User};
use atrium_server::config::{Config, Secret};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

pub const PASSWORD: &str = "SomeSecurePassword!";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `<name>_sqlite` and `<name>_postgres` tests from one async body taking a
/// `TestServer`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        pub mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let server =
                    $crate::common::TestServer::start($crate::common::Backend::Sqlite).await;
                ($body)(server).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(server) = $crate::common::TestServer::start_postgres().await else {
                    return;
                };
                ($body)(server).await;
            }
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique suffix so names never collide.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let rand = Uuid::new_v4().simple().to_string();
    format!("{prefix}{n}{}", &rand[..6])
}

pub struct TestServer {
    pub backend: Backend,
    pub url: String,
    server: Option<atrium_server::RunningServer>,
    /// The PostgreSQL test database, dropped with the server (declared after it).
    database: Option<Database>,
    _dir: tempfile::TempDir,
    pub config: Config,
    /// The first owner's session.
    pub owner: Client,
    pub owner_id: Uuid,
    pub default_org: Uuid,
}

use atrium_test_postgres::Database;
pub use atrium_test_postgres::base_url as postgres_base_url;

/// A `Drop` impl makes `TestServer` impossible to move out of field by field, so a test body
/// (an `async move` block) that only names `s.owner` still captures the whole server and keeps
/// it running until the body ends (edition 2024 closures otherwise capture just the fields
/// they use, and the rest — the running server — would be dropped at once).
impl Drop for TestServer {
    fn drop(&mut self) {}
}

impl TestServer {
    pub async fn start_postgres() -> Option<Self> {
        postgres_base_url()?;
        Some(Self::start(Backend::Postgres).await)
    }

    /// Starts a server with the default test configuration and creates the first owner.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path().join("data"));
        let mut database = None;
        if backend == Backend::Postgres {
            let db = Database::fresh("srv").await.expect("postgres configured");
            config.postgres_url = Some(Secret(db.url().to_owned()));
            database = Some(db);
        }
        // Tests log in many times from one address.
        config.login_rate_limit = 1000;
        tweak(&mut config);
        let server = atrium_server::start(config.clone()).await.expect("server starts");
        let url = format!("http://{}", server.addr);
        let anon = Client::new(&url, None);
        let first: CreateFirstUserResponse = anon
            .expect_json(
                Method::POST,
                "/api/v2/users/first",
                &CreateFirstUserRequest {
                    email: "owner@example.com".into(),
                    username: "owner".into(),
                    name: "Owner".into(),
                    password: PASSWORD.into(),
                    trial: false,
                },
                StatusCode::CREATED,
            )
            .await;
        let owner = anon.login("owner@example.com", PASSWORD).await;
        TestServer {
            backend,
            url,
            server: Some(server),
            database,
            _dir: dir,
            config,
            owner,
            owner_id: first.user_id,
            default_org: first.organization_id,
        }
    }

    /// The running server's domain (to drive sweeps at a chosen time).
    pub fn domain(&self) -> &atrium_server::domain::Shared {
        self.server.as_ref().expect("the server is running").domain()
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.url, None)
    }

    /// Creates a password user (as the owner) with the given site roles, logs them in.
    pub async fn user_with_roles(&self, roles: &[&str]) -> (Client, User) {
        let name = unique("u");
        let user: User = self
            .owner
            .expect_json(
                Method::POST,
                "/api/v2/users",
                &serde_json::json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}),
                StatusCode::CREATED,
            )
            .await;
        if !roles.is_empty() {
            let _: User = self
                .owner
                .expect_json(
                    Method::PUT,
                    &format!("/api/v2/users/{}/roles", user.id),
                    &serde_json::json!({ "roles": roles }),
                    StatusCode::OK,
                )
                .await;
        }
        let client = self.anonymous().login(&user.email, PASSWORD).await;
        (client, user)
    }

    /// Stops the server and starts a new one on the same database (and data directory), as a
    /// restart would; sessions survive, since they live in the database.
    pub async fn restart(&mut self, tweak: impl FnOnce(&mut Config)) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        tweak(&mut self.config);
        let server = atrium_server::start(self.config.clone()).await.expect("server restarts");
        self.url = format!("http://{}", server.addr);
        let token = self.owner.token.clone();
        self.owner = Client::new(&self.url, token);
        self.server = Some(server);
    }

    /// Restarts with `tweak` applied if the server accepts the new settings; otherwise keeps
    /// the old settings running again and returns the refusal.
    pub async fn try_restart(&mut self, tweak: impl FnOnce(&mut Config)) -> Result<(), String> {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        let mut config = self.config.clone();
        tweak(&mut config);
        match atrium_server::start(config.clone()).await {
            Ok(server) => {
                self.config = config;
                self.adopt(server);
                Ok(())
            }
            Err(e) => {
                let server = atrium_server::start(self.config.clone()).await.expect("restarts");
                self.adopt(server);
                Err(e.to_string())
            }
        }
    }

    fn adopt(&mut self, server: atrium_server::RunningServer) {
        self.url = format!("http://{}", server.addr);
        let token = self.owner.token.clone();
        self.owner = Client::new(&self.url, token);
        self.server = Some(server);
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

/// An HTTP client with an optional session token.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    pub token: Option<String>,
}

/// A response: status and parsed JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("decode {}: {e}", self.body))
    }
}

impl Client {
    pub fn new(base: &str, token: Option<String>) -> Self {
        Client { base: base.to_owned(), http: reqwest::Client::new(), token }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Client::new(&self.base, Some(token.to_owned()))
    }

    pub async fn send_raw(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = match &self.token {
            Some(t) => request.header("Coder-Session-Token", t),
            None => request,
        };
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text}"))
        };
        Reply { status, body, headers }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send_raw(self.request(Method::GET, path)).await
    }

    pub async fn send<B: Serialize>(&self, method: Method, path: &str, body: &B) -> Reply {
        self.send_raw(self.request(method, path).json(body)).await
    }

    pub async fn send_empty(&self, method: Method, path: &str) -> Reply {
        self.send_raw(self.request(method, path)).await
    }

    /// Sends and asserts the status, decoding the body.
    pub async fn expect_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
        status: StatusCode,
    ) -> T {
        let reply = self.send(method.clone(), path, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        reply.json()
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.json()
    }

    /// Logs in with a password and returns a client carrying the session.
    pub async fn login(&self, email: &str, password: &str) -> Client {
        let reply = self
            .send(
                Method::POST,
                "/api/v2/users/login",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "login {email}: {}", reply.body);
        let token = reply.body["session_token"].as_str().expect("session_token").to_owned();
        self.with_token(&token)
    }
}
