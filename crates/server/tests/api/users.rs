//! Users: create, list, filter, get, profile, password, delete, suspend/activate, roles.

use atrium_api::users::{GetUsersResponse, User};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::*;

async fn create(s: &TestServer, body: serde_json::Value) -> Reply {
    s.owner.send(Method::POST, "/api/v2/users", &body).await
}

both_backends!(create_user_joins_default_org_and_starts_dormant, |s: TestServer| async move {
    let name = unique("alice");
    let r = create(
        &s,
        json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let user: User = r.json();
    assert_eq!(user.status, "dormant");
    assert_eq!(user.login_type, "password");
    assert_eq!(user.organization_ids, [s.default_org]);
    // The nil UUID (Coder's UI default) also means the default org.
    let name2 = unique("bob");
    let r = create(
        &s,
        json!({"email": format!("{name2}@example.com"), "username": name2, "password": PASSWORD,
               "organization_ids": ["00000000-0000-0000-0000-000000000000"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json::<User>().organization_ids, [s.default_org]);
    // Headless account: no password.
    let bot = unique("bot");
    let r = create(
        &s,
        json!({"email": format!("{bot}@example.com"), "username": bot, "login_type": "none"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json::<User>().login_type, "none");
    let r = create(&s, json!({"email": "x@example.com", "username": unique("x"), "login_type": "none", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "Password cannot be set for non-password (\"none\") authentication.");
    s.stop().await;
});

both_backends!(create_user_refusals_change_nothing, |s: TestServer| async move {
    let name = unique("carol");
    let email = format!("{name}@example.com");
    assert_eq!(
        create(&s, json!({"email": email, "username": name, "password": PASSWORD})).await.status,
        StatusCode::CREATED
    );
    let before: GetUsersResponse = s.owner.get_json("/api/v2/users").await;

    let dup = create(&s, json!({"email": format!("other{email}"), "username": name.to_uppercase(), "password": PASSWORD})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.message(), "User already exists.");
    let dup_email = create(
        &s,
        json!({"email": email.to_uppercase(), "username": unique("d"), "password": PASSWORD}),
    )
    .await;
    assert_eq!(dup_email.status, StatusCode::CONFLICT);
    let weak =
        create(&s, json!({"email": "w@example.com", "username": unique("w"), "password": "short"}))
            .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.message(), "Password not strong enough!");
    let bad_type = create(
        &s,
        json!({"email": "t@example.com", "username": unique("t"), "login_type": "github"}),
    )
    .await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad_type.message(),
        "Unsupported login type \"github\" for manually creating new users."
    );
    let no_org = create(
        &s,
        json!({"email": "o@example.com", "username": unique("o"), "password": PASSWORD,
               "organization_ids": ["11111111-1111-1111-1111-111111111111"]}),
    )
    .await;
    assert_eq!(no_org.status, StatusCode::NOT_FOUND);
    assert_eq!(
        no_org.message(),
        "Organization does not exist with the provided id \"11111111-1111-1111-1111-111111111111\"."
    );
    let missing =
        create(&s, json!({"email": "", "username": unique("m"), "password": PASSWORD})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["validations"][0]["field"], "email");

    let (member, _) = s.user_with_roles(&[]).await;
    let forbidden = member
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": "f@example.com", "username": unique("f"), "password": PASSWORD}),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{}", forbidden.body);

    let after: GetUsersResponse = s.owner.get_json("/api/v2/users").await;
    assert_eq!(after.count, before.count + 1, "only the member fixture was added");
    s.stop().await;
});

both_backends!(list_filter_and_page_users, |s: TestServer| async move {
    let (_, admin) = s.user_with_roles(&["user-admin"]).await;
    let mut names = Vec::new();
    for _ in 0..3 {
        let name = unique("page");
        create(
            &s,
            json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}),
        )
        .await;
        names.push(name);
    }
    let all: GetUsersResponse = s.owner.get_json("/api/v2/users").await;
    assert_eq!(all.count, 5);
    assert_eq!(all.users.len(), 5);
    let page: GetUsersResponse = s.owner.get_json("/api/v2/users?limit=2&offset=1").await;
    assert_eq!(page.users.len(), 2);
    assert_eq!(page.count, 5);
    assert_eq!(page.users[0].id, all.users[1].id);

    let active: GetUsersResponse = s.owner.get_json("/api/v2/users?q=status:active").await;
    // The owner and the user-admin logged in; the three others are dormant.
    assert_eq!(active.count, 2);
    let owners: GetUsersResponse = s.owner.get_json("/api/v2/users?q=role:owner").await;
    assert_eq!(owners.users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["owner"]);
    let admins: GetUsersResponse = s.owner.get_json("/api/v2/users?q=role:user-admin").await;
    assert_eq!(admins.users[0].id, admin.id);
    let search: GetUsersResponse =
        s.owner.get_json(&format!("/api/v2/users?q={}", names[1].to_uppercase())).await;
    assert_eq!(search.count, 1);
    let q = urlencode("status:active last_seen_before:\"2023-07-01T00:00:00Z\"");
    let old: GetUsersResponse = s.owner.get_json(&format!("/api/v2/users?q={q}")).await;
    assert_eq!(old.count, 0);
    let q = urlencode(
        "status:dormant,active created_after:\"2023-07-01T00:00:00Z\" login_type:password",
    );
    let recent: GetUsersResponse = s.owner.get_json(&format!("/api/v2/users?q={q}")).await;
    assert_eq!(recent.count, 5);

    let bad = s.owner.get("/api/v2/users?q=status:sleepy%20colour:red").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.message(), "Invalid user search query.");
    let fields: Vec<&str> = bad.body["validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "colour"]);

    // A plain member sees only themself.
    let (member, me) = s.user_with_roles(&[]).await;
    let mine: GetUsersResponse = member.get_json("/api/v2/users").await;
    assert_eq!(mine.count, 1);
    assert_eq!(mine.users[0].id, me.id);
    s.stop().await;
});

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

both_backends!(get_update_profile_and_password, |s: TestServer| async move {
    let (member, me) = s.user_with_roles(&[]).await;
    for path in [
        format!("/api/v2/users/{}", me.id),
        format!("/api/v2/users/{}", me.username),
        "/api/v2/users/me".into(),
    ] {
        let u: User = member.get_json(&path).await;
        assert_eq!(u.id, me.id);
    }
    let bad = member.get("/api/v2/users/not-a-user").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.message(), "\"user\" must be an existing uuid or username.");

    let new_name = unique("renamed");
    let r = member
        .send(
            Method::PUT,
            "/api/v2/users/me/profile",
            &json!({"username": new_name, "name": "Renamed Person"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json::<User>().name, "Renamed Person");
    let clash =
        member.send(Method::PUT, "/api/v2/users/me/profile", &json!({"username": "owner"})).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(clash.body["validations"][0]["field"], "username");

    // Changing the password revokes every session of that user.
    let other_session = s.anonymous().login(&me.email, PASSWORD).await;
    let wrong = member
        .send(
            Method::PUT,
            "/api/v2/users/me/password",
            &json!({"old_password": "nope", "password": "AnotherSecret!42"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.message(), "Old password is incorrect.");
    let ok = member
        .send(
            Method::PUT,
            "/api/v2/users/me/password",
            &json!({"old_password": PASSWORD, "password": "AnotherSecret!42"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert_eq!(member.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(other_session.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    s.anonymous().login(&me.email, "AnotherSecret!42").await;
    s.stop().await;
});

both_backends!(suspend_activate_and_delete, |s: TestServer| async move {
    let (member, me) = s.user_with_roles(&[]).await;
    let own = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", s.owner_id))
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    assert_eq!(own.message(), "You cannot suspend yourself.");
    let (_, other_owner) = s.user_with_roles(&["owner"]).await;
    let r = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", other_owner.id))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.message(),
        "You cannot suspend a user with the \"owner\" role. You must remove the role first."
    );

    let r =
        s.owner.send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", me.id)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json::<User>().status, "suspended");
    // The very next request with an existing token is refused.
    let refused = member.get("/api/v2/users/me").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.message(),
        "User is not active (status = \"suspended\"). Contact an admin to reactivate your account."
    );
    let login = s
        .anonymous()
        .send(
            Method::POST,
            "/api/v2/users/login",
            &json!({"email": me.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login.message(),
        "Your account is suspended. Contact an admin to reactivate your account."
    );

    let r =
        s.owner.send_empty(Method::PUT, &format!("/api/v2/users/{}/status/activate", me.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json::<User>().status, "active");
    assert_eq!(member.get("/api/v2/users/me").await.status, StatusCode::OK);

    let me_del = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/{}", s.owner_id)).await;
    assert_eq!(me_del.status, StatusCode::FORBIDDEN);
    assert_eq!(me_del.message(), "You cannot delete yourself!");
    let del = s.owner.send_empty(Method::DELETE, &format!("/api/v2/users/{}", me.id)).await;
    assert_eq!(del.status, StatusCode::OK, "{}", del.body);
    assert_eq!(
        s.owner.get(&format!("/api/v2/users/{}", me.id)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(member.get("/api/v2/users/me").await.status, StatusCode::UNAUTHORIZED);
    // The username is free again.
    let again = s
        .owner
        .send(
            Method::POST,
            "/api/v2/users",
            &json!({"email": me.email, "username": me.username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    s.stop().await;
});

both_backends!(site_roles_follow_the_assignment_rules, |s: TestServer| async move {
    let (user_admin, ua) = s.user_with_roles(&["user-admin"]).await;
    let (_, target) = s.user_with_roles(&[]).await;
    let path = format!("/api/v2/users/{}/roles", target.id);
    let r =
        s.owner.send(Method::PUT, &path, &json!({"roles": ["auditor", "template-admin"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut names: Vec<String> = r.json::<User>().roles.into_iter().map(|r| r.name).collect();
    names.sort();
    assert_eq!(names, ["auditor", "template-admin"]);
    let roles = s.owner.get(&path).await;
    assert_eq!(roles.status, StatusCode::OK);
    assert_eq!(roles.body["organization_roles"][s.default_org.to_string()], json!([]));

    let r = user_admin.send(Method::PUT, &path, &json!({"roles": ["owner"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "not authorized to assign role \"owner\"");
    let r = s.owner.send(Method::PUT, &path, &json!({"roles": ["organization-admin"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "Must only update site wide roles");
    let r = s.owner.send(Method::PUT, &path, &json!({"roles": ["wizard"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "\"wizard\" is not a supported role");
    let r = user_admin
        .send(Method::PUT, &format!("/api/v2/users/{}/roles", ua.id), &json!({"roles": []}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.message(), "You cannot change your own roles.");
    let (member, _) = s.user_with_roles(&[]).await;
    let r = member.send(Method::PUT, &path, &json!({"roles": ["auditor"]})).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a member cannot even read the target: {}",
        r.body
    );
    // Nothing changed.
    let after: User = s.owner.get_json(&format!("/api/v2/users/{}", target.id)).await;
    assert_eq!(after.roles.len(), 2);

    let listed = user_admin.get("/api/v2/users/roles").await;
    assert_eq!(listed.status, StatusCode::OK);
    let roles = listed.body.as_array().unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["owner", "template-admin", "user-admin", "auditor"]);
    assert!(roles.iter().all(|r| r["assignable"] == false && r["built_in"] == true));
    let owner_view = s.owner.get("/api/v2/users/roles").await;
    assert!(owner_view.body.as_array().unwrap().iter().all(|r| r["assignable"] == true));
    s.stop().await;
});
