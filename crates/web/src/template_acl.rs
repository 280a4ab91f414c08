//! A template's permissions (its ACL, rbac.md §7.1): the groups and users granted `use` or
//! `admin` on it besides their roles. Those who may update the template see the entries;
//! those who may change them ([`offers::template`]'s `edit_acl`, as the domain's ACL update
//! decides) get one form: a role per entry (Use, Admin or Remove) and a grantee to add, saved
//! together with Save.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::templates::UpdateTemplateAcl;
use atrium_domain::offers;
use atrium_domain::{template_acl, templates};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::session::{Chrome, Signed};
use crate::template_page::TemplateView;

pub fn routes() -> Router<WebState> {
    Router::new().route("/templates/{template}/permissions", get(page).post(save))
}

/// One ACL entry: a group or a user, with its role.
pub struct Entry {
    /// `group:<id>` or `user:<id>`: the form field that carries its role.
    pub key: String,
    pub label: String,
    pub kind: &'static str,
    /// `use`, `admin`, or `""` for an action set that is neither (kept unless changed).
    pub role: String,
}

/// A group or user that could be added.
pub struct Grantee {
    pub key: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "template_acl.html")]
struct AclPage {
    chrome: Chrome,
    template: TemplateView,
    entries: Vec<Entry>,
    groups: Vec<Grantee>,
    users: Vec<Grantee>,
    editable: bool,
    why: Vec<String>,
    notice: Option<String>,
    problem: Option<Problem>,
}

fn group_label(name: &str, display_name: &str) -> String {
    if display_name.is_empty() { name.to_owned() } else { display_name.to_owned() }
}

async fn acl_page(
    state: &WebState,
    signed: &Signed,
    template: &str,
    notice: Option<String>,
    problem: Option<Problem>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let t = templates::get(state, caller, template).await.map_err(fail)?;
    let acl = template_acl::get(state, caller, template).await.map_err(fail)?;
    let offers = offers::template(state, caller, template).await.map_err(fail)?;
    let editable = offers.edit_acl.allowed();
    let mut entries: Vec<Entry> = acl
        .groups
        .iter()
        .map(|g| Entry {
            key: format!("group:{}", g.group.id),
            label: group_label(&g.group.name, &g.group.display_name),
            kind: "group",
            role: g.role.clone(),
        })
        .collect();
    entries.extend(acl.users.iter().map(|u| Entry {
        key: format!("user:{}", u.user.id),
        label: u.user.username.clone(),
        kind: "user",
        role: u.role.clone(),
    }));
    let (mut groups, mut users) = (Vec::new(), Vec::new());
    if editable {
        let available = template_acl::available(state, caller, template).await.map_err(fail)?;
        let listed = |key: &str| entries.iter().any(|e| e.key == key);
        for g in available.groups {
            let key = format!("group:{}", g.id);
            if !listed(&key) {
                groups.push(Grantee { key, label: group_label(&g.name, &g.display_name) });
            }
        }
        for u in available.users {
            let key = format!("user:{}", u.id);
            if !listed(&key) {
                users.push(Grantee { key, label: u.username });
            }
        }
    }
    Ok(AclPage {
        chrome: signed.chrome("templates"),
        template: TemplateView::new(&t),
        entries,
        groups,
        users,
        editable,
        why: offers.edit_acl.reasons().to_vec(),
        notice,
        problem,
    }
    .into_response())
}

async fn page(
    State(state): State<WebState>,
    signed: Signed,
    Path(template): Path<String>,
) -> PageResult {
    acl_page(&state, &signed, &template, None, None).await
}

/// The ACL change a submitted form asks for: `group:<id>` / `user:<id>` fields carry an
/// entry's role (`use`, `admin`, or `remove`; `keep` leaves an entry that is neither as it
/// is), and `add` with `add_role` grants a new one.
fn requested_change(form: &[(String, String)]) -> UpdateTemplateAcl {
    let mut user_perms = BTreeMap::new();
    let mut group_perms = BTreeMap::new();
    let mut put = |key: &str, role: &str| {
        let role = match role {
            "use" | "admin" => role,
            "remove" => "",
            _ => return,
        };
        if let Some(id) = key.strip_prefix("group:") {
            group_perms.insert(id.to_owned(), role.to_owned());
        } else if let Some(id) = key.strip_prefix("user:") {
            user_perms.insert(id.to_owned(), role.to_owned());
        }
    };
    let mut add = None;
    let mut add_role = "use".to_owned();
    for (key, value) in form {
        match key.as_str() {
            "add" if !value.is_empty() => add = Some(value.clone()),
            "add_role" => add_role = value.clone(),
            _ => put(key, value),
        }
    }
    if let Some(add) = add {
        put(&add, &add_role);
    }
    UpdateTemplateAcl { user_perms, group_perms }
}

/// Save: applies the form's roles, removals and new grant in one ACL update.
async fn save(
    State(state): State<WebState>,
    signed: Signed,
    Path(template): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let req = requested_change(&form);
    match template_acl::update(&state, &signed.caller, &template, req).await {
        Ok(_) => {
            acl_page(&state, &signed, &template, Some("Permissions saved.".into()), None).await
        }
        Err(e) => {
            let status = crate::errors::status_of(&e);
            let page = acl_page(&state, &signed, &template, None, Some(Problem::of(e))).await?;
            Ok((status, page).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_form_becomes_one_acl_change() {
        let change = requested_change(&pairs(&[
            ("group:g1", "remove"),
            ("user:u1", "admin"),
            ("user:u2", "keep"),
            ("add", "group:g2"),
            ("add_role", "use"),
        ]));
        assert_eq!(change.group_perms.get("g1").map(String::as_str), Some(""));
        assert_eq!(change.group_perms.get("g2").map(String::as_str), Some("use"));
        assert_eq!(change.user_perms.get("u1").map(String::as_str), Some("admin"));
        assert!(!change.user_perms.contains_key("u2"));
        // Nothing to add, and an unknown role, change nothing.
        let none = requested_change(&pairs(&[("add", ""), ("user:u3", "owner")]));
        assert!(none.user_perms.is_empty() && none.group_perms.is_empty());
    }
}
