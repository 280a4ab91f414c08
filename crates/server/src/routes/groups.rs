//! Groups (coder-api.md §1.5). Each org has an implicit Everyone group whose id is the org id:
//! it holds every member, and cannot be renamed, edited or deleted.

use atrium_api::Response as Message;
use atrium_api::orgs::{CreateGroupRequest, Group, PatchGroupRequest, ReducedUser};
use atrium_engine::name::validate_name;
use atrium_engine::{Action, ActionSet, Object, ResourceType, Wild};
use atrium_store::lists;
use atrium_store::{DbTime, GroupId, GroupSource, OrgId, StoreError, UserId, groups, orgs, users};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::convert::time;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::routes::orgs::resolve_org;
use crate::validate;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_org_groups, create_group))
        .routes(routes!(get_group_by_name))
        .routes(routes!(list_groups))
        .routes(routes!(get_group, patch_group, delete_group))
}

const EVERYONE: &str = "Everyone";

/// A group as the engine sees it: members of a group may read it (rbac.md §7.3); for the
/// Everyone group the entry is keyed by the org id, so every member reads it.
pub fn with_group_object<T>(group: GroupId, org: OrgId, f: impl FnOnce(&Object<'_>) -> T) -> T {
    let acl = [(group.uuid(), [Wild::Is(Action::Read)].into_iter().collect::<ActionSet>())];
    let object = Object::of(ResourceType::Group)
        .with_id(group.uuid())
        .in_org(org.uuid())
        .with_group_acl(&acl);
    f(&object)
}

/// A group (stored, or the synthesized Everyone group).
struct Resolved {
    id: GroupId,
    org: orgs::Organization,
    row: Option<groups::Group>,
}

impl Resolved {
    fn is_everyone(&self) -> bool {
        self.row.is_none()
    }
    fn name(&self) -> &str {
        self.row.as_ref().map_or(EVERYONE, |g| g.name.as_str())
    }
}

/// A user in Coder's `ReducedUser` shape.
pub fn reduced(u: &users::User) -> ReducedUser {
    ReducedUser {
        id: u.id.uuid(),
        username: u.username.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        avatar_url: u.avatar_url.clone(),
        created_at: time(u.created_at),
        updated_at: time(u.updated_at),
        last_seen_at: u.last_seen_at.map(time),
        status: u.status.as_str().to_owned(),
        login_type: u.login_type.as_str().to_owned(),
        theme_preference: String::new(),
    }
}

/// A group's member ids: a stored group's rows, or every member of the org for its Everyone
/// group (`row` is `None`).
async fn member_ids(
    state: &Shared,
    org: OrgId,
    row: Option<&groups::Group>,
) -> ApiResult<Vec<UserId>> {
    Ok(match row {
        Some(r) => groups::list_members(state.legacy_store(), r.id).await?,
        None => orgs::list_members(state.legacy_store(), org)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect(),
    })
}

/// A group membership as the engine sees it: owned by the member, in the group's org
/// (rbac.md §2, `group_member`).
pub fn group_member_object(org: OrgId, user: UserId) -> Object<'static> {
    Object::of(ResourceType::GroupMember)
        .with_id(user.uuid())
        .with_owner(user.uuid())
        .in_org(org.uuid())
}

/// The wire group (a stored one, or the org's Everyone group when `row` is `None`) as `actor`
/// may see it. As Coder's dbauthz: `members` is post-filtered by `read` on each membership (a
/// plain member sees only themselves), while `total_member_count` counts every live member
/// (Coder counts them once the group itself is readable).
pub async fn api_group_for(
    state: &Shared,
    actor: &Actor,
    org: &orgs::Organization,
    id: GroupId,
    row: Option<&groups::Group>,
) -> ApiResult<Group> {
    let ids = member_ids(state, org.id, row).await?;
    let mut members = Vec::new();
    let mut total: i64 = 0;
    for id in ids {
        match users::get(state.legacy_store(), id).await {
            Ok(u) if !u.deleted => {
                total += 1;
                if actor.can(Action::Read, &group_member_object(org.id, u.id)) {
                    members.push(reduced(&u));
                }
            }
            Ok(_) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (display_name, avatar_url, quota, source) = match row {
        Some(r) => (
            r.display_name.clone(),
            r.avatar_url.clone(),
            i64::from(r.quota_allowance),
            r.source.as_str(),
        ),
        None => (String::new(), String::new(), 0, "user"),
    };
    Ok(Group {
        id: id.uuid(),
        name: row.map_or(EVERYONE, |g| g.name.as_str()).to_owned(),
        display_name,
        organization_id: org.id.uuid(),
        organization_name: org.name.clone(),
        organization_display_name: org.display_name.clone(),
        total_member_count: total,
        members,
        avatar_url,
        quota_allowance: quota,
        source: source.to_owned(),
    })
}

async fn api_group(state: &Shared, actor: &Actor, g: &Resolved) -> ApiResult<Group> {
    api_group_for(state, actor, &g.org, g.id, g.row.as_ref()).await
}

/// Loads a group by id (the org id means its Everyone group) with a read check → 404.
async fn resolve_group(state: &Shared, actor: &Actor, param: &str) -> ApiResult<Resolved> {
    let Ok(id) = param.parse::<GroupId>() else { return Err(ApiError::not_found()) };
    let resolved = match groups::get(state.legacy_store(), id).await {
        Ok(row) => {
            Resolved { id, org: orgs::get(state.legacy_store(), row.org_id).await?, row: Some(row) }
        }
        Err(StoreError::NotFound { .. }) => {
            match orgs::get(state.legacy_store(), OrgId(id.uuid())).await {
                Ok(org) => Resolved { id, org, row: None },
                Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let readable = with_group_object(resolved.id, resolved.org.id, |o| actor.can(Action::Read, o));
    if readable { Ok(resolved) } else { Err(ApiError::not_found()) }
}

async fn readable_groups(
    state: &Shared,
    actor: &Actor,
    org: orgs::Organization,
) -> ApiResult<Vec<Resolved>> {
    let mut out = Vec::new();
    let everyone = GroupId::everyone(org.id);
    if with_group_object(everyone, org.id, |o| actor.can(Action::Read, o)) {
        out.push(Resolved { id: everyone, org: org.clone(), row: None });
    }
    let filter = actor.subject.list_filter(Action::Read, ResourceType::Group);
    for row in lists::groups(state.legacy_store(), org.id, &filter).await? {
        out.push(Resolved { id: row.id, org: org.clone(), row: Some(row) });
    }
    Ok(out)
}

/// The org's groups the caller may read, Everyone first.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/groups", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = Vec<Group>)))]
async fn list_org_groups(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &param).await?;
    let mut out = Vec::new();
    for g in readable_groups(&state, &actor, org).await? {
        out.push(api_group(&state, &actor, &g).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// Groups across orgs: `?organization=<id|name>&has_member=<id|username>`.
#[utoipa::path(get, path = "/api/v2/groups", tag = "Enterprise",
    params(("organization" = Option<String>, Query), ("has_member" = Option<String>, Query)),
    responses((status = 200, body = Vec<Group>)))]
async fn list_groups(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let invalid = |field: &str, detail: String| {
        ApiError::bad_request("Query parameters have invalid values.").validation(field, detail)
    };
    let orgs_to_list = match params.single("organization")? {
        Some(o) => vec![resolve_org(&state, &actor, o).await.map_err(|_| {
            invalid(
                "organization",
                format!(
                    "Query param \"organization\" has invalid value: organization \"{o}\" not found"
                ),
            )
        })?],
        None => {
            let filter = actor.subject.list_filter(Action::Read, ResourceType::Organization);
            lists::organizations(state.legacy_store(), &filter).await?
        }
    };
    let member = match params.single("has_member")? {
        None => None,
        Some(m) => {
            // A user the caller may not read is answered like a missing one.
            let found =
                users::get_by_id_or_username(state.legacy_store(), m).await.ok().filter(|u| {
                    !u.deleted && actor.can(Action::Read, &atrium_domain::Caller::user_object(u.id))
                });
            Some(found.ok_or_else(|| invalid("has_member", format!("Query param \"has_member\" has invalid value: user \"{m}\" not found")))?.id)
        }
    };
    let mut out = Vec::new();
    for org in orgs_to_list {
        for g in readable_groups(&state, &actor, org).await? {
            if let Some(user) = member
                && !member_ids(&state, g.org.id, g.row.as_ref()).await?.contains(&user)
            {
                continue;
            }
            out.push(api_group(&state, &actor, &g).await?);
        }
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// A group by org and name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/groups/{groupName}", tag = "Enterprise",
    params(("organization" = String, Path), ("groupName" = String, Path)), responses((status = 200, body = Group)))]
async fn get_group_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &org).await?;
    let id = if name == EVERYONE {
        GroupId::everyone(org.id)
    } else {
        match groups::get_by_name(state.legacy_store(), org.id, &name).await {
            Ok(g) => g.id,
            Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
            Err(e) => return Err(e.into()),
        }
    };
    let g = resolve_group(&state, &actor, &id.to_string()).await?;
    Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?))
}

/// A group by id.
#[utoipa::path(get, path = "/api/v2/groups/{group}", tag = "Enterprise",
    params(("group" = String, Path)), responses((status = 200, body = Group)))]
async fn get_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let g = resolve_group(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?))
}

fn check_group_name(name: &str) -> ApiResult<()> {
    if name == EVERYONE {
        return Err(ApiError::bad_request("Invalid group name.")
            .validation("name", "\"Everyone\" is a reserved group name"));
    }
    if name.is_empty() {
        return Err(ApiError::required("name"));
    }
    validate_name(name).map_err(|_| ApiError::tag_failed("name", "group_name", name))
}

/// Creates a group in the org.
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/groups", tag = "Enterprise",
    request_body = CreateGroupRequest, params(("organization" = String, Path)),
    responses((status = 201, body = Group), (status = 409, body = Message)))]
async fn create_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CreateGroupRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "group").by(&actor);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(&state, &actor, &param).await?;
        entry.org = Some(org.id);
        actor.require(Action::Create, &Object::of(ResourceType::Group).in_org(org.id.uuid()))?;
        check_group_name(&req.name)?;
        validate::display_name("display_name", &req.display_name)?;
        validate::icon_url("avatar_url", &req.avatar_url)?;
        let quota = i32::try_from(req.quota_allowance).map_err(|_| {
            ApiError::bad_request("Validation failed.")
                .validation("quota_allowance", "out of range")
        })?;
        let mut tx = state.legacy_store().begin().await?;
        let row = groups::insert(
            &mut tx,
            &groups::NewGroup {
                id: GroupId::new_v4(),
                org_id: org.id,
                name: &req.name,
                display_name: &req.display_name,
                avatar_url: &req.avatar_url,
                quota_allowance: quota,
                source: GroupSource::User,
                created_at: DbTime::now(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => {
                ApiError::conflict(format!("A group named \"{}\" already exists.", req.name))
                    .validation("name", "Group names must be unique")
            }
            e => e.into(),
        })?;
        entry.resource(row.id.uuid(), row.name.clone());
        entry.changed(&json!({}), &json!({"name": row.name, "display_name": row.display_name}));
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        let g = Resolved { id: row.id, org, row: Some(row) };
        Ok(json_response(StatusCode::CREATED, &api_group(&state, &actor, &g).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

fn parse_user_ids(list: &[String]) -> ApiResult<Vec<UserId>> {
    list.iter()
        .map(|s| {
            s.parse::<UserId>().map_err(|_| {
                ApiError::bad_request(format!("ID \"{s}\" must be a valid user UUID."))
            })
        })
        .collect()
}

/// Renames a group or adds and removes members (user ids; they must be org members).
#[utoipa::path(patch, path = "/api/v2/groups/{group}", tag = "Enterprise", request_body = PatchGroupRequest,
    params(("group" = String, Path)), responses((status = 200, body = Group), (status = 400, body = Message)))]
async fn patch_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<PatchGroupRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "group").by(&actor);
    let result = async {
        let g = resolve_group(&state, &actor, &param).await?;
        entry.resource(g.id.uuid(), g.name().to_owned());
        entry.org = Some(g.org.id);
        if !with_group_object(g.id, g.org.id, |o| actor.can(Action::Update, o)) {
            return Err(ApiError::forbidden());
        }
        let Some(row) = &g.row else {
            if !req.add_users.is_empty() || !req.remove_users.is_empty() {
                return Err(ApiError::forbidden_with("Cannot add or remove users from the \"Everyone\" group!"));
            }
            if !req.name.is_empty() && req.name != EVERYONE {
                return Err(ApiError::bad_request("Cannot rename the \"Everyone\" group!"));
            }
            if req.display_name.as_deref().is_some_and(|d| !d.is_empty()) {
                return Err(ApiError::bad_request("Cannot update the Display Name for the \"Everyone\" group!"));
            }
            return Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?));
        };
        if req.name == EVERYONE {
            return Err(ApiError::bad_request("\"Everyone\" is a reserved group name!"));
        }
        validate::display_name("display_name", req.display_name.as_deref().unwrap_or_default())?;
        validate::icon_url("avatar_url", req.avatar_url.as_deref().unwrap_or_default())?;
        if !req.name.is_empty() && req.name != row.name {
            check_group_name(&req.name)?;
        }
        let add = parse_user_ids(&req.add_users)?;
        let remove = parse_user_ids(&req.remove_users)?;
        let current = groups::list_members(state.legacy_store(), row.id).await?;
        for (i, user) in add.iter().enumerate() {
            if current.contains(user) || add[..i].contains(user) {
                return Err(ApiError::bad_request("Cannot add the same user to a group twice!"));
            }
            match orgs::get_member(state.legacy_store(), g.org.id, *user).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Err(ApiError::bad_request(format!("User must be a member of organization \"{}\"", g.org.name)));
                }
                Err(e) => return Err(e.into()),
            }
        }
        if remove.iter().any(|u| !current.contains(u)) {
            return Err(ApiError::bad_request("Failed to add or remove non-existent group member"));
        }
        let quota = match req.quota_allowance {
            Some(q) => i32::try_from(q).map_err(|_| {
                ApiError::bad_request("Validation failed.").validation("quota_allowance", "out of range")
            })?,
            None => row.quota_allowance,
        };
        let name = if req.name.is_empty() { row.name.clone() } else { req.name.clone() };
        let update = groups::GroupUpdate {
            name: &name,
            display_name: req.display_name.as_deref().unwrap_or(&row.display_name),
            avatar_url: req.avatar_url.as_deref().unwrap_or(&row.avatar_url),
            quota_allowance: quota,
        };
        let mut tx = state.legacy_store().begin().await?;
        let updated = groups::update(&mut tx, row.id, &update, DbTime::now()).await.map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::conflict(format!("A group with name \"{name}\" already exists.")),
            e => e.into(),
        })?;
        // Membership is decided again under a lock inside the transaction: a removal from the
        // org racing this update must not leave the user in the group.
        for user in &add {
            groups::add_member(&mut tx, row.id, *user).await.map_err(|e| match e {
                StoreError::NotFound { entity: "organization member" } => {
                    ApiError::bad_request(format!("User must be a member of organization \"{}\"", g.org.name))
                }
                e => e.into(),
            })?;
        }
        for user in &remove {
            groups::remove_member(&mut tx, row.id, *user).await?;
        }
        entry.changed(
            &json!({"name": row.name, "display_name": row.display_name, "members": current}),
            &json!({"name": updated.name, "display_name": updated.display_name,
                    "members": current.iter().chain(&add).filter(|u| !remove.contains(u)).collect::<Vec<_>>()}),
        );
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        let g = Resolved { id: updated.id, org: g.org.clone(), row: Some(updated) };
        Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Deletes a group (never Everyone).
#[utoipa::path(delete, path = "/api/v2/groups/{group}", tag = "Enterprise",
    params(("group" = String, Path)), responses((status = 200, body = Message)))]
async fn delete_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "group").by(&actor);
    let result = async {
        let g = resolve_group(&state, &actor, &param).await?;
        entry.resource(g.id.uuid(), g.name().to_owned());
        entry.org = Some(g.org.id);
        if !with_group_object(g.id, g.org.id, |o| actor.can(Action::Delete, o)) {
            return Err(ApiError::forbidden());
        }
        if g.is_everyone() {
            return Err(ApiError::bad_request(
                "\"Everyone\" is a reserved group and cannot be deleted!",
            ));
        }
        let mut tx = state.legacy_store().begin().await?;
        groups::delete(&mut tx, g.id).await?;
        entry.changed(&json!({"name": g.name()}), &json!({}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("Successfully deleted group!")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
