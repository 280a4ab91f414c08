//! A job's log as server-sent events, for the pages that follow a build or an import live:
//! `log` per line, then `done` when the job ends (or the caller may no longer read it). Every
//! event carries data: browsers drop events without any.

use std::convert::Infallible;

use atrium_domain::job_logs::JobLog;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};

use crate::WebState;

/// Follows `log` from its start; `what` names the job in the server's log when following fails.
pub fn follow(state: &WebState, log: JobLog, what: &'static str) -> Response {
    let follow = log.follow(state.domain.clone(), 0);
    let events = stream::unfold(Some(follow), move |follow| async move {
        let mut follow = follow?;
        let batch = match follow.next_batch().await {
            Some(Ok(lines)) => {
                let events: Vec<Event> = lines
                    .into_iter()
                    .map(|l| Event::default().event("log").data(l.output.replace('\r', "")))
                    .collect();
                return Some((stream::iter(events), Some(follow)));
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "following {what} failed");
                vec![Event::default().event("done").data("end")]
            }
            None => vec![Event::default().event("done").data("end")],
        };
        Some((stream::iter(batch), None))
    })
    .flatten()
    .map(Ok::<_, Infallible>);
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
