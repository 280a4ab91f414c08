//! A refused request says why (issue 15, item 7): its audit row carries the engine's reasons
//! in `additional_fields.reasons`, and the server logs them with the refusal.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestServer;
use crate::common::logs::captured_logs;
use crate::fixtures::{create_template, uuid_of};

both_backends!(
    a_refused_write_is_audited_and_logged_with_the_engines_reasons,
    |s: TestServer| async move {
        let logs = captured_logs();
        let template = create_template(&s.owner, s.default_org, json!({})).await;
        let id = uuid_of(&template["id"]);
        let (member, _) = s.user_with_roles(&[]).await;
        // Members read and use the template through the Everyone group, but may not edit it.
        let r = member
            .send(Method::PATCH, &format!("/api/v2/templates/{id}"), &json!({"description": "x"}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(!r.body.to_string().contains("reasons"), "reasons are not sent to the client");
        let rows: Value =
            s.owner.get_json(&format!("/api/v2/audit?q=resource_id:{id}%20action:write")).await;
        let refused = rows["audit_logs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["status_code"] == 403)
            .unwrap_or_else(|| panic!("no refused row: {rows}"))
            .clone();
        let reasons =
            refused["additional_fields"]["reasons"].as_array().cloned().unwrap_or_default();
        assert!(!reasons.is_empty(), "the refused row carries no reasons: {refused}");
        let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        let first = reasons[0].as_str().unwrap();
        assert!(text.contains("request refused") && text.contains(first), "not logged: {first}");
    }
);
