//! Following job logs as codersdk does: `GET .../logs?follow[&after=N]` upgraded to a
//! WebSocket, authenticated by the `coder_session_token` cookie, one JSON text message per
//! line, closed normally once the job ended; refused before the upgrade for a reader who may
//! not read the log or a cross-site page; cut off (1008) when the reader loses access.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;
use crate::workspaces::create_for;

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Close codes the server uses.
pub(crate) const NORMAL: u16 = 1000;
pub(crate) const POLICY: u16 = 1008;

/// Opens a log socket at `path` (with its query) the way codersdk does: the session in the
/// cookie, no header; `origin` as a browser would send it. A refused upgrade is its status and
/// JSON body.
pub(crate) async fn open_socket(
    base: &str,
    path: &str,
    by: &Client,
    origin: Option<&str>,
) -> Result<Socket, (StatusCode, Value)> {
    let url = format!("{}{path}", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    let cookie = format!("coder_session_token={}", by.token.clone().unwrap());
    request.headers_mut().insert("cookie", HeaderValue::from_str(&cookie).unwrap());
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
            Ok(socket)
        }
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
            Err((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
        }
        Err(e) => panic!("connecting to {path}: {e}"),
    }
}

/// Reads a socket until the server closes it: the lines (each one JSON text message) and the
/// close code. The 30 s bound is a safety net, not a timing assertion.
pub(crate) async fn read_all(mut socket: Socket, what: &str) -> (Vec<Value>, Option<u16>) {
    let mut lines = Vec::new();
    let mut code = None;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: the log socket is still open after 30s"));
        match next {
            Some(Ok(Message::Text(text))) => {
                lines.push(serde_json::from_str::<Value>(&text).unwrap());
            }
            Some(Ok(Message::Close(frame))) => code = frame.map(|f| u16::from(f.code)),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(other)) => panic!("{what}: unexpected message {other:?}"),
            Some(Err(e)) => panic!("{what}: {e}"),
            None => return (lines, code),
        }
    }
}

fn ids(lines: &[Value]) -> Vec<i64> {
    lines.iter().map(|l| l["id"].as_i64().unwrap()).collect()
}

/// Every message is a `ProvisionerJobLog`.
fn assert_log_shape(lines: &[Value]) {
    assert!(!lines.is_empty(), "no lines");
    for l in lines {
        assert!(l["id"].as_i64().is_some(), "{l}");
        assert!(l["created_at"].as_str().is_some(), "{l}");
        assert_eq!(l["log_source"], "provisioner", "{l}");
        assert!(l["log_level"].as_str().is_some(), "{l}");
        assert!(l["stage"].is_string() && l["output"].is_string(), "{l}");
    }
}

/// The shared checks for one log path (`/api/v2/.../logs`) readable by `reader`, refused to
/// `stranger`: the stream, `after`, the JSON array, and the refusals before the upgrade.
async fn check_log_path(s: &TestServer, path: &str, reader: &Client, stranger: &Client) {
    // A bare `follow`, as codersdk sends it: every line, then a normal close once the job ended.
    let socket = open_socket(&s.url, &format!("{path}?follow"), reader, None).await.unwrap();
    let (lines, code) = read_all(socket, path).await;
    assert_eq!(code, Some(NORMAL));
    assert_log_shape(&lines);
    // Without `follow` (or with `follow=false`): the same lines as a JSON array.
    let array = reader.get(path).await;
    assert_eq!(array.status, StatusCode::OK, "{}", array.body);
    assert_eq!(ids(array.body.as_array().unwrap()), ids(&lines));
    let r = reader.get(&format!("{path}?follow=false")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.is_array(), "{}", r.body);

    // `after` skips the lines up to that id (`follow=true` works as well as a bare `follow`).
    let first = lines[0]["id"].as_i64().unwrap();
    let query = format!("{path}?follow=true&after={first}");
    let socket = open_socket(&s.url, &query, reader, None).await.unwrap();
    let (rest, code) = read_all(socket, path).await;
    assert_eq!(code, Some(NORMAL));
    assert_eq!(ids(&rest), ids(&lines[1..]));

    // A same-site page may follow with the cookie; another site's page may not.
    let socket = open_socket(&s.url, &format!("{path}?follow"), reader, Some(&s.url)).await;
    assert_eq!(read_all(socket.unwrap(), path).await.1, Some(NORMAL));
    let refused =
        open_socket(&s.url, &format!("{path}?follow"), reader, Some("https://evil.example"))
            .await
            .err()
            .unwrap();
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "{}", refused.1);
    assert_eq!(refused.1["message"], "Cross-site request refused.");

    // A reader who may not read the log is refused before any upgrade.
    let refused = open_socket(&s.url, &format!("{path}?follow"), stranger, None).await;
    assert_eq!(refused.err().unwrap().0, StatusCode::NOT_FOUND);
    // `follow` without an upgrade is a Coder-style 400.
    let r = reader.get(&format!("{path}?follow")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.message(), "Failed to accept websocket.");
    let r = reader.get(&format!("{path}?follow&after=x")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

both_backends!(build_logs_stream_over_websockets, |s: TestServer| async move {
    let org = s.default_org;
    let template = uuid_of(&create_template(&s.owner, org, json!({})).await["id"]);
    let (member, _) = s.user_with_roles(&[]).await;
    let (stranger, _) = s.user_with_roles(&[]).await;
    let r = create_for(&member, org, "me", template, "streamed").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let build = r.body["latest_build"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v2/workspacebuilds/{build}/logs");
    check_log_path(&s, &path, &member, &stranger).await;
    // The socket closed because the job ended.
    let got = member.get(&format!("/api/v2/workspacebuilds/{build}")).await;
    assert_eq!(got.body["job"]["status"], "succeeded", "{}", got.body);
    s.stop().await;
});

both_backends!(import_logs_stream_over_websockets, |s: TestServer| async move {
    // A version in an org the stranger is not a member of.
    let (org, _) = create_org(&s).await;
    let version = import_version(&s.owner, org).await;
    let (stranger, _) = s.user_with_roles(&[]).await;
    let path = format!("/api/v2/templateversions/{version}/logs");
    check_log_path(&s, &path, &s.owner, &stranger).await;
    s.stop().await;
});

/// Uploads a module and queues its import in `org` without waiting for it.
async fn queue_import(by: &Client, org: Uuid) -> Uuid {
    let file = upload(by, module_tar()).await;
    assert_eq!(file.status, StatusCode::CREATED, "upload: {}", file.body);
    let r = by
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templateversions"),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "echo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create template version: {}", r.body);
    uuid_of(&r.body["id"])
}

both_backends!(import_followers_stop_when_their_access_ends, |s: TestServer| async move {
    let mut s = s;
    let org = s.default_org;
    let (admin, admin_user) = s.user_with_roles(&["template-admin"]).await;
    // No workers: the import stays pending, so a follow only ends when its reader loses access.
    s.restart(|c| c.provisioner_daemons = 0).await;
    let admin = Client::new(&s.url, admin.token.clone());
    let version = queue_import(&s.owner, org).await;
    let path = format!("/api/v2/templateversions/{version}/logs?follow");
    let socket = open_socket(&s.url, &path, &admin, None).await.unwrap();
    let r = s
        .owner
        .send_empty(Method::PUT, &format!("/api/v2/users/{}/status/suspend", admin_user.id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, code) = read_all(socket, "suspended reader").await;
    assert_eq!(code, Some(POLICY));
    // Only access ended the stream: the import is still pending.
    let got = s.owner.get(&format!("/api/v2/templateversions/{version}")).await;
    assert_eq!(got.body["job"]["status"], "pending", "{}", got.body);
    s.stop().await;
});
