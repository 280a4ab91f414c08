//! A provisioner job's log as Coder serves it (`GET .../logs`), for workspace builds and
//! template version imports alike:
//!
//! - without `follow`: the lines so far (after line id `after`), as a JSON array;
//! - with `follow` (bare, as codersdk sends it, or a true boolean): a WebSocket upgrade. Each
//!   line is one JSON text message (`ProvisionerJobLog`); the server closes with 1000 (normal)
//!   once the job has ended and every line was sent, 1008 (policy) when the reader lost access
//!   (re-judged every [`atrium_domain::job_logs::FOLLOW_RECHECK`]), 1011 on an internal error.
//!   It pings every [`HEARTBEAT`], as Coder's server does.
//!
//! Authorization happens before the upgrade (an unreadable log is a plain 404). codersdk sends
//! the session in the `coder_session_token` cookie on the socket; the cross-site guard
//! (`crate::guard`) refuses such an upgrade from another site's page.

use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::QueryParams;
use atrium_domain::job_logs::{Follow, JobLog};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// How often the server pings an open log socket.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// How long the server waits for the client's close reply before dropping the connection.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The upgrade a `follow` request asked for (or why it is not one).
pub type Upgrade = Result<WebSocketUpgrade, WebSocketUpgradeRejection>;

/// Whether `follow` is asked: present without a value (`?follow`, Coder only checks presence)
/// or a true boolean; `follow=false` reads the lines so far.
pub fn wants_follow(params: &QueryParams) -> ApiResult<bool> {
    match params.0.get("follow").map(Vec::as_slice) {
        None | Some([]) => Ok(false),
        Some([v]) if v.is_empty() => Ok(true),
        _ => Ok(params.bool("follow")?.unwrap_or(false)),
    }
}

/// The log's answer: the lines so far, or (with `follow`) the socket that streams them.
pub async fn respond(
    state: &crate::Shared,
    log: JobLog,
    after: i64,
    params: &QueryParams,
    upgrade: Upgrade,
) -> ApiResult<Response> {
    if !wants_follow(params)? {
        return Ok(json_response(StatusCode::OK, &log.lines(&state.domain, after).await?));
    }
    let ws = upgrade.map_err(|rejection| {
        ApiError::bad_request("Failed to accept websocket.")
            .detail(format!("Following a log needs a WebSocket upgrade: {}", rejection.body_text()))
    })?;
    let follow = log.follow(state.domain.clone(), after);
    Ok(ws.on_upgrade(move |socket| stream(socket, follow)).into_response())
}

enum Event {
    Batch(Option<atrium_domain::Result<Vec<atrium_api::templates::ProvisionerJobLog>>>),
    Incoming(Option<Result<Message, axum::Error>>),
    Ping,
}

/// Sends the follow's lines until it ends, then closes with the code that says why.
async fn stream(mut socket: WebSocket, mut follow: Follow) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let (code, reason) = loop {
        let event = tokio::select! {
            batch = follow.next_batch() => Event::Batch(batch),
            incoming = socket.recv() => Event::Incoming(incoming),
            _ = ping.tick() => Event::Ping,
        };
        match event {
            Event::Batch(Some(Ok(lines))) => {
                for line in lines {
                    let Ok(text) = serde_json::to_string(&line) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
            }
            Event::Batch(Some(Err(e))) => {
                tracing::warn!(error = %e, "following a job log failed");
                break (close_code::ERROR, "Internal error reading the log.");
            }
            Event::Batch(None) if follow.revoked() => {
                break (close_code::POLICY, "You may no longer read this log.");
            }
            Event::Batch(None) => break (close_code::NORMAL, "done"),
            // The client went away or closed: nothing more to send.
            Event::Incoming(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
            Event::Incoming(Some(Ok(_))) => {}
            Event::Ping => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    let frame = CloseFrame { code, reason: reason.into() };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    // Wait for the client's close reply, so it sees a clean close.
    let _ =
        tokio::time::timeout(CLOSE_GRACE, async { while let Some(Ok(_)) = socket.recv().await {} })
            .await;
}
