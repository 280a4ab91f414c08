//! The OpenAPI document against what the server really sends (scripts/schemathesis checks the
//! same at scale): every operation lists the shared error statuses with Coder's body, and error
//! bodies are that JSON even where the router itself refuses a request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestServer;

const RESPONSE_REF: &str = "#/components/schemas/Response";

fn error_schema(op: &Value, status: &str) -> Option<String> {
    op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .map(str::to_owned)
}

both_backends!(every_operation_lists_the_error_responses, |s: TestServer| async move {
    let spec = s.anonymous().get("/api/v2/openapi.json").await.body;
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() > 40);
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let mut statuses = vec!["400", "401", "403", "404", "408", "500"];
            if method != "get" {
                statuses.extend(["409", "413", "415"]);
            }
            for status in statuses {
                assert_eq!(
                    error_schema(op, status).as_deref(),
                    Some(RESPONSE_REF),
                    "{method} {path} does not document {status} with Coder's body"
                );
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    !response["description"].as_str().unwrap_or_default().is_empty(),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
    // Responses a route documents itself stay (login's 429).
    let login = &spec["paths"]["/api/v2/users/login"]["post"];
    assert_eq!(error_schema(login, "429").as_deref(), Some(RESPONSE_REF));
    // Uploads are binary strings, not arrays of numbers.
    let upload =
        &spec["paths"]["/api/v2/files"]["post"]["requestBody"]["content"]["application/x-tar"];
    let name = upload["schema"]["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    let archive = &spec["components"]["schemas"][name];
    assert_eq!(archive["type"], "string", "{archive}");
    assert_eq!(archive["format"], "binary", "{archive}");
    // Followed logs are a WebSocket (101), and say so; without `follow` a JSON array.
    for path in [
        "/api/v2/workspacebuilds/{workspacebuild}/logs",
        "/api/v2/templateversions/{templateversion}/logs",
    ] {
        let logs = &spec["paths"][path]["get"];
        assert!(logs["responses"]["101"]["description"].is_string(), "{logs}");
        assert!(logs["responses"]["200"]["content"]["application/json"].is_object(), "{logs}");
    }
    // An audit diff's old and new values are any JSON (a renamed display name is a string).
    let diff = &spec["components"]["schemas"]["AuditDiffField"]["properties"];
    for side in ["old", "new"] {
        assert_ne!(diff[side]["type"], "object", "{diff}");
    }
});

// The router refused paths that do not percent-decode to UTF-8 in plain text; now they get
// Coder's JSON 400 (the test client fails on a body that is not JSON).
both_backends!(non_utf8_paths_are_json_errors, |s: TestServer| async move {
    for path in [
        "/api/v2/users/%FF",
        "/api/v2/organizations/%C3%28/members",
        "/api/v2/workspaces/%FF/builds",
        "/api/v2/users/me/keys/%FE",
    ] {
        let r = s.owner.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert_eq!(r.message(), "Invalid path.", "{path}");
    }
    let r = s.owner.send(Method::PUT, "/api/v2/users/%FF/profile", &json!({"username": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Valid UTF-8, escaped or not, still reaches the route.
    let r = s.owner.get("/api/v2/users/%E2%9C%93").await;
    assert_eq!(r.message(), "\"user\" must be an existing uuid or username.", "{}", r.body);
    assert_eq!(s.owner.get("/api/v2/users/me").await.status, StatusCode::OK);
    s.stop().await;
});
