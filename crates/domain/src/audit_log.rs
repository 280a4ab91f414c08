//! `GET /audit`: rows filtered by `read` on `audit_log` like any list (coder-api.md §1.8).

use std::collections::{BTreeMap, HashMap};

use atrium_api::users::{
    AuditDiffField, AuditLog, AuditLogResponse, MinimalOrganization, User as ApiUser,
};
use atrium_engine::query::AuditQuery;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::lists::{self, AuditFilter};
use atrium_store::{OrgId, StoreError, UserId, orgs, users};

use crate::convert::time;
use crate::orgs::org_object;
use crate::users::to_api_many;
use crate::{Caller, Domain, Error, Page, Result};

/// Audit rows the caller may read, newest first, matching the search query `q`.
///
/// Authorizes `read` on `audit_log` site-wide or in any org (else 403); the rows are then
/// filtered by the caller's `read` filter. An `organization:` filter naming an org the caller
/// may not read is refused like a missing one; a row's actor is shown in full only to a
/// caller who may read that user (else only what Coder's `MinimalUser` carries).
pub async fn list(d: &Domain, caller: &Caller, q: &str, page: Page) -> Result<AuditLogResponse> {
    // Holders of `read` site-wide or in any org get in; the rows are then filtered.
    caller.require(Action::Read, &Object::of(ResourceType::AuditLog).any_organization())?;
    let query = AuditQuery::parse(q)
        .map_err(|errors| Error::invalid_query("Invalid audit search query.", errors))?;
    let organization_id = match &query.organization {
        None => None,
        Some(o) => {
            let found = orgs::get_by_id_or_name(d.store(), o).await;
            match found {
                // An org the caller may not read is answered like a missing one.
                Ok(org) if caller.can(Action::Read, &org_object(org.id)) => {
                    Some(org.id.to_string())
                }
                Ok(_) | Err(StoreError::NotFound { .. }) => {
                    return Err(Error::bad_request("Invalid audit search query.").validation(
                        "organization",
                        format!("organization \"{o}\" either does not exist, or you are unauthorized to view it"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let filter = caller.subject().list_filter_for(Action::Read);
    let listed =
        lists::audit_logs(d.store(), &AuditFilter { query, organization_id }, &filter, page)
            .await?;
    // Each row's actor and organization, loaded once per page (a fixed number of statements).
    let user_rows = {
        let ids: Vec<UserId> = listed.rows.iter().filter_map(|r| r.user_id).collect();
        users::get_many(d.store(), &ids).await?
    };
    let (readable, unreadable): (Vec<_>, Vec<_>) =
        user_rows.into_iter().partition(|u| caller.can(Action::Read, &Caller::user_object(u.id)));
    let mut actors: HashMap<UserId, ApiUser> =
        to_api_many(d, caller, &readable).await?.into_iter().map(|u| (UserId(u.id), u)).collect();
    actors.extend(unreadable.iter().map(|u| (u.id, minimal_user(u))));
    let orgs_by_id: HashMap<OrgId, MinimalOrganization> = orgs::get_many(
        d.store(),
        &listed.rows.iter().filter_map(|r| r.organization_id).collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .map(|o| {
        let minimal = MinimalOrganization {
            id: o.id.uuid(),
            name: o.name,
            display_name: o.display_name,
            icon: o.icon,
        };
        (o.id, minimal)
    })
    .collect();
    let mut out = Vec::with_capacity(listed.rows.len());
    for row in listed.rows {
        let user = row.user_id.and_then(|id| actors.get(&id).cloned());
        let organization = row.organization_id.and_then(|id| orgs_by_id.get(&id).cloned());
        let diff: BTreeMap<String, AuditDiffField> =
            serde_json::from_value(row.diff.0).unwrap_or_default();
        out.push(AuditLog {
            id: row.id.uuid(),
            request_id: row.request_id.parse().unwrap_or_default(),
            time: time(row.time),
            ip: row.ip,
            user_agent: row.user_agent,
            resource_type: row.resource_type,
            resource_id: row.resource_id.uuid(),
            resource_target: row.resource_target,
            resource_icon: String::new(),
            action: row.action,
            diff,
            status_code: row.status_code,
            additional_fields: row.additional_fields.0,
            description: String::new(),
            resource_link: String::new(),
            is_deleted: false,
            organization_id: row.organization_id.map(OrgId::uuid),
            organization,
            user,
        });
    }
    Ok(AuditLogResponse { audit_logs: out, count: listed.count })
}

/// The actor of a row for a reader who may not read that user (an org auditor, say): only
/// what Coder's `MinimalUser` carries (id, username, avatar); everything else empty.
fn minimal_user(u: &users::User) -> ApiUser {
    ApiUser {
        id: u.id.uuid(),
        username: u.username.clone(),
        name: String::new(),
        email: String::new(),
        avatar_url: u.avatar_url.clone(),
        created_at: ::time::OffsetDateTime::UNIX_EPOCH,
        updated_at: ::time::OffsetDateTime::UNIX_EPOCH,
        last_seen_at: None,
        status: String::new(),
        login_type: String::new(),
        theme_preference: String::new(),
        organization_ids: Vec::new(),
        roles: Vec::new(),
        is_service_account: false,
    }
}
