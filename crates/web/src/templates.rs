//! Templates: the templates the caller may read, across their organizations, each a link to
//! its page ([`crate::template_page`]).

use askama::Template;
use askama_web::WebTemplate;
use atrium_domain::{Page, templates};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new().route("/templates", get(list))
}

pub struct TemplateRow {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub organization: String,
    pub description: String,
    pub deprecated: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "templates.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    templates: Vec<TemplateRow>,
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
    let (rows, problem) = match templates::list_all(&state, &signed.caller, &q, page).await {
        Ok(list) => (
            list.into_iter()
                .map(|t| TemplateRow {
                    id: t.id.to_string(),
                    name: t.name,
                    display_name: t.display_name,
                    organization: t.organization_display_name,
                    description: t.description,
                    deprecated: t.deprecated,
                })
                .collect(),
            None,
        ),
        Err(e) if e.status() == 400 => (Vec::new(), Some(Problem::of(e))),
        Err(e) => return Err(signed.fail(e)),
    };
    Ok(ListPage { chrome: signed.chrome("templates"), q, templates: rows, problem }.into_response())
}
