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

// The security scheme tells the truth: every operation the document secures answers 401 to a
// request without a token, and none it leaves public does (path parameters are a well-formed
// id that names nothing; the session is checked before the path and the body).
both_backends!(exactly_the_secured_operations_need_a_session, |s: TestServer| async move {
    let spec = s.anonymous().get("/api/v2/openapi.json").await.body;
    for carrier in ["CoderSessionToken", "CoderSessionCookie", "CoderSessionQuery"] {
        assert!(spec["components"]["securitySchemes"][carrier].is_object(), "{carrier}");
    }
    let anonymous = s.anonymous();
    let mut public = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if !segment.starts_with('{') {
                    segment
                } else if segment.contains("number") {
                    "1"
                } else {
                    "7c1d9a9e-3b4f-4c8e-9a51-2f0c5d6e7a8b"
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let request = anonymous.request(method.to_uppercase().parse().unwrap(), &concrete);
            let request = if method == "get" { request } else { request.json(&json!({})) };
            let status = request.send().await.unwrap().status();
            assert_eq!(
                status == StatusCode::UNAUTHORIZED,
                secured,
                "{method} {path}: {status} without a token, documented as {}",
                if secured { "secured" } else { "public" }
            );
            if !secured {
                public.push(format!("{method} {path}"));
            }
        }
    }
    assert_eq!(public.len(), 7, "{public:?}");
});

// Fields with a closed set of values are enums in the document (they are strings in the JSON).
both_backends!(closed_value_sets_are_enums, |s: TestServer| async move {
    let spec = s.anonymous().get("/api/v2/openapi.json").await.body;
    let schemas = &spec["components"]["schemas"];
    let enum_of = |schema: &str, field: &str| -> Vec<String> {
        let property = &schemas[schema]["properties"][field];
        let target = property["$ref"]
            .as_str()
            .or_else(|| property["oneOf"][0]["$ref"].as_str())
            .unwrap_or_else(|| panic!("{schema}.{field} is not a reference: {property}"));
        let name = target.rsplit('/').next().unwrap();
        let values = schemas[name]["enum"].as_array().unwrap_or_else(|| panic!("{name}"));
        values.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(enum_of("User", "status"), ["active", "dormant", "suspended"]);
    assert_eq!(enum_of("User", "login_type"), ["password", "github", "oidc", "token", "none"]);
    assert_eq!(enum_of("CreateWorkspaceBuildRequest", "transition"), ["start", "stop", "delete"]);
    assert!(enum_of("WorkspaceBuild", "status").contains(&"deleting".to_owned()));
    assert_eq!(
        enum_of("ProvisionerJob", "status"),
        ["pending", "running", "succeeded", "canceling", "canceled", "failed"]
    );
});
