//! Audit rows: one per state-changing request — successes in the same transaction as the
//! change, refusals and failures on their own — with secrets redacted from the diff.

use atrium_store::{Db, DbTime, JsonText, OrgId, UserId, UserStatus, audit, users};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Domain;
use crate::caller::{Caller, RequestMeta};
use crate::error::{Error, Result};

/// Fields whose values never reach the audit log.
const SECRET_FIELDS: &[&str] = &["hashed_password", "password", "hashed_secret", "old_password"];

/// What a request did, filled in as the handler learns it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: Uuid,
    pub resource_target: String,
    pub org: Option<OrgId>,
    pub diff: Value,
    pub additional_fields: Value,
    /// Who acted (`None` for unauthenticated requests such as a failed login).
    pub user: Option<UserId>,
}

impl Entry {
    pub fn new(action: &'static str, resource_type: &'static str) -> Self {
        Entry {
            action,
            resource_type,
            resource_id: Uuid::nil(),
            resource_target: String::new(),
            org: None,
            diff: json!({}),
            additional_fields: json!({}),
            user: None,
        }
    }

    pub fn by(mut self, actor: &Caller) -> Self {
        self.user = Some(actor.id());
        self
    }

    pub fn resource(&mut self, id: Uuid, target: impl Into<String>) -> &mut Self {
        self.resource_id = id;
        self.resource_target = target.into();
        self
    }

    /// Records the change between two JSON views of the resource.
    pub fn changed(&mut self, old: &Value, new: &Value) -> &mut Self {
        self.diff = diff(old, new);
        self
    }
}

/// `{field: {old, new, secret}}` for every field that differs; secret fields carry no values.
pub fn diff(old: &Value, new: &Value) -> Value {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (a, b) = (old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null));
        if a == b {
            continue;
        }
        let secret = SECRET_FIELDS.contains(&key.as_str());
        let (a, b) = if secret { (Value::Null, Value::Null) } else { (a.clone(), b.clone()) };
        out.insert(key.clone(), json!({"old": a, "new": b, "secret": secret}));
    }
    Value::Object(out)
}

/// Writes the row (inside the caller's transaction when given one).
pub async fn write(
    db: impl Into<Db<'_>>,
    meta: &RequestMeta,
    entry: &Entry,
    status: u16,
) -> Result<(), atrium_store::StoreError> {
    audit::insert(
        db,
        &audit::AuditLog {
            id: atrium_store::AuditLogId::new_v4(),
            time: DbTime::now(),
            user_id: entry.user,
            organization_id: entry.org,
            ip: meta.ip.to_string(),
            user_agent: meta.user_agent.clone(),
            resource_type: entry.resource_type.to_owned(),
            resource_id: atrium_store::ResourceId(entry.resource_id),
            resource_target: entry.resource_target.clone(),
            action: entry.action.to_owned(),
            diff: JsonText(entry.diff.clone()),
            status_code: i32::from(status),
            request_id: meta.request_id.to_string(),
            additional_fields: JsonText(entry.additional_fields.clone()),
        },
    )
    .await
}

/// Audits a refused or failed request (its own write; the change itself was rolled back), then
/// passes the result through.
pub async fn finish<T>(
    state: &Domain,
    meta: &RequestMeta,
    entry: &Entry,
    result: Result<T>,
) -> Result<T> {
    if let Err(e) = &result {
        refused(state, meta, entry, e).await;
    }
    result
}

/// Audits a refused or failed request on its own, with the engine's reasons when it has them.
pub async fn refused(state: &Domain, meta: &RequestMeta, entry: &Entry, error: &Error) {
    let mut entry = entry.clone();
    if !error.reasons.is_empty()
        && let Some(fields) = entry.additional_fields.as_object_mut()
    {
        fields.insert("reasons".into(), json!(error.reasons));
    }
    if let Err(write_error) = write(&state.store, meta, &entry, error.status()).await {
        tracing::error!(error = %write_error, "cannot audit a refused request");
    }
}

/// Flips a dormant user to active on use, with its audit row (Coder audits the flip). The flip
/// is conditional on the user still being dormant: of concurrent requests (on any replica)
/// exactly one changes the row and audits it, and a suspension that landed after `user` was
/// read is never overwritten. Returns the user as it now is (the caller refuses non-active
/// users; a user deleted meanwhile is `NotFound`).
pub async fn reactivate_dormant(
    state: &Domain,
    user: &users::User,
    meta: &RequestMeta,
) -> Result<users::User> {
    let mut tx = state.store.begin().await?;
    let flipped = users::update_status_from(
        &mut tx,
        user.id,
        UserStatus::Dormant,
        UserStatus::Active,
        DbTime::now(),
    )
    .await?;
    let Some(updated) = flipped else {
        tx.rollback().await?;
        let current = users::get(&state.store, user.id).await?;
        if current.deleted {
            return Err(atrium_store::StoreError::NotFound { entity: "user" }.into());
        }
        return Ok(current);
    };
    let mut entry = Entry::new("write", "user");
    entry.user = Some(user.id);
    entry.resource(user.id.uuid(), user.username.clone());
    entry.changed(&json!({"status": "dormant"}), &json!({"status": "active"}));
    write(&mut tx, meta, &entry, 200).await?;
    tx.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_changed_added_and_removed_fields_only() {
        let old = json!({"name": "a", "same": 1, "gone": true});
        let new = json!({"name": "b", "same": 1, "added": [1]});
        assert_eq!(
            diff(&old, &new),
            json!({
                "name": {"old": "a", "new": "b", "secret": false},
                "gone": {"old": true, "new": null, "secret": false},
                "added": {"old": null, "new": [1], "secret": false},
            })
        );
        assert_eq!(diff(&old, &old), json!({}));
        // Non-objects diff as empty objects.
        assert_eq!(diff(&json!(null), &json!("x")), json!({}));
    }

    #[test]
    fn secret_fields_carry_no_values() {
        let secret = SECRET_FIELDS[0];
        let d = diff(&json!({ secret: "old-value" }), &json!({ secret: "new-value" }));
        assert_eq!(d, json!({ secret: {"old": null, "new": null, "secret": true} }));
    }
}
