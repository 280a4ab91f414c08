//! Builders for rows the tests need. Names carry a unique suffix.

use atrium_store::orgs::{self, NewOrg, Organization};
use atrium_store::templates::{self, NewTemplate, NewTemplateVersion, Template, TemplateVersion};
use atrium_store::users::{self, NewUser, User};
use atrium_store::workspaces::{self, NewWorkspace, Workspace};
use atrium_store::{
    Db, DbTime, JobId, JobKind, LoginType, OrgId, TemplateId, TemplateVersionId, UserId,
    UserStatus, WorkspaceId, jobs,
};

use crate::common::unique;

pub async fn user(db: impl Into<Db<'_>>, name: &str) -> User {
    let username = unique(name);
    let email = format!("{username}@example.com");
    users::insert(
        db,
        &NewUser {
            id: UserId::new_v4(),
            username: &username,
            email: &email,
            name: "",
            avatar_url: "",
            hashed_password: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
            login_type: LoginType::Password,
            status: UserStatus::Active,
            created_at: DbTime::now(),
            is_service_account: false,
        },
    )
    .await
    .unwrap()
}

pub async fn org(db: impl Into<Db<'_>>, name: &str) -> Organization {
    let name = unique(name);
    orgs::insert(
        db,
        &NewOrg {
            id: OrgId::new_v4(),
            name: &name,
            display_name: &name,
            description: "",
            icon: "",
            is_default: false,
            created_at: DbTime::now(),
        },
    )
    .await
    .unwrap()
}

pub async fn job(db: impl Into<Db<'_>>, org: OrgId, initiator: UserId, kind: JobKind) -> JobId {
    jobs::insert(
        db,
        &jobs::NewJob {
            id: JobId::new_v4(),
            org_id: org,
            initiator_id: initiator,
            kind,
            provisioner: "terraform",
            file_id: None,
            input: &serde_json::json!({}),
            created_at: DbTime::now(),
        },
    )
    .await
    .unwrap()
    .id
}

/// A template with one active version.
pub async fn template(
    store: &atrium_store::Store,
    org: OrgId,
    creator: UserId,
    name: &str,
) -> (Template, TemplateVersion) {
    let job = job(store, org, creator, JobKind::TemplateVersionImport).await;
    let version = templates::insert_version(
        store,
        &NewTemplateVersion {
            id: TemplateVersionId::new_v4(),
            template_id: None,
            org_id: org,
            name: "v1",
            message: "",
            readme: "",
            job_id: job,
            file_id: None,
            created_by: creator,
            created_at: DbTime::now(),
        },
    )
    .await
    .unwrap();
    let name = unique(name);
    let template = templates::insert(
        store,
        &NewTemplate {
            id: TemplateId::new_v4(),
            org_id: org,
            name: &name,
            display_name: "",
            description: "",
            icon: "",
            active_version_id: Some(version.id),
            created_by: creator,
            created_at: DbTime::now(),
        },
    )
    .await
    .unwrap();
    let version = templates::get_version(store, version.id).await.unwrap();
    (template, version)
}

pub async fn workspace(
    db: impl Into<Db<'_>>,
    owner: UserId,
    org: OrgId,
    template: TemplateId,
    name: &str,
) -> Workspace {
    workspaces::insert(
        db,
        &NewWorkspace {
            id: WorkspaceId::new_v4(),
            owner_id: owner,
            org_id: org,
            template_id: template,
            name,
            created_at: DbTime::now(),
        },
    )
    .await
    .unwrap()
}
