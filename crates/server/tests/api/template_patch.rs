//! `PATCH /templates/{id}` as codersdk's `UpdateTemplateMeta` sends it: the fields Atrium
//! stores (name, display name, description, icon, Everyone's access) are applied and returned;
//! the settings it does not store (scheduling, dormancy, deprecation, port sharing, ...) are
//! accepted at the value the template reports or at Go's zero value, and refused with a 400
//! naming the field otherwise — never silently ignored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

both_backends!(
    template_patch_applies_what_it_stores_and_refuses_the_rest,
    |s: TestServer| async move {
        let org = s.default_org;
        let template = create_template(&s.owner, org, json!({})).await;
        let id = template["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v2/templates/{id}");
        // The settings form sends every field back as the template reported it.
        let mut body = json!({"name": unique("renamed"), "display_name": "Renamed",
        "description": "Now described", "icon": "/icon/code.svg",
        "update_workspace_last_used_at": false, "update_workspace_dormant_at": false,
        "disable_everyone_group_access": false});
        for field in [
            "default_ttl_ms",
            "activity_bump_ms",
            "autostop_requirement",
            "autostart_requirement",
            "allow_user_autostart",
            "allow_user_autostop",
            "allow_user_cancel_workspace_jobs",
            "failure_ttl_ms",
            "time_til_dormant_ms",
            "time_til_dormant_autodelete_ms",
            "require_active_version",
            "deprecation_message",
            "max_port_share_level",
            "use_classic_parameter_flow",
        ] {
            body[field] = template[field].clone();
        }
        let r = s.owner.send(Method::PATCH, &path, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for field in ["name", "display_name", "description", "icon"] {
            assert_eq!(r.body[field], body[field], "{field}: {}", r.body);
        }
        let got = s.owner.get(&path).await;
        assert_eq!(got.body["description"], "Now described");

        // Go's zero values (left out by codersdk, so absent to Coder too) are fine; a nil list is [].
        let r = s
        .owner
        .send(
            Method::PATCH,
            &path,
            &json!({"default_ttl_ms": 0, "allow_user_autostart": false, "deprecation_message": "",
                    "autostop_requirement": {"days_of_week": null, "weeks": 1},
                    "update_workspace_last_used_at": false, "update_workspace_dormant_at": false,
                    "disable_everyone_group_access": false}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // A change Atrium cannot make is refused, naming each field, and nothing else changes.
        let r = s
            .owner
            .send(
                Method::PATCH,
                &path,
                &json!({"description": "not applied", "default_ttl_ms": 3_600_000,
                    "deprecation_message": "use another", "require_active_version": true,
                    "cors_behavior": "passthru"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        let mut fields: Vec<&str> = r.body["validations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap())
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["cors_behavior", "default_ttl_ms", "deprecation_message", "require_active_version"]
        );
        assert_eq!(s.owner.get(&path).await.body["description"], "Now described");
        let r = s.owner.send(Method::PATCH, &path, &json!({"cors_behavior": "simple"})).await;
        assert_eq!(r.status, StatusCode::OK, "Coder's default is accepted: {}", r.body);

        // Everyone's access is stored: disabling it drops the Everyone group from the ACL.
        let r = s
            .owner
            .send(Method::PATCH, &path, &json!({"disable_everyone_group_access": true}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let acl = template_acl(&s.owner, uuid_of(&Value::from(id))).await;
        assert!(!ids(&acl["group"]).contains(&org), "{acl}");
        s.stop().await;
    }
);
