//! Audit: the audit rows the caller may read, with Coder's audit filter language.

use askama::Template;
use askama_web::WebTemplate;
use atrium_domain::{Page, audit_log};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new().route("/audit", get(list))
}

pub struct AuditRow {
    pub time: String,
    pub user: String,
    pub action: String,
    pub resource_type: String,
    pub resource_target: String,
    pub status_code: i32,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    rows: Vec<AuditRow>,
    count: i64,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
}

async fn list(
    State(state): State<WebState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let q = query.q.unwrap_or_default();
    let page = Page { limit: Some(100), offset: 0 };
    let (rows, count, problem) = match audit_log::list(&state, &signed.caller, &q, page).await {
        Ok(listed) => (
            listed
                .audit_logs
                .into_iter()
                .map(|a| AuditRow {
                    time: a
                        .time
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    user: a.user.map(|u| u.username).unwrap_or_default(),
                    action: a.action,
                    resource_type: a.resource_type,
                    resource_target: a.resource_target,
                    status_code: a.status_code,
                })
                .collect(),
            listed.count,
            None,
        ),
        Err(e) if e.status() == 400 => (Vec::new(), 0, Some(Problem::of(e))),
        Err(e) => return Err(signed.fail(e)),
    };
    Ok(ListPage { chrome: signed.chrome("audit"), q, rows, count, problem }.into_response())
}
