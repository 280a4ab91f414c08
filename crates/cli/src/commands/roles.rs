//! `atrium organizations roles list|show|create|update|delete`: built-in and custom org roles;
//! `atrium roles ...`: the same for site-wide roles (issue 20). Custom roles come from flags
//! (`--permission workspace:read`) or a JSON file, and `--dry-run` prints the role that would
//! be stored without sending it. `--restriction` makes a role that only takes permissions away
//! (owners only; its permissions are `-type:action`), `--assignable-by` names the roles whose
//! holders may assign it (owners only).

use std::path::PathBuf;

use atrium_api::users::{AssignableRoles, Permission, Role};
use clap::Subcommand;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Client, encode};
use crate::commands::{YesArg, field, resolve_org};
use crate::config::ConnArgs;
use crate::error::{CliError, CliResult};
use crate::output::{self, Format, OutputArgs, Table, out};
use crate::prompt;

#[derive(Subcommand, Debug)]
pub enum RolesCommand {
    /// List the organization's roles: built-in ones and custom ones.
    ///
    /// Columns: name, display name, organization id, built in, assignable, permissions,
    /// site permissions, organization permissions, user permissions, restriction, assignable
    /// by (default: name, display name, built in, assignable, permissions).
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  atrium organizations roles list --org platform\n  atrium organizations roles list -o json"
    )]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show roles with their permissions (all roles when no name is given).
    ///
    /// Columns as for `list` (default: name, display name, organization permissions).
    #[command(
        after_help = "Examples:\n  atrium organizations roles show organization-workspace-creation-ban\n  atrium organizations roles show cr-startstop -o json"
    )]
    Show {
        /// Role names.
        names: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Create a custom role.
    ///
    /// Permissions are RESOURCE:ACTION (e.g. workspace:start); a leading `-` asks for a
    /// negative permission (which the server refuses for custom roles). A JSON file holds
    /// {"name", "display_name", "site_permissions", "organization_permissions",
    /// "user_permissions"}, each permission {"negate", "resource_type", "action"}; flags
    /// override the file.
    #[command(
        after_help = "Examples:\n  atrium organizations roles create cr-startstop --display-name 'Start/stop' \\\n    --permission workspace:read,workspace:start,workspace:stop\n  atrium organizations roles create cr-startstop --file role.json --dry-run\n  echo '{\"name\":\"cr-x\",\"organization_permissions\":[]}' | atrium organizations roles create --file -"
    )]
    Create(RoleSpec),
    /// Update a custom role: given flags replace, the rest is kept.
    #[command(
        after_help = "Examples:\n  atrium organizations roles update cr-startstop --permission workspace:read,workspace:start\n  atrium organizations roles update cr-startstop --display-name 'Start and stop' --dry-run"
    )]
    Update(RoleSpec),
    /// Delete a custom role.
    #[command(
        visible_alias = "rm",
        after_help = "Example:\n  atrium organizations roles delete cr-startstop --yes"
    )]
    Delete {
        /// The custom role's name.
        name: String,
        #[command(flatten)]
        yes: YesArg,
    },
}

#[derive(clap::Args, Debug)]
pub struct RoleSpec {
    /// The role's name (may come from --file instead).
    name: Option<String>,
    /// The role's display name.
    #[arg(long)]
    display_name: Option<String>,
    /// Organization permissions, RESOURCE:ACTION (repeat or comma-separate).
    #[arg(
        long = "permission",
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "RESOURCE:ACTION"
    )]
    permissions: Vec<String>,
    /// User-level permissions of a site-wide role, RESOURCE:ACTION (repeat or comma-separate).
    #[arg(
        long = "user-permission",
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "RESOURCE:ACTION"
    )]
    user_permissions: Vec<String>,
    /// A restriction role: it only takes permissions away (owners only; write each
    /// permission as -RESOURCE:ACTION, `*` allowed). A role keeps its kind once created.
    #[arg(long)]
    restriction: bool,
    /// Roles whose holders may assign this one, besides those who always may (owners only;
    /// comma-separate; give an empty value to clear).
    #[arg(long, value_delimiter = ',', value_name = "ROLE")]
    assignable_by: Option<Vec<String>>,
    /// A JSON file with the role (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Print the role that would be stored, as JSON, and send nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Coder's `CustomRoleRequest`.
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RoleRequest {
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    site_permissions: Vec<Permission>,
    #[serde(default)]
    organization_permissions: Vec<Permission>,
    #[serde(default)]
    user_permissions: Vec<Permission>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    restriction: bool,
    /// Absent keeps the stored list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignable_by: Option<Vec<String>>,
    /// Accepted (and ignored) so a role printed by `roles show -o json` can be edited and
    /// sent back; never sent.
    #[serde(default, skip_serializing, rename = "organization_id")]
    _organization_id: Option<serde::de::IgnoredAny>,
    #[serde(default, skip_serializing, rename = "assignable")]
    _assignable: Option<serde::de::IgnoredAny>,
    #[serde(default, skip_serializing, rename = "built_in")]
    _built_in: Option<serde::de::IgnoredAny>,
}

/// `atrium roles`: site-wide roles (issue 20).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  atrium roles list\n  atrium roles create audit-reader --permission audit_log:read\n  atrium roles create no-deletes --restriction --permission=-workspace:delete\n  atrium roles update audit-reader --assignable-by user-admin"
)]
pub struct SiteRolesArgs {
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(subcommand)]
    pub command: RolesCommand,
}

/// Where the roles live.
enum Place {
    Org(serde_json::Value),
    Site,
}

impl Place {
    /// Where the role list is read.
    fn list_path(&self) -> String {
        match self {
            Place::Org(org) => format!("/api/v2/organizations/{}/members/roles", field(org, "id")),
            Place::Site => "/api/v2/users/roles".to_owned(),
        }
    }
    /// Where custom roles are created and updated (and, with `/{name}`, deleted).
    fn write_path(&self) -> String {
        match self {
            Place::Org(_) => self.list_path(),
            Place::Site => "/api/v2/roles".to_owned(),
        }
    }
    fn not_found(&self, name: &str) -> CliError {
        match self {
            Place::Org(org) => {
                CliError::msg(format!("organization `{}` has no role `{name}`", field(org, "name")))
            }
            Place::Site => CliError::msg(format!("there is no site role `{name}`")),
        }
    }
    /// The default columns of `show` and of a saved role.
    fn show_columns(&self) -> &'static [&'static str] {
        match self {
            Place::Org(_) => &["name", "display name", "organization permissions"],
            Place::Site => &["name", "display name", "site permissions", "user permissions"],
        }
    }
}

pub async fn run(c: &Client, org: Option<&str>, command: RolesCommand) -> CliResult<()> {
    let org = resolve_org(c, org).await?;
    run_in(c, &Place::Org(org), command).await
}

pub async fn run_site(args: SiteRolesArgs) -> CliResult<()> {
    let c = args.conn.client()?;
    run_in(&c, &Place::Site, args.command).await
}

async fn run_in(c: &Client, place: &Place, command: RolesCommand) -> CliResult<()> {
    let base = place.write_path();
    match command {
        RolesCommand::List { output } => {
            let list: Vec<AssignableRoles> = c.get(&place.list_path()).await?;
            let defaults = &["name", "display name", "built in", "assignable", "permissions"];
            output::print_list(&output, &list, || role_table(&list, defaults))
        }
        RolesCommand::Show { names, output } => {
            let list: Vec<AssignableRoles> = c.get(&place.list_path()).await?;
            let mut shown = Vec::new();
            for name in &names {
                match list.iter().find(|r| &r.role.name == name) {
                    Some(r) => shown.push(r.clone()),
                    None => return Err(place.not_found(name)),
                }
            }
            if names.is_empty() {
                shown = list;
            }
            output::print_list(&output, &shown, || role_table(&shown, place.show_columns()))
        }
        RolesCommand::Create(spec) => {
            let file = read_file(spec.file.as_ref())?;
            let request = build(place, spec.name.as_deref(), &spec, RoleRequest::default(), file)?;
            send(c, place, Method::POST, request, &spec, "created").await
        }
        RolesCommand::Update(spec) => {
            let file = read_file(spec.file.as_ref())?;
            let name = match (&spec.name, &file) {
                (Some(n), _) => n.clone(),
                (None, Some(f)) => f.name.clone(),
                (None, None) => String::new(),
            };
            if name.is_empty() {
                return Err(CliError::msg("which role? Give its name"));
            }
            let list: Vec<AssignableRoles> = c.get(&place.list_path()).await?;
            let current = match list.into_iter().find(|r| r.role.name == name) {
                Some(r) if r.built_in => {
                    return Err(CliError::msg(format!(
                        "`{name}` is a built-in role and cannot be changed"
                    )));
                }
                Some(r) => r.role,
                None => return Err(place.not_found(&name)),
            };
            let base_request = RoleRequest {
                name: current.name,
                display_name: current.display_name,
                site_permissions: current.site_permissions,
                organization_permissions: current.organization_permissions,
                user_permissions: current.user_permissions,
                restriction: current.restriction,
                ..RoleRequest::default()
            };
            let request = build(place, Some(&name), &spec, base_request, file)?;
            send(c, place, Method::PUT, request, &spec, "updated").await
        }
        RolesCommand::Delete { name, yes } => {
            prompt::confirm(&format!("Are you sure you want to delete the role {name}?"), yes.yes)?;
            let _: serde_json::Value =
                c.call(Method::DELETE, &format!("{base}/{}", encode(&name))).await?;
            out(&format!("Role {name} has been deleted."));
            Ok(())
        }
    }
}

fn read_file(file: Option<&PathBuf>) -> CliResult<Option<RoleRequest>> {
    let Some(path) = file else { return Ok(None) };
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", path.display())))?
    };
    let role = serde_json::from_str(&text)
        .map_err(|e| CliError::msg(format!("`{}` is not a role: {e}", path.display())))?;
    Ok(Some(role))
}

/// The role to send: `base` (the stored role on update), replaced wholesale by the file if
/// any, then the flags on top.
fn build(
    place: &Place,
    name: Option<&str>,
    spec: &RoleSpec,
    base: RoleRequest,
    file: Option<RoleRequest>,
) -> CliResult<RoleRequest> {
    let mut role = file.unwrap_or(base);
    if let Some(n) = name {
        role.name = n.to_owned();
    }
    if role.name.is_empty() {
        return Err(CliError::msg("the role needs a name: give it as an argument or in --file"));
    }
    if let Some(d) = &spec.display_name {
        role.display_name = d.clone();
    }
    if !spec.permissions.is_empty() {
        let perms =
            spec.permissions.iter().map(|p| parse_permission(p)).collect::<CliResult<_>>()?;
        match place {
            Place::Org(_) => role.organization_permissions = perms,
            Place::Site => role.site_permissions = perms,
        }
    }
    if !spec.user_permissions.is_empty() {
        role.user_permissions =
            spec.user_permissions.iter().map(|p| parse_permission(p)).collect::<CliResult<_>>()?;
    }
    role.restriction |= spec.restriction;
    if let Some(by) = &spec.assignable_by {
        role.assignable_by = Some(by.iter().filter(|n| !n.is_empty()).cloned().collect());
    }
    Ok(role)
}

fn parse_permission(text: &str) -> CliResult<Permission> {
    let text = text.trim();
    let (negate, rest) = match text.strip_prefix('-').or_else(|| text.strip_prefix('!')) {
        Some(r) => (true, r),
        None => (false, text),
    };
    match rest.split_once(':') {
        Some((resource, action)) if !resource.is_empty() && !action.is_empty() => {
            Ok(Permission { negate, resource_type: resource.to_owned(), action: action.to_owned() })
        }
        _ => Err(CliError::msg(format!(
            "`{text}` is not a permission: write RESOURCE:ACTION, e.g. workspace:read"
        ))),
    }
}

async fn send(
    c: &Client,
    place: &Place,
    method: Method,
    request: RoleRequest,
    spec: &RoleSpec,
    verb: &str,
) -> CliResult<()> {
    if spec.dry_run {
        out(&output::json(&request)?);
        return Ok(());
    }
    let role: Role = c.json(method, &place.write_path(), &request).await?;
    if spec.output.output == Format::Json {
        out(&output::json(&role)?);
        return Ok(());
    }
    out(&format!("Role {} {verb}.", role.name));
    let row = AssignableRoles { role, assignable: false, built_in: false };
    out(&role_table(std::slice::from_ref(&row), place.show_columns())
        .render(&spec.output.column)?);
    Ok(())
}

fn perms_text(perms: &[Permission]) -> String {
    perms
        .iter()
        .map(|p| format!("{}{}:{}", if p.negate { "-" } else { "" }, p.resource_type, p.action))
        .collect::<Vec<_>>()
        .join(", ")
}

fn role_table(list: &[AssignableRoles], defaults: &'static [&'static str]) -> Table {
    const COLUMNS: &[&str] = &[
        "name",
        "display name",
        "organization id",
        "built in",
        "assignable",
        "permissions",
        "site permissions",
        "organization permissions",
        "user permissions",
        "restriction",
        "assignable by",
    ];
    let mut t = Table::new(COLUMNS, defaults);
    for r in list {
        let role = &r.role;
        let count = role.site_permissions.len()
            + role.organization_permissions.len()
            + role.user_permissions.len();
        t.push(vec![
            role.name.clone(),
            role.display_name.clone(),
            role.organization_id.clone(),
            r.built_in.to_string(),
            r.assignable.to_string(),
            format!("{count} permission{}", if count == 1 { "" } else { "s" }),
            perms_text(&role.site_permissions),
            perms_text(&role.organization_permissions),
            perms_text(&role.user_permissions),
            role.restriction.to_string(),
            role.assignable_by.join(", "),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::parse_permission;

    #[test]
    fn permissions_parse() {
        let p = parse_permission("workspace:read").unwrap();
        assert_eq!(
            (p.negate, p.resource_type.as_str(), p.action.as_str()),
            (false, "workspace", "read")
        );
        assert!(parse_permission("-workspace:create").unwrap().negate);
        assert!(parse_permission("workspace").is_err());
        assert!(parse_permission(":read").is_err());
    }
}
