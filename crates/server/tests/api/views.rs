//! Views are batched: a page of N objects costs the same number of SQL statements whatever N is
//! (issue 15, item 6). Each list is read twice — a page of 25 and a page of 100 (or a small and
//! a large list where there is no paging) — by probed requests whose statements are counted
//! from the log ([`crate::common::logs`]); the two counts must be equal.

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::both_backends;
use crate::common::logs::{count_statements, statements};
use crate::common::{Client, TestServer, unique};
use crate::fixtures::{create_group, create_template, patch_group, uuid_of};

/// The statements `path` (with `?` or `&` already in it as needed) costs as `by`.
async fn cost(by: &Client, path: &str) -> u64 {
    let probe = unique("probe");
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = by.get(&format!("{path}{sep}statement_probe={probe}")).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    let n = statements(&probe);
    assert!(n > 0, "no statements counted for {path}: is the counter installed?");
    n
}

/// Creates `n` users (no password: cheap) in the default organization; returns their ids.
async fn users(s: &TestServer, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let name = unique("v");
        let r = s
            .owner
            .send(
                Method::POST,
                "/api/v2/users",
                &json!({"email": format!("{name}@example.com"), "username": name,
                        "login_type": "none", "organization_ids": [s.default_org]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create user: {}", r.body);
        ids.push(uuid_of(&r.body["id"]));
    }
    ids
}

/// Asserts the two costs are equal, naming the view.
fn same(view: &str, small: u64, large: u64) {
    assert_eq!(
        small, large,
        "{view}: {small} statements for the small page, {large} for the large"
    );
}

both_backends!(
    a_page_of_users_members_or_audit_rows_costs_a_fixed_number_of_statements,
    |s: TestServer| async move {
        count_statements();
        users(&s, 100).await;
        let org = s.default_org;
        same(
            "users",
            cost(&s.owner, "/api/v2/users?limit=25").await,
            cost(&s.owner, "/api/v2/users?limit=100").await,
        );
        same(
            "members",
            cost(&s.owner, &format!("/api/v2/organizations/{org}/members?limit=25")).await,
            cost(&s.owner, &format!("/api/v2/organizations/{org}/members?limit=100")).await,
        );
        same(
            "audit",
            cost(&s.owner, "/api/v2/audit?limit=25").await,
            cost(&s.owner, "/api/v2/audit?limit=100").await,
        );
    }
);

both_backends!(a_list_of_groups_costs_a_fixed_number_of_statements, |s: TestServer| async move {
    count_statements();
    let members = users(&s, 40).await;
    let org = s.default_org;
    let list = format!("/api/v2/organizations/{org}/groups");
    let mut group = None;
    for _ in 0..2 {
        let r = create_group(&s.owner, org, &unique("g")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        group = Some(uuid_of(&r.body["id"]));
    }
    let group = group.unwrap();
    // One member first (an empty id list costs no statement at all).
    let r = patch_group(&s.owner, group, &json!({"add_users": [members[0]]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let small = cost(&s.owner, &list).await;
    let small_one = cost(&s.owner, &format!("/api/v2/groups/{group}")).await;
    // Many more groups, and one of them with many members.
    for _ in 0..20 {
        let r = create_group(&s.owner, org, &unique("g")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = patch_group(&s.owner, group, &json!({"add_users": members[1..]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    same("groups", small, cost(&s.owner, &list).await);
    same("group", small_one, cost(&s.owner, &format!("/api/v2/groups/{group}")).await);
});

both_backends!(
    a_page_of_workspaces_costs_a_fixed_number_of_statements,
    |s: TestServer| async move {
        count_statements();
        let org = s.default_org;
        let template = create_template(&s.owner, org, json!({})).await;
        let template_id = uuid_of(&template["id"]);
        // Owned by several users, so owners and initiators differ across the page.
        let owners = users(&s, 4).await;
        for i in 0..100 {
            let owner = owners[i % owners.len()];
            let r = s
                .owner
                .send(
                    Method::POST,
                    &format!("/api/v2/organizations/{org}/members/{owner}/workspaces"),
                    &json!({"name": format!("w{i}"), "template_id": template_id}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "create workspace: {}", r.body);
        }
        same(
            "workspaces",
            cost(&s.owner, "/api/v2/workspaces?limit=25").await,
            cost(&s.owner, "/api/v2/workspaces?limit=100").await,
        );
    }
);
