//! Signing in through an OpenID Connect identity provider, after the server has checked the
//! provider's answer (code exchange, ID-token signature, audience, expiry, nonce): Coder's
//! rules for the claims (email, verification, domain, allowed groups, signups, login type),
//! the account the identity maps to (linked by `<issuer>||<sub>`, else by email, else created),
//! and the session. Sign-ins in flight live in the database, so any replica finishes them.

use serde_json::{Map, Value, json};

use atrium_engine::name::validate_name;
use atrium_store::{DbTime, LoginType, StoreError, UserId, UserStatus, oidc, orgs, users};

use crate::audit::{self, Entry};
use crate::auth::{Session, create_session};
use crate::users::user_json;
use crate::{Domain, Error, Kind, RequestMeta, Result, tokens};

/// How long a sign-in may take between leaving for the provider and coming back.
const STATE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// A sign-in in flight, as the server started it.
#[derive(Clone, Debug)]
pub struct PendingLogin {
    pub pkce_verifier: String,
    pub nonce: String,
    /// Where to send the browser afterwards (a path on this server).
    pub redirect: String,
}

/// What the provider vouched for: its issuer, the subject, and the claims of the ID token
/// merged with the userinfo answer.
#[derive(Clone, Debug)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub claims: Map<String, Value>,
}

/// Saves a sign-in in flight under `state` (kept hashed). Needs no caller.
pub async fn begin(d: &Domain, state: &str, pending: &PendingLogin) -> Result<()> {
    let row = oidc::LoginState {
        state_hash: tokens::hash_secret(state),
        pkce_verifier: pending.pkce_verifier.clone(),
        nonce: pending.nonce.clone(),
        redirect: pending.redirect.clone(),
        expires_at: DbTime::now() + STATE_LIFETIME,
    };
    oidc::insert_state(d.store(), &row).await?;
    Ok(())
}

/// Takes the sign-in in flight saved under `state`: once only, and not after it expired.
pub async fn take(d: &Domain, state: &str) -> Result<PendingLogin> {
    let row = oidc::take_state(d.store(), &tokens::hash_secret(state)).await?;
    match row {
        Some(r) if r.expires_at > DbTime::now() => Ok(PendingLogin {
            pkce_verifier: r.pkce_verifier,
            nonce: r.nonce,
            redirect: r.redirect,
        }),
        _ => Err(Error::new(
            Kind::Unauthorized,
            "The sign-in expired or was already used. Please sign in again.",
        )),
    }
}

/// Signs in the person the provider vouched for and returns their session. Needs no caller;
/// audited as `login` (`register` when the account is new).
pub async fn sign_in(d: &Domain, meta: &RequestMeta, id: &Identity) -> Result<Session> {
    let mut entry = Entry::new("login", "api_key");
    let result = sign_in_inner(d, meta, id, &mut entry).await;
    audit::finish(d, meta, &entry, result).await
}

async fn sign_in_inner(
    d: &Domain,
    meta: &RequestMeta,
    id: &Identity,
    entry: &mut Entry,
) -> Result<Session> {
    let cfg = &d.config.oidc;
    if id.subject.is_empty() {
        return Err(Error::bad_request(
            "OIDC token missing 'sub' claim field or 'sub' claim field is empty.",
        ));
    }
    let claim_str = |field: &str| id.claims.get(field).and_then(Value::as_str).unwrap_or("");
    let mut username = claim_str(&cfg.oidc_username_field).to_owned();
    let email = match id.claims.get(&cfg.oidc_email_field) {
        Some(Value::String(e)) => e.clone(),
        Some(other) => {
            return Err(Error::bad_request(format!(
                "Email in OIDC payload isn't a string. Got: {other}"
            )));
        }
        // Providers often send the email as the preferred username (coder#4472).
        None if crate::validate::email(&username).is_ok() => username.clone(),
        None => return Err(Error::bad_request("No email found in OIDC payload!")),
    };
    if id.claims.get("email_verified") == Some(&Value::Bool(false))
        && !cfg.oidc_ignore_email_verified
    {
        return Err(Error::forbidden_with(format!(
            "Verify the \"{email}\" email address on your OIDC provider to authenticate!"
        )));
    }
    if validate_name(&username).is_err() {
        if username.is_empty() {
            username.clone_from(&email);
        }
        username = username_from(&username);
    }
    if !cfg.oidc_email_domain.is_empty() {
        let domain = email.rsplit_once('@').map(|(_, d)| d);
        let allowed = domain.is_some_and(|dom| {
            cfg.oidc_email_domain
                .iter()
                .any(|a| a.trim_start_matches('@').eq_ignore_ascii_case(dom))
        });
        if !allowed {
            return Err(Error::forbidden_with(format!(
                "Your email \"{email}\" is not from an authorized domain! Please contact your administrator."
            )));
        }
    }
    check_allowed_groups(d, &id.claims)?;

    let linked_id = format!("{}||{}", id.issuer, id.subject);
    let existing = find_linked_user(d, &linked_id, &email).await?;
    if let Some(u) = &existing {
        entry.user = Some(u.id);
        entry.resource_target = u.username.clone();
        if u.login_type != LoginType::Oidc {
            return Err(Error::forbidden_with("Incorrect login type").detail(format!(
                "Attempting to use login type \"oidc\", but the user has the login type \"{}\".",
                u.login_type.as_str()
            )));
        }
    }
    let user_count = users::count(d.store()).await?;
    if existing.is_none() && !(cfg.oidc_allow_signups || user_count == 0) {
        return Err(Error::forbidden_with("Signups are disabled")
            .detail("Please contact your administrator to request access."));
    }
    let now = DbTime::now();
    let mut tx = d.store().begin().await?;
    let mut user = match existing {
        Some(u) => u,
        None => {
            entry.action = "register";
            let name = claim_str(&cfg.oidc_name_field).trim().chars().take(128).collect::<String>();
            let username = free_username(&mut tx, &username).await?;
            let user = users::insert(
                &mut tx,
                &users::NewUser {
                    id: UserId::new_v4(),
                    username: &username,
                    email: &email,
                    name: &name,
                    avatar_url: "",
                    hashed_password: None,
                    login_type: LoginType::Oidc,
                    status: UserStatus::Active,
                    created_at: now,
                    is_service_account: false,
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Unique { .. } => Error::conflict("User already exists."),
                e => e.into(),
            })?;
            // The very first account of a deployment owns it, as with password setup.
            let roles: &[&str] = if user_count == 0 { &["owner"] } else { &[] };
            if !roles.is_empty() {
                users::set_site_roles(&mut tx, user.id, roles, now).await?;
            }
            let default_org = default_org(&mut tx, now).await?;
            orgs::add_member(&mut tx, default_org.id, user.id, now).await?;
            let mut created = Entry::new("create", "user");
            created.user = Some(user.id);
            created.resource(user.id.uuid(), user.username.clone());
            let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
            created.changed(&json!({}), &user_json(&user, &roles));
            created.additional_fields = json!({"login_type": "oidc", "linked_id": linked_id});
            audit::write(&mut tx, meta, &created, 201).await?;
            entry.user = Some(user.id);
            entry.resource_target = user.username.clone();
            user
        }
    };
    oidc::upsert_link(
        &mut tx,
        &oidc::UserLink {
            user_id: user.id,
            login_type: LoginType::Oidc,
            linked_id,
            claims: Value::Object(id.claims.clone()).to_string(),
            updated_at: now,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Unique { .. } => {
            Error::conflict("This identity is already linked to another account.")
        }
        e => e.into(),
    })?;
    sync_site_roles(&mut tx, meta, &user, &id.claims, cfg).await?;
    crate::idp_sync_apply::sync_at_sign_in(&mut tx, meta, &user, &id.claims, cfg).await?;
    tx.commit().await?;
    if user.status == UserStatus::Dormant {
        user = audit::reactivate_dormant(d, &user, meta).await?;
    }
    if user.status == UserStatus::Suspended {
        return Err(Error::new(
            Kind::Unauthorized,
            "Your account is suspended. Contact an admin to reactivate your account.",
        ));
    }
    let lifetime = d.config.session_duration;
    let mut tx = d.store().begin().await?;
    let token = create_session(&mut tx, user.id, LoginType::Oidc, lifetime, "", "all").await?;
    users::update_last_seen(&mut tx, user.id, DbTime::now()).await?;
    entry.resource_id = user.id.uuid();
    audit::write(&mut tx, meta, &*entry, 201).await?;
    tx.commit().await?;
    Ok(Session { token, lifetime })
}

/// The default organization, created (with its Everyone group) when the deployment's first
/// account arrives through the provider, as password setup does.
async fn default_org(tx: &mut atrium_store::Tx<'_>, now: DbTime) -> Result<orgs::Organization> {
    match orgs::get_default(&mut *tx).await {
        Ok(org) => Ok(org),
        Err(StoreError::NotFound { .. }) => Ok(orgs::insert(
            &mut *tx,
            &orgs::NewOrg {
                id: atrium_store::OrgId::new_v4(),
                name: "coder",
                display_name: "Coder",
                description: "The default organization.",
                icon: "",
                is_default: true,
                created_at: now,
            },
        )
        .await?),
        Err(e) => Err(e.into()),
    }
}

/// Site role sync (`--oidc-user-role-field`): the user's site roles become the mapped claim
/// values plus the defaults, as Coder's legacy role sync does; unknown names are dropped. The
/// deployment's last owner keeps the owner role. The change is audited as the system, naming
/// the claim.
async fn sync_site_roles(
    tx: &mut atrium_store::Tx<'_>,
    meta: &RequestMeta,
    user: &users::User,
    claims: &Map<String, Value>,
    cfg: &crate::oidc_config::OidcConfig,
) -> Result<()> {
    let field = &cfg.oidc_user_role_field;
    if field.is_empty() {
        return Ok(());
    }
    let values = claim_strings(claims.get(field));
    let custom = atrium_store::site_roles::list(&mut *tx).await?;
    let known = |n: &str| {
        ["owner", "user-admin", "template-admin", "auditor"].contains(&n)
            || custom.iter().any(|r| r.name == n)
    };
    let mut wanted: Vec<String> = cfg.oidc_user_role_default.clone();
    for v in &values {
        match cfg.oidc_user_role_mapping.get(v) {
            Some(mapped) => wanted.extend(mapped.iter().cloned()),
            None => wanted.push(v.clone()),
        }
    }
    wanted.retain(|r| known(r));
    let current = users::get_site_roles(&mut *tx, user.id).await?;
    let owner = "owner".to_owned();
    if current.contains(&owner)
        && !wanted.contains(&owner)
        && users::count_active_owners_except(&mut *tx, user.id).await? == 0
    {
        wanted.push(owner);
    }
    wanted.sort();
    wanted.dedup();
    if wanted == current {
        return Ok(());
    }
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    users::set_site_roles(&mut *tx, user.id, &names, DbTime::now()).await?;
    let mut entry = Entry::new("write", "user");
    entry.resource(user.id.uuid(), user.username.clone());
    entry.changed(&json!({"roles": current}), &json!({"roles": wanted}));
    entry.additional_fields =
        json!({"idp_sync": "site_roles", "claim": field, "claim_values": values});
    audit::write(&mut *tx, meta, &entry, 200).await?;
    Ok(())
}

/// `--oidc-allowed-groups`: the group claim must name one of them (Coder's texts).
fn check_allowed_groups(d: &Domain, claims: &Map<String, Value>) -> Result<()> {
    let cfg = &d.config.oidc;
    if cfg.oidc_allowed_groups.is_empty() {
        return Ok(());
    }
    let groups = claim_strings(claims.get(&cfg.oidc_group_field));
    if groups.is_empty() {
        return Err(Error::forbidden_with("Not a member of an allowed group")
            .detail("You have no groups in your claims!"));
    }
    if !groups.iter().any(|g| cfg.oidc_allowed_groups.contains(g)) {
        return Err(Error::forbidden_with("Not a member of an allowed group")
            .detail("Ask an administrator to add one of your groups to the allow list."));
    }
    Ok(())
}

/// A claim as a list of strings: an array of strings, or one string.
pub fn claim_strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The live user linked to this identity, else the live user with this email.
async fn find_linked_user(d: &Domain, linked_id: &str, email: &str) -> Result<Option<users::User>> {
    if let Some(link) = oidc::link_by_linked_id(d.store(), linked_id).await? {
        let user = users::get(d.store(), link.user_id).await?;
        if !user.deleted {
            return Ok(Some(user));
        }
    }
    match users::get_by_email(d.store(), email).await {
        Ok(u) => Ok(Some(u)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A valid username from a claim (Coder's `UsernameFrom`): the part before `@`, only letters,
/// digits and single inner hyphens, at most 32 characters; `user` if nothing is left.
pub fn username_from(raw: &str) -> String {
    let base = raw.rsplit_once('@').map_or(raw, |(local, _)| local);
    let mut out = String::new();
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    let mut out: String = out.chars().take(32).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if validate_name(&out).is_ok() { out } else { "user".to_owned() }
}

/// `wanted` if no live user has it, else `wanted-<4 random characters>` (ten tries, as Coder).
async fn free_username(tx: &mut atrium_store::Tx<'_>, wanted: &str) -> Result<String> {
    let taken = |r: std::result::Result<users::User, StoreError>| match r {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(Error::from(e)),
    };
    if !taken(users::get_by_username(&mut *tx, wanted).await)? {
        return Ok(wanted.to_owned());
    }
    for _ in 0..10 {
        let suffix = tokens::generate().map_err(Error::internal)?.id.to_lowercase();
        let base: String = wanted.chars().take(27).collect();
        let candidate = format!("{}-{}", base.trim_end_matches('-'), &suffix[..4]);
        if !taken(users::get_by_username(&mut *tx, &candidate).await)? {
            return Ok(candidate);
        }
    }
    Err(Error::conflict(format!("exhausted alternatives for taken username \"{wanted}\"")))
}

/// `--disable-password-auth` must not lock the owners out: refused while OIDC is off, or while
/// users exist but no active owner signs in through the identity provider (a fresh deployment
/// is fine: its first OIDC sign-in becomes the owner).
pub async fn check_password_auth_safety(d: &Domain) -> Result<()> {
    if !d.config.oidc.disable_password_auth {
        return Ok(());
    }
    if !d.config.oidc.enabled() {
        return Err(Error::bad_request(
            "--disable-password-auth needs --oidc-issuer-url: nobody could sign in.",
        ));
    }
    if users::count(d.store()).await? > 0 && !oidc::an_owner_signs_in_with_oidc(d.store()).await? {
        return Err(Error::bad_request(
            "--disable-password-auth would lock every owner out: no active owner signs in through \
             the identity provider. Create one (atrium users create --login-type oidc, then give \
             it the owner role) and start again.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_from_claims() {
        assert_eq!(username_from("alice@example.com"), "alice");
        assert_eq!(username_from("Alice.Liddell@example.com"), "Alice-Liddell");
        assert_eq!(username_from("a__b--c"), "a-b-c");
        assert_eq!(username_from("-x-"), "x");
        assert_eq!(username_from("@@@"), "user");
        assert_eq!(username_from(&"x".repeat(40)).len(), 32);
    }
}
