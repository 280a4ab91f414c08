//! `atrium login`, `logout`, `whoami` (Coder's `coder login` flow: first-user setup on a fresh
//! deployment, then a session kept in the config directory).

use atrium_api::clients::AuthMethods;
use atrium_api::users::{
    CreateFirstUserRequest, CreateFirstUserResponse, LoginWithPasswordRequest,
    LoginWithPasswordResponse, User,
};
use reqwest::Method;

use crate::client::Client;
use crate::commands::YesArg;
use crate::config::{self, ConnArgs};
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, FormatArg, out};
use crate::prompt;

/// Log in to a deployment and keep the session in the config directory.
///
/// On a fresh deployment (no users yet) it offers to create the first owner; the
/// `--first-user-*` flags answer for scripts. Otherwise it asks for email and password
/// (`--email`, `--password`), or takes an existing token with `--token`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    atrium login https://atrium.example.com\n  \
    atrium login http://127.0.0.1:3000 --first-user-email admin@example.com \\\n    \
    --first-user-username admin --first-user-password 'Correct-Horse-9!'\n  \
    atrium login http://127.0.0.1:3000 --email alice@example.com --password \"$PW\"\n  \
    atrium login http://127.0.0.1:3000 --token \"$ATRIUM_SESSION_TOKEN\"")]
pub struct LoginArgs {
    /// The deployment URL (default: --url, ATRIUM_URL, or the last one logged in to).
    #[arg(value_name = "URL")]
    pub address: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Your email (asked when missing).
    #[arg(long)]
    pub email: Option<String>,
    /// Your password (asked without echo when missing).
    #[arg(long)]
    pub password: Option<String>,
    /// First-user setup: the owner's email.
    #[arg(long)]
    pub first_user_email: Option<String>,
    /// First-user setup: the owner's username.
    #[arg(long)]
    pub first_user_username: Option<String>,
    /// First-user setup: the owner's password.
    #[arg(long)]
    pub first_user_password: Option<String>,
    /// First-user setup: the owner's full name.
    #[arg(long)]
    pub first_user_full_name: Option<String>,
    #[command(flatten)]
    pub yes: YesArg,
}

pub async fn login(args: LoginArgs) -> CliResult<()> {
    let url = match args.address.as_deref().filter(|a| !a.trim().is_empty()) {
        Some(a) => config::normalize_url(a)?,
        None => args.conn.url()?.ok_or_else(|| {
            CliError::msg(
                "which deployment? Pass its URL: `atrium login https://atrium.example.com`",
            )
        })?,
    };
    let anon = Client::new(&url, None)?;
    // A token (flag or ATRIUM_SESSION_TOKEN) is checked and kept as the session, unless
    // email or password were given.
    let token = args.conn.token.as_deref().filter(|t| !t.trim().is_empty());
    if let Some(token) = token.filter(|_| args.email.is_none() && args.password.is_none()) {
        let client = Client::new(&url, Some(token.trim().to_owned()))?;
        let me: User = client.get("/api/v2/users/me").await?;
        config::save_login(&url, token.trim())?;
        out(&format!("Welcome to Atrium, {}! You're authenticated.", me.username));
        return Ok(());
    }
    // Password sign-in off: the identity provider, through the browser (also for the first
    // account, which becomes the owner).
    let methods: AuthMethods = anon.get("/api/v2/users/authmethods").await?;
    if !methods.password.enabled && args.email.is_none() && args.password.is_none() {
        return browser_login(&url, &methods).await;
    }
    let has_users = match anon.send(Method::GET, "/api/v2/users/first", None).await {
        Ok(_) => true,
        Err(e) if e.status() == Some(404) => false,
        Err(e) => return Err(e),
    };
    if !has_users {
        return first_user(&anon, &url, &args).await;
    }
    let email = prompt::value(args.email.as_deref(), "Email:", "--email", None)?;
    let password = prompt::secret(args.password.as_deref(), "Password:", "--password", false)?;
    let token = password_login(&anon, &email, &password).await?;
    finish(&url, &token).await
}

/// An OIDC-only deployment: the user signs in through the identity provider in a browser at
/// `/cli-auth`, which shows a session token to paste back (Coder's `coder login` flow).
async fn browser_login(url: &str, methods: &AuthMethods) -> CliResult<()> {
    let how = if methods.oidc.enabled {
        format!(" with {}", methods.oidc.sign_in_text)
    } else {
        String::new()
    };
    output::note(&format!(
        "Password sign-in is off here. Open this page in a browser, sign in{how}, and copy the \
         session token it shows:\n\n  {url}/cli-auth\n"
    ));
    let token = if prompt::interactive() {
        prompt::secret(None, "Paste your token here:", "--token", false)?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| CliError::msg(format!("cannot read the token: {e}")))?;
        line
    };
    let token = token.trim();
    if token.is_empty() {
        return Err(CliError::msg("no token given; pass --token or paste the one /cli-auth shows"));
    }
    finish(url, token).await
}

async fn password_login(anon: &Client, email: &str, password: &str) -> CliResult<String> {
    let reply: LoginWithPasswordResponse = anon
        .json(
            Method::POST,
            "/api/v2/users/login",
            &LoginWithPasswordRequest { email: email.to_owned(), password: password.to_owned() },
        )
        .await?;
    Ok(reply.session_token)
}

async fn finish(url: &str, token: &str) -> CliResult<()> {
    let client = Client::new(url, Some(token.to_owned()))?;
    let me: User = client.get("/api/v2/users/me").await?;
    config::save_login(url, token)?;
    out(&format!("Welcome to Atrium, {}! You're authenticated.", me.username));
    Ok(())
}

async fn first_user(anon: &Client, url: &str, args: &LoginArgs) -> CliResult<()> {
    let scripted = args.first_user_email.is_some()
        || args.first_user_username.is_some()
        || args.first_user_password.is_some();
    if !scripted {
        if !prompt::interactive() {
            return Err(CliError::msg(format!(
                "{url} has no users yet: pass --first-user-email, --first-user-username and \
                 --first-user-password (and optionally --first-user-full-name) to create the \
                 first owner"
            )));
        }
        output::note(&format!("{url} has no users yet."));
        prompt::confirm("Would you like to create the first user?", args.yes.yes)?;
    }
    let default_name = std::env::var("USER").ok().filter(|u| !u.is_empty());
    let username = prompt::value(
        args.first_user_username.as_deref(),
        "What username would you like?",
        "--first-user-username",
        default_name.as_deref(),
    )?;
    let email = prompt::value(
        args.first_user_email.as_deref(),
        "What's your email?",
        "--first-user-email",
        None,
    )?;
    let name = match &args.first_user_full_name {
        Some(n) => n.clone(),
        None if scripted || !prompt::interactive() => String::new(),
        None => prompt::value(
            None,
            "What's your full name? (optional)",
            "--first-user-full-name",
            Some(""),
        )?,
    };
    let password = prompt::secret(
        args.first_user_password.as_deref(),
        "Enter a password:",
        "--first-user-password",
        true,
    )?;
    let _: CreateFirstUserResponse = anon
        .json(
            Method::POST,
            "/api/v2/users/first",
            &CreateFirstUserRequest {
                email: email.clone(),
                username,
                name,
                password: password.clone(),
                trial: false,
            },
        )
        .await?;
    let token = password_login(anon, &email, &password).await?;
    finish(url, &token).await?;
    out("Get started by pushing a template:\n\n   atrium templates push NAME -d DIR");
    Ok(())
}

/// End the session on the server and forget it here.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  atrium logout --yes")]
pub struct LogoutArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub yes: YesArg,
}

pub async fn logout(args: LogoutArgs) -> CliResult<()> {
    let client = args.conn.client()?;
    prompt::confirm("Are you sure you want to log out?", args.yes.yes)?;
    let result = client.send(Method::POST, "/api/v2/users/logout", None).await;
    config::remove_session()?;
    match result {
        // A session the server no longer knows is as logged out as can be.
        Ok(_) => {}
        Err(e) if e.status() == Some(401) => {}
        Err(e) => {
            output::note("The saved session was removed here, but the server did not end it:");
            return Err(e);
        }
    }
    out("You are no longer logged in. You can log in using 'atrium login URL'.");
    Ok(())
}

/// Show who you are logged in as, and where.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  atrium whoami\n  atrium whoami -o json")]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub format: FormatArg,
}

pub async fn whoami(args: WhoamiArgs) -> CliResult<()> {
    let client = args.conn.client()?;
    let me: User = client.get("/api/v2/users/me").await?;
    match args.format.output {
        Format::Json => out(&output::json(&me)?),
        Format::Table => out(&format!(
            "Atrium is running at {}, you're authenticated as {}.",
            client.url, me.username
        )),
    }
    Ok(())
}
