//! The custom-role editor shared by organization and site-wide roles: a resource × action grid
//! of checkboxes per permission scope (a checked box is an allow for an additive role, a deny
//! for a restriction role — never both, since custom roles are additive), the display name and,
//! for owners, who may assign the role.

use atrium_api::users::Permission as ApiPermission;
use atrium_engine::ResourceType;
use atrium_engine::custom_role::{CustomRoleRequest, RawPermission};

/// One scope's grid: a fieldset per resource type with a checkbox per valid action.
pub struct Grid {
    /// The form field of this scope (`org_perm`, `site_perm`, `user_perm`).
    pub field: &'static str,
    pub legend: &'static str,
    pub rows: Vec<GridRow>,
    /// Permissions the grid has no box for (wildcards set through the API), kept on save.
    pub other: Vec<String>,
}

pub struct GridRow {
    pub resource: &'static str,
    /// `(action, checked)` for each action valid on the resource.
    pub cells: Vec<(&'static str, bool)>,
}

/// The scopes a role of each kind holds.
pub const ORG_SCOPES: &[(&str, &str)] = &[("org_perm", "Organization permissions")];
pub const SITE_SCOPES: &[(&str, &str)] =
    &[("site_perm", "Site permissions"), ("user_perm", "User permissions")];

impl Grid {
    /// The grid of `field` with `held` checked.
    pub fn new(field: &'static str, legend: &'static str, held: &[ApiPermission]) -> Grid {
        let key = |p: &ApiPermission| format!("{}:{}", p.resource_type, p.action);
        let held_keys: Vec<String> = held.iter().map(key).collect();
        let rows: Vec<GridRow> = ResourceType::ALL
            .iter()
            .map(|r| GridRow {
                resource: r.as_str(),
                cells: r
                    .valid_actions()
                    .iter()
                    .map(|a| {
                        let k = format!("{}:{}", r.as_str(), a.as_str());
                        (a.as_str(), held_keys.contains(&k))
                    })
                    .collect(),
            })
            .collect();
        let in_grid = |k: &str| {
            rows.iter()
                .any(|row| row.cells.iter().any(|(a, _)| format!("{}:{a}", row.resource) == k))
        };
        let other = held_keys.iter().filter(|k| !in_grid(k)).cloned().collect();
        Grid { field, legend, rows, other }
    }
}

/// The grids of `scopes`, each with the permissions `held_in` it.
pub fn grids(
    scopes: &[(&'static str, &'static str)],
    held_in: impl Fn(&str) -> Vec<ApiPermission>,
) -> Vec<Grid> {
    scopes.iter().map(|(field, legend)| Grid::new(field, legend, &held_in(field))).collect()
}

/// A posted editor form, as the domain's role request.
pub struct EditorForm {
    pub name: String,
    pub display_name: String,
    pub restriction: bool,
    fields: Vec<(String, String)>,
}

impl EditorForm {
    pub fn parse(fields: Vec<(String, String)>) -> EditorForm {
        let one = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        EditorForm {
            name: one("name"),
            display_name: one("display_name"),
            restriction: one("kind") == "restriction",
            fields,
        }
    }

    /// The checked `resource:action` pairs of `field`, as permissions (denies for a
    /// restriction role).
    pub fn permissions(&self, field: &str) -> Vec<RawPermission> {
        self.fields
            .iter()
            .filter(|(k, _)| k == field)
            .filter_map(|(_, v)| v.split_once(':'))
            .map(|(resource_type, action)| RawPermission {
                negate: self.restriction,
                resource_type: resource_type.to_owned(),
                action: action.to_owned(),
            })
            .collect()
    }

    /// The same, in the wire shape (to show the form again after a refusal).
    pub fn api_permissions(&self, field: &str) -> Vec<ApiPermission> {
        self.permissions(field)
            .into_iter()
            .map(|p| ApiPermission {
                negate: p.negate,
                resource_type: p.resource_type,
                action: p.action,
            })
            .collect()
    }

    /// `assignable_by` when the form showed it (owners); absent keeps what is stored.
    pub fn assignable_by(&self) -> Option<Vec<String>> {
        self.fields.iter().any(|(k, _)| k == "assignable_by_shown").then(|| {
            self.fields
                .iter()
                .filter(|(k, v)| k == "assignable_by" && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect()
        })
    }

    /// The request for an organization role.
    pub fn org_request(&self) -> CustomRoleRequest {
        CustomRoleRequest {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            site_permissions: Vec::new(),
            organization_permissions: self.permissions("org_perm"),
            user_permissions: Vec::new(),
            restriction: self.restriction,
            assignable_by: self.assignable_by(),
        }
    }

    /// The request for a site-wide role.
    pub fn site_request(&self) -> CustomRoleRequest {
        CustomRoleRequest {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            site_permissions: self.permissions("site_perm"),
            organization_permissions: Vec::new(),
            user_permissions: self.permissions("user_perm"),
            restriction: self.restriction,
            assignable_by: self.assignable_by(),
        }
    }
}

/// The editor as a page shows it.
pub struct Editor {
    /// Where the form posts.
    pub action: String,
    /// A new role (its name is typed in; its kind may be chosen).
    pub new: bool,
    pub name: String,
    pub display_name: String,
    pub restriction: bool,
    /// The caller may define a restriction role (owners), so a new role offers the kind.
    pub kind_choice: bool,
    pub grids: Vec<Grid>,
    /// `(role name, selected)` for owners, who set who may assign the role.
    pub assignable_by: Option<Vec<(String, bool)>>,
    /// The caller may save it (else the grid is shown read-only).
    pub editable: bool,
    /// The submit button's verb.
    pub verb: &'static str,
}

/// The `assignable_by` choices: every candidate, with those held selected.
pub fn assignable_choices(candidates: Vec<String>, selected: &[String]) -> Vec<(String, bool)> {
    candidates
        .into_iter()
        .map(|n| {
            let on = selected.iter().any(|s| s.eq_ignore_ascii_case(&n));
            (n, on)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> EditorForm {
        EditorForm::parse(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn checked_boxes_become_allows_or_denies_by_kind() {
        let additive = form(&[("name", "ops"), ("org_perm", "workspace:start")]);
        let req = additive.org_request();
        assert_eq!(req.organization_permissions.len(), 1);
        assert!(!req.organization_permissions[0].negate);
        assert_eq!(req.assignable_by, None, "absent keeps what is stored");
        let restriction = form(&[
            ("name", "no-deletes"),
            ("kind", "restriction"),
            ("org_perm", "workspace:delete"),
            ("assignable_by_shown", "1"),
        ]);
        let req = restriction.org_request();
        assert!(req.restriction && req.organization_permissions[0].negate);
        assert_eq!(req.assignable_by, Some(vec![]));
        let site = form(&[("site_perm", "user:read"), ("user_perm", "workspace:read")]);
        let req = site.site_request();
        assert_eq!((req.site_permissions.len(), req.user_permissions.len()), (1, 1));
    }

    #[test]
    fn the_grid_checks_held_permissions_and_keeps_the_rest() {
        let held = |r: &str, a: &str| ApiPermission {
            negate: false,
            resource_type: r.into(),
            action: a.into(),
        };
        let grid = Grid::new("org_perm", "x", &[held("workspace", "stop"), held("*", "delete")]);
        let ws = grid.rows.iter().find(|r| r.resource == "workspace").expect("workspace row");
        assert!(ws.cells.contains(&("stop", true)) && ws.cells.contains(&("start", false)));
        assert_eq!(grid.other, vec!["*:delete".to_owned()]);
        assert_eq!(grid.rows.len(), ResourceType::COUNT);
    }
}
