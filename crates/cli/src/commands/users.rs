//! `atrium users list|create|show|suspend|activate|delete|edit-roles` (Coder's `coder users`).

use atrium_api::users::{AssignableRoles, CreateUserRequest, GetUsersResponse, UpdateRoles, User};
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Client, encode};
use crate::commands::{OrgArg, YesArg, field, get_user, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, FormatArg, OutputArgs, Table, out, time_of};
use crate::prompt;

/// Manage users.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium users list\n  atrium users create --email alice@example.com --username alice\n  atrium users suspend alice --yes"
)]
pub struct UsersArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List users (all statuses unless --search says otherwise).
    ///
    /// Columns: id, username, name, email, created at, updated at, last seen at, status,
    /// login type, roles (default: username, email, created at, status).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium users list\n  atrium users list --search 'status:active role:owner'\n  atrium users list -c username,status,roles\n  atrium users list -o json"
    )]
    List {
        /// A users query, as on the dashboard: free text matches username or email; keys
        /// `status:active|dormant|suspended`, `role:NAME`, `login_type:TYPE`,
        /// `last_seen_before:"RFC3339"`, `last_seen_after:`, `created_before:`, `created_after:`.
        #[arg(long, value_name = "QUERY")]
        search: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Create a user; prints the login instructions to hand over.
    ///
    /// Asks for the username and email when they are not given (on a terminal). Without
    /// --password a strong one is generated and printed.
    #[command(
        after_help = "Examples:\n  atrium users create --email alice@example.com --username alice --full-name 'Alice Liddell'\n  atrium users create -e bot@example.com -u ci-bot --login-type none --org platform"
    )]
    Create {
        /// The user's email.
        #[arg(short = 'e', long)]
        email: Option<String>,
        /// The user's username.
        #[arg(short = 'u', long)]
        username: Option<String>,
        /// The user's full name.
        #[arg(short = 'n', long)]
        full_name: Option<String>,
        /// The user's password (default: a generated one, printed once).
        #[arg(short = 'p', long)]
        password: Option<String>,
        /// `password`, `oidc` (signs in through the identity provider), or `none` for a user
        /// who cannot log in (give it tokens instead; prefer --service-account).
        #[arg(long, value_parser = ["password", "none", "oidc"], default_value = "password")]
        login_type: String,
        /// A service account: a headless account for a machine, with no email and no password
        /// (`atrium tokens create --user NAME` gives it a token).
        #[arg(long, conflicts_with_all = ["email", "password"])]
        service_account: bool,
        #[command(flatten)]
        org: OrgArg,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show a user.
    ///
    /// Columns: id, username, name, email, status, login type, created at, last seen at,
    /// roles, organizations (default: all).
    #[command(after_help = "Examples:\n  atrium users show alice\n  atrium users show me -o json")]
    Show {
        /// A username, user id, or `me`.
        user: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Suspend a user: their sessions and tokens stop working at once.
    #[command(after_help = "Example:\n  atrium users suspend alice --yes")]
    Suspend {
        /// A username or user id.
        user: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Activate a suspended or dormant user.
    #[command(after_help = "Example:\n  atrium users activate alice --yes")]
    Activate {
        /// A username or user id.
        user: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Delete a user (refused while they own workspaces).
    #[command(visible_alias = "rm", after_help = "Example:\n  atrium users delete alice --yes")]
    Delete {
        /// A username or user id.
        user: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Replace a user's site roles (`member` is implicit and always kept).
    ///
    /// Site roles: owner, user-admin, template-admin, auditor (and custom site roles).
    /// Without --roles, lists the roles you may assign and asks.
    #[command(
        after_help = "Examples:\n  atrium users edit-roles alice --roles template-admin,auditor\n  atrium users edit-roles alice --roles ''   # back to a plain member"
    )]
    EditRoles {
        /// A username or user id.
        user: String,
        /// The complete new set of site roles (comma-separated; '' for none).
        #[arg(long, value_delimiter = ',', num_args = 0..)]
        roles: Option<Vec<String>>,
        #[command(flatten)]
        yes: YesArg,
    },
}

pub async fn run(args: UsersArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    match args.command {
        UsersCommand::List { search, output } => list(&c, search.as_deref(), &output).await,
        UsersCommand::Create {
            email,
            username,
            full_name,
            password,
            login_type,
            service_account,
            org,
            format,
        } => {
            let fields =
                NewUser { email, username, full_name, password, login_type, service_account };
            create(&c, fields, org.org.as_deref(), format.output).await
        }
        UsersCommand::Show { user, output } => show(&c, &user, &output).await,
        UsersCommand::Suspend { user, yes } => set_status(&c, &user, "suspended", yes.yes).await,
        UsersCommand::Activate { user, yes } => set_status(&c, &user, "active", yes.yes).await,
        UsersCommand::Delete { user, yes } => delete(&c, &user, yes.yes).await,
        UsersCommand::EditRoles { user, roles, yes } => edit_roles(&c, &user, roles, yes.yes).await,
    }
}

const LIST_COLUMNS: &[&str] = &[
    "id",
    "username",
    "name",
    "email",
    "created at",
    "updated at",
    "last seen at",
    "status",
    "login type",
    "roles",
];

fn roles_text(u: &User) -> String {
    u.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn user_cells(u: &User) -> Vec<String> {
    vec![
        u.id.to_string(),
        u.username.clone(),
        u.name.clone(),
        u.email.clone(),
        time_of(u.created_at).unwrap_or_default(),
        time_of(u.updated_at).unwrap_or_default(),
        u.last_seen_at.and_then(time_of).unwrap_or_default(),
        u.status.clone(),
        u.login_type.clone(),
        roles_text(u),
    ]
}

fn user_table(users: &[User], defaults: &'static [&'static str]) -> Table {
    let mut t = Table::new(LIST_COLUMNS, defaults);
    for u in users {
        t.push(user_cells(u));
    }
    t
}

async fn list(c: &Client, search: Option<&str>, output: &OutputArgs) -> CliResult<()> {
    let path = match search.filter(|s| !s.trim().is_empty()) {
        Some(q) => format!("/api/v2/users?q={}", encode(q)),
        None => "/api/v2/users".to_owned(),
    };
    let reply: GetUsersResponse = c.get(&path).await?;
    output::print_list(output, &reply.users, || {
        user_table(&reply.users, &["username", "email", "created at", "status"])
    })
}

struct NewUser {
    email: Option<String>,
    username: Option<String>,
    full_name: Option<String>,
    password: Option<String>,
    login_type: String,
    service_account: bool,
}

/// A strong random password (letters, digits and symbols, 24 characters).
fn generate_password() -> CliResult<String> {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@_";
    for _ in 0..10 {
        let mut buf = [0u8; 96];
        getrandom::fill(&mut buf)
            .map_err(|e| CliError::msg(format!("cannot generate a password: {e}")))?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % CHARS.len();
        let password: String = buf
            .iter()
            .map(|b| usize::from(*b))
            .filter(|b| *b < limit)
            .take(24)
            .map(|b| char::from(CHARS[b % CHARS.len()]))
            .collect();
        if password.len() < 24 {
            continue;
        }
        if atrium_engine::password::validate_password(&password).is_ok() {
            return Ok(password);
        }
    }
    Err(CliError::msg("cannot generate a strong password; pass --password"))
}

async fn create(c: &Client, new: NewUser, org: Option<&str>, format: Format) -> CliResult<()> {
    let username = prompt::value(new.username.as_deref(), "Username:", "--username", None)?;
    let email = if new.service_account {
        String::new()
    } else {
        prompt::value(new.email.as_deref(), "Email:", "--email", None)?
    };
    let organization_ids = match org {
        Some(o) => {
            let org = resolve_org(c, Some(o)).await?;
            let id = field(&org, "id").parse().map_err(|_| {
                CliError::msg(format!("organization `{o}` has no valid id in the answer"))
            })?;
            vec![id]
        }
        None => Vec::new(),
    };
    let login_type = if new.service_account { "none".to_owned() } else { new.login_type };
    let password = match (login_type.as_str(), new.password) {
        ("password", Some(p)) => p,
        ("password", None) => generate_password()?,
        (_, Some(_)) => {
            return Err(CliError::msg(
                "--password only goes with --login-type password".to_owned(),
            ));
        }
        (_, None) => String::new(),
    };
    let request = CreateUserRequest {
        email: email.clone(),
        username,
        name: new.full_name.unwrap_or_default(),
        password: password.clone(),
        login_type: login_type.clone(),
        user_status: None,
        organization_ids,
        service_account: new.service_account,
    };
    let user: User = c.json(Method::POST, "/api/v2/users", &request).await?;
    if format == Format::Json {
        out(&output::json(&user)?);
        return Ok(());
    }
    if login_type == "none" {
        let kind = if user.is_service_account { "Service account" } else { "User" };
        out(&format!(
            "{kind} {name} created. It cannot log in; give it a token with\n\n  \
             atrium tokens create --user {name}\n",
            name = user.username
        ));
        return Ok(());
    }
    let mut text = format!(
        "User {} created.\n\nShare these instructions with the user:\n\n  \
         Run  atrium login {}  to authenticate.\n\n  Your email is:  {}\n",
        user.username, c.url, user.email
    );
    if login_type == "password" {
        text.push_str(&format!("  Your password is:  {password}\n"));
    } else {
        text.push_str("  Sign in through your identity provider.\n");
    }
    out(&text);
    Ok(())
}

async fn show(c: &Client, user: &str, output: &OutputArgs) -> CliResult<()> {
    let u = get_user(c, user).await?;
    if output.output == Format::Json {
        out(&output::json(&u)?);
        return Ok(());
    }
    // Organization names where the caller can read them; ids otherwise.
    let visible: Vec<Value> = c.get("/api/v2/organizations").await.unwrap_or_default();
    let orgs: Vec<String> = u
        .organization_ids
        .iter()
        .map(|id| {
            let id = id.to_string();
            visible
                .iter()
                .find(|o| field(o, "id") == id)
                .map_or(id.clone(), |o| field(o, "name").to_owned())
        })
        .collect();
    const COLUMNS: &[&str] = &[
        "id",
        "username",
        "name",
        "email",
        "status",
        "login type",
        "created at",
        "last seen at",
        "roles",
        "organizations",
    ];
    let mut t = Table::new(COLUMNS, COLUMNS);
    t.push(vec![
        u.id.to_string(),
        u.username.clone(),
        u.name.clone(),
        u.email.clone(),
        u.status.clone(),
        u.login_type.clone(),
        time_of(u.created_at).unwrap_or_default(),
        u.last_seen_at.and_then(time_of).unwrap_or_default(),
        roles_text(&u),
        orgs.join(", "),
    ]);
    out(&t.render(&output.column)?);
    Ok(())
}

async fn set_status(c: &Client, user: &str, status: &str, yes: bool) -> CliResult<()> {
    let u = get_user(c, user).await?;
    if u.status == status {
        out(&format!("User status is already \"{status}\""));
        return Ok(());
    }
    out(&user_table(std::slice::from_ref(&u), &["username", "email", "created at", "status"])
        .render(&[])?);
    let (verb, path, past) = match status {
        "suspended" => ("suspend", "suspend", "suspended"),
        _ => ("activate", "activate", "activated"),
    };
    prompt::confirm(&format!("Are you sure you want to {verb} this user?"), yes)?;
    let _: User = c.call(Method::PUT, &format!("/api/v2/users/{}/status/{path}", u.id)).await?;
    out(&format!("\nUser {} has been {past}!", u.username));
    Ok(())
}

async fn delete(c: &Client, user: &str, yes: bool) -> CliResult<()> {
    let u = get_user(c, user).await?;
    prompt::confirm(&format!("Are you sure you want to delete user {}?", u.username), yes)?;
    let _: Value = c.call(Method::DELETE, &format!("/api/v2/users/{}", u.id)).await?;
    out(&format!("Successfully deleted {}.", u.username));
    Ok(())
}

async fn edit_roles(
    c: &Client,
    user: &str,
    roles: Option<Vec<String>>,
    yes: bool,
) -> CliResult<()> {
    let u = get_user(c, user).await?;
    let roles: Vec<String> = match roles {
        Some(r) => r.into_iter().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect(),
        None => {
            if yes || !prompt::interactive() {
                return Err(CliError::NeedsFlag {
                    question: format!("Which site roles should {} have?", u.username),
                    flag: "--roles".into(),
                });
            }
            let available: Vec<AssignableRoles> = c.get("/api/v2/users/roles").await?;
            let names: Vec<&str> =
                available.iter().filter(|r| r.assignable).map(|r| r.role.name.as_str()).collect();
            output::note(&format!(
                "{} has: {}\nYou may assign: {}",
                u.username,
                if u.roles.is_empty() { "(no site roles)".to_owned() } else { roles_text(&u) },
                names.join(", ")
            ));
            let answer = prompt::value(
                None,
                "New site roles (comma-separated, empty for none):",
                "--roles",
                Some(""),
            )?;
            answer.split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect()
        }
    };
    let updated: User = c
        .json(Method::PUT, &format!("/api/v2/users/{}/roles", u.id), &UpdateRoles { roles })
        .await?;
    let now = if updated.roles.is_empty() { "member".to_owned() } else { roles_text(&updated) };
    out(&format!("Successfully updated {}'s roles to {now}", updated.username));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_passwords_pass_the_server_rule() {
        for _ in 0..20 {
            let p = super::generate_password().unwrap();
            assert_eq!(p.len(), 24);
            assert!(atrium_engine::password::validate_password(&p).is_ok(), "{p}");
        }
    }
}
