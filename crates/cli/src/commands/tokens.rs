//! `atrium tokens create|list|remove` (Coder's `coder tokens`): long-lived API tokens, yours or,
//! with `--user`, another user's — the way headless accounts get their credentials.

use atrium_api::users::{ApiKey, CreateTokenRequest, GenerateApiKeyResponse};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Client, encode};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, OutputArgs, Table, out, time_of};

/// Manage API tokens.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium tokens create --name ci --lifetime 30d\n  atrium tokens create --user ci-bot --name deploy\n  atrium tokens list --user ci-bot\n  atrium tokens remove deploy --user ci-bot"
)]
pub struct TokensArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Create a token and print it (it is shown only once).
    #[command(
        after_help = "Examples:\n  atrium tokens create --name ci --lifetime 30d\n  atrium tokens create --user ci-bot --name deploy"
    )]
    Create {
        /// How long the token lives (`30d`, `12h`; default: the deployment's maximum).
        #[arg(long, env = "ATRIUM_TOKEN_LIFETIME")]
        lifetime: Option<String>,
        /// A name for the token (default: a generated one).
        #[arg(short = 'n', long, env = "ATRIUM_TOKEN_NAME")]
        name: Option<String>,
        /// The user to create the token for (default: you; another user needs admin rights
        /// over their tokens).
        #[arg(short = 'u', long, env = "ATRIUM_TOKEN_USER")]
        user: Option<String>,
    },
    /// List tokens (never their secrets).
    ///
    /// Columns: id, name, last used, expires at, created at, scope (default: id, name, last
    /// used, expires at, created at).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium tokens list\n  atrium tokens list --user ci-bot --include-expired -o json"
    )]
    List {
        /// Whose tokens (default: yours).
        #[arg(short = 'u', long)]
        user: Option<String>,
        /// Include expired tokens.
        #[arg(long)]
        include_expired: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete a token by name or id (or the token itself): it stops working at once.
    #[command(
        visible_alias = "delete",
        visible_alias = "rm",
        after_help = "Examples:\n  atrium tokens remove ci\n  atrium tokens remove deploy --user ci-bot"
    )]
    Remove {
        /// The token's name, id, or the token.
        #[arg(value_name = "NAME|ID|TOKEN")]
        which: String,
        /// Whose token (default: yours).
        #[arg(short = 'u', long)]
        user: Option<String>,
    },
}

pub async fn run(args: TokensArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    match args.command {
        TokensCommand::Create { lifetime, name, user } => {
            create(&c, lifetime.as_deref(), name, user.as_deref().unwrap_or("me")).await
        }
        TokensCommand::List { user, include_expired, output } => {
            list(&c, user.as_deref().unwrap_or("me"), include_expired, &output).await
        }
        TokensCommand::Remove { which, user } => {
            remove(&c, &which, user.as_deref().unwrap_or("me")).await
        }
    }
}

async fn create(
    c: &Client,
    lifetime: Option<&str>,
    name: Option<String>,
    user: &str,
) -> CliResult<()> {
    let lifetime = match lifetime {
        Some(l) => {
            let d = atrium_server::config::parse_duration(l)
                .map_err(|e| CliError::msg(format!("--lifetime: {e}")))?;
            i64::try_from(d.as_nanos())
                .map_err(|_| CliError::msg(format!("--lifetime: `{l}` is too long")))?
        }
        // Zero asks for the deployment's maximum.
        None => 0,
    };
    let request = CreateTokenRequest {
        token_name: name.unwrap_or_default(),
        lifetime,
        ..CreateTokenRequest::default()
    };
    let path = format!("/api/v2/users/{}/keys/tokens", encode(user));
    let reply: GenerateApiKeyResponse = c.json(Method::POST, &path, &request).await?;
    out(&reply.key);
    Ok(())
}

async fn list(c: &Client, user: &str, include_expired: bool, output: &OutputArgs) -> CliResult<()> {
    let mut path = format!("/api/v2/users/{}/keys/tokens", encode(user));
    if include_expired {
        path.push_str("?include_expired=true");
    }
    let tokens: Vec<ApiKey> = c.get(&path).await?;
    if tokens.is_empty() && output.output == output::Format::Table {
        output::note("No tokens found.");
        return Ok(());
    }
    output::print_list(output, &tokens, || {
        let mut t = Table::new(
            &["id", "name", "last used", "expires at", "created at", "scope"],
            &["id", "name", "last used", "expires at", "created at"],
        );
        for k in &tokens {
            let when = |t| time_of(t).unwrap_or_default();
            t.push(vec![
                k.id.clone(),
                k.token_name.clone(),
                when(k.last_used),
                when(k.expires_at),
                when(k.created_at),
                k.scope.clone(),
            ]);
        }
        t
    })
}

/// By name first, then by id (a whole token `<id>-<secret>` names its id), as Coder's CLI.
async fn remove(c: &Client, token: &str, user: &str) -> CliResult<()> {
    let user_path = format!("/api/v2/users/{}/keys", encode(user));
    let by_name = format!("{user_path}/tokens/{}", encode(token));
    let key: ApiKey = match c.get_optional(&by_name).await? {
        Some(k) => k,
        None => {
            let id = token.split('-').next().unwrap_or(token);
            c.get_optional(&format!("{user_path}/{}", encode(id))).await?.ok_or_else(|| {
                CliError::msg(format!("no token named `{token}` (nor with that id) for `{user}`"))
            })?
        }
    };
    let _: Value = c.call(Method::DELETE, &format!("{user_path}/{}", encode(&key.id))).await?;
    out("Token has been deleted.");
    Ok(())
}
