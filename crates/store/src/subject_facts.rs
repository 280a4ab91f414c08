//! Everything an engine subject is built from, for one user, in one round trip: stored site
//! roles, org memberships with their roles, and group memberships. Read on every
//! authenticated request, so it is one `UNION ALL` rather than four queries.

use crate::db::{Db, on_conn};
use crate::error::StoreError;
use crate::id::{GroupId, OrgId, UserId};

/// A user's stored role and group facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectFacts {
    pub site_roles: Vec<String>,
    /// Member orgs (sorted) with their stored org roles (sorted).
    pub memberships: Vec<(OrgId, Vec<String>)>,
    pub groups: Vec<GroupId>,
}

const FACTS: &str = "SELECT 'site' AS kind, role_name AS a, '' AS b FROM user_site_roles WHERE user_id = $1 \
     UNION ALL SELECT 'member', org_id, '' FROM organization_members WHERE user_id = $1 \
     UNION ALL SELECT 'org_role', org_id, role_name FROM organization_member_roles WHERE user_id = $1 \
     UNION ALL SELECT 'group', group_id, '' FROM group_members WHERE user_id = $1 \
     ORDER BY 1, 2, 3";

/// Reads a user's facts.
pub async fn load(db: impl Into<Db<'_>>, user: UserId) -> Result<SubjectFacts, StoreError> {
    let mut conn = db.into().conn().await?;
    let rows: Vec<(String, String, String)> =
        on_conn!(conn, |c| sqlx::query_as(FACTS).bind(user).fetch_all(c).await)?;
    let mut facts = SubjectFacts::default();
    for (kind, a, b) in rows {
        match kind.as_str() {
            "site" => facts.site_roles.push(a),
            "member" => {
                if let Ok(org) = a.parse::<OrgId>() {
                    facts.memberships.push((org, Vec::new()));
                }
            }
            "org_role" => {
                // Rows are ordered by kind, so every membership is known by now.
                if let Ok(org) = a.parse::<OrgId>()
                    && let Some(m) = facts.memberships.iter_mut().find(|m| m.0 == org)
                {
                    m.1.push(b);
                }
            }
            "group" => {
                if let Ok(g) = a.parse::<GroupId>() {
                    facts.groups.push(g);
                }
            }
            _ => {}
        }
    }
    Ok(facts)
}
